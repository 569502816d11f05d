"""The CPU kernels: what ``ecrs run`` sets with ECRS_CPU_KERNELS=portable, and that PyTorch and oneDNN obey it in a job's process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ecrs_analysis.pipeline.cpu_kernels import PINNED_ENV, kernel_settings, pin_cpu_kernels


def test_portable_sets_every_variable_and_keeps_the_users_own() -> None:
    env = {"ECRS_CPU_KERNELS": "portable", "MKL_CBWR": "COMPATIBLE"}
    seen = pin_cpu_kernels(env)
    assert env["ATEN_CPU_CAPABILITY"] == "avx2" and env["DNNL_MAX_CPU_ISA"] == "AVX2" and env["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert env["MKL_CBWR"] == "COMPATIBLE"  # a user's setting wins
    assert seen == kernel_settings(env) and seen["ECRS_CPU_KERNELS"] == "portable"


def test_the_default_leaves_the_machines_choice_and_a_typo_is_an_error() -> None:
    for env in ({}, {"ECRS_CPU_KERNELS": "native"}):
        pin_cpu_kernels(env)
        assert not set(PINNED_ENV) & set(env)
    with pytest.raises(ValueError, match="ECRS_CPU_KERNELS='fast'.*native.*portable"):
        pin_cpu_kernels({"ECRS_CPU_KERNELS": "fast"})


_PROBE = """
import torch
conv = torch.nn.Conv3d(8, 16, 3, padding=1)  # large enough for PyTorch to hand it to oneDNN
conv(torch.rand(2, 8, 16, 16, 16)).sum().backward()
print("ATEN", torch.backends.cpu.get_cpu_capability())
"""


def _has_avx2() -> bool:
    try:
        return " avx2" in open("/proc/cpuinfo", encoding="utf-8").read()
    except OSError:
        return False


@pytest.mark.skipif(not _has_avx2(), reason="this processor has no AVX2: pinning cannot choose AVX2 kernels here")
def test_a_pinned_process_runs_avx2_kernels_in_aten_and_onednn() -> None:
    env = {"PATH": "/usr/bin:/bin", "ONEDNN_VERBOSE": "1", "ECRS_CPU_KERNELS": "portable"}
    pin_cpu_kernels(env)
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True).stdout
    assert "ATEN AVX2" in out
    isa = [line for line in out.splitlines() if ",isa:" in line]
    assert isa and isa[0].rstrip().endswith("isa:Intel AVX2"), isa  # oneDNN's own report of the instruction set it runs
