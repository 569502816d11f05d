"""The run record: parameters, code version, package versions, input hashes and timings of one run."""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecrs_analysis.checkout import CheckoutError, checkout_root
from ecrs_analysis.pipeline.cpu_kernels import kernel_settings
from ecrs_analysis.hashing import hash_params

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KEY_PACKAGES", "git_state", "package_versions", "cpu_model", "device_description", "inputs_table"]

KEY_PACKAGES = (
    "ecrs-analysis", "torch", "monai", "SimpleITK", "nibabel", "numpy", "scipy", "pandas", "scikit-learn",
    "statsmodels", "gseapy", "matplotlib", "seaborn", "papermill", "jupyter-book", "Sphinx", "myst-nb",
)


def git_state(repo: str | Path | None = None) -> dict[str, Any]:
    """Commit hash and whether tracked files differ from it (``dirty``); ``None`` outside a git checkout.

    ``repo`` defaults to :func:`~ecrs_analysis.checkout.checkout_root`, the checkout whose
    ``params/`` the run read.
    """
    if repo is None:
        try:
            repo = checkout_root()
        except CheckoutError:
            return {"commit": None, "dirty": None}

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
        return {"commit": commit, "dirty": dirty}
    except (subprocess.CalledProcessError, FileNotFoundError):
        return {"commit": None, "dirty": None}


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = md.version(n)
        except md.PackageNotFoundError:
            out[n] = None
    return out


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo``; the platform's processor string elsewhere): numbers
    trained on two machines are compared with it (``ecrs_analysis.pipeline.cpu_kernels``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_description() -> dict[str, Any]:
    """CPU and, when the job used torch, its threads, ATen kernels and CUDA device.

    torch is asked only when the job has already loaded it (``sys.modules``): a job that never
    imported torch ran no torch kernel, and importing torch here only to say so cost every such job
    about 1.5 s of a build's startup (the tables, claims and chapter jobs, most of a build's ~60 jobs).
    """
    info: dict[str, Any] = {"platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count(), "cpu_model": cpu_model(),
                            "cpu_kernels": kernel_settings()}
    torch = sys.modules.get("torch")
    if torch is None:
        info["torch"] = "not loaded by this job"
        info["cuda"] = None
        return info
    info["torch_threads"] = torch.get_num_threads()
    info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()  # the kernels ATen dispatched to (AVX2 when pinned)
    info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return info


def inputs_table(record: dict[str, Any]) -> pd.DataFrame:
    """One row per study of a run record: cohort kind, patients, files hashed, the manifest's sha256
    and one combined sha256 over every image and mask file."""
    import pandas as pd

    rows = []
    for study, info in record["inputs"].items():
        rows.append({
            "study": study,
            "cohort": "synthetic" if info["synthetic"] else "real",
            "patients": info["n_patients"],
            "files hashed": len(info["sha256"]),
            "manifest sha256": info["sha256"][info["files"]["manifest"]][:16] + "…",
            "all files sha256": hash_params(sorted(info["sha256"].values()), length=16) + "…",
        })
    return pd.DataFrame(rows).set_index("study")
