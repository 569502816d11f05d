"""The CPU kernels a run's jobs use: the machine's own (fast), or pinned to AVX2 (the same on every x86 machine).

PyTorch picks its CPU kernels at run time from the widest instruction set the processor has
(ATen's dispatch: AVX-512 or AVX2; oneDNN, which runs the 3D convolutions: AVX-512, AVX2, ...;
MKL, which runs the linear layers: its own code path per processor). Each choice sums floats in
another order, so the same seed on an AVX-512 server and on an AVX2-only laptop gives weights
that differ in the last bits after one step and, after training, AUCs that differ in the second
decimal (``benchmarks/bench_isa.py``: oneDNN at AVX2 trains other weights than oneDNN at AVX-512).

``ECRS_CPU_KERNELS=portable`` pins all three to AVX2 — which every x86-64 server and laptop since
about 2015 has — so that an AVX-512 machine runs the kernels an AVX2-only machine runs, and two
machines train the same networks. It is not the default because it is not cheap: oneDNN's AVX2
convolutions made a 3D-ResNet training step 1.5× as long on an AVX-512 machine (same benchmark),
which would take the fresh demo build past its 15-minute budget. The default (``native``) leaves
each machine its fastest kernels; what that costs in agreement between machines is measured by the
seed spread (``ecrs spread``), and every run records which kernels it used.

What pinning cannot remove: a processor without AVX2, another architecture (ARM), a GPU, another
PyTorch/oneDNN/MKL version, or another thread count (``ecrs run`` gives every CPU training job one
thread on the demo and smoke profiles).

The variables must be in the environment before PyTorch loads its kernels, so ``ecrs run`` sets
them in its own process before it starts Snakemake, and every job (and every notebook kernel)
inherits them. A variable the user has already set is kept.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

__all__ = ["PINNED_ENV", "MODES", "pin_cpu_kernels", "kernel_settings"]

PINNED_ENV: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",  # PyTorch's own vectorised kernels
    "DNNL_MAX_CPU_ISA": "AVX2",  # oneDNN (convolutions); older name, read by every oneDNN 3.x
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # the same, newer name
    "MKL_CBWR": "AVX2",  # MKL's conditional numerical reproducibility: one code path on every CPU with AVX2
}
_SWITCH = "ECRS_CPU_KERNELS"
MODES = ("native", "portable")
"""Values of ``ECRS_CPU_KERNELS``: ``native`` (the default: this machine's fastest) or ``portable`` (AVX2 everywhere)."""


def pin_cpu_kernels(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """With ``ECRS_CPU_KERNELS=portable``, set :data:`PINNED_ENV` in ``environ`` (default ``os.environ``).

    Variables already set are kept (a user's own choice wins). Returns what the jobs will see
    (:func:`kernel_settings`).

    Raises
    ------
    ValueError
        When ``ECRS_CPU_KERNELS`` is not one of :data:`MODES`.
    """
    env = os.environ if environ is None else environ
    mode = env.get(_SWITCH, "native")
    if mode not in MODES:
        raise ValueError(f"{_SWITCH}={mode!r}: use 'native' (the default: this machine's fastest kernels) or 'portable' "
                         "(AVX2 kernels on every x86 machine: the same numbers on two machines, slower)")
    if mode == "portable":
        for key, value in PINNED_ENV.items():
            env.setdefault(key, value)
    return kernel_settings(env)


def kernel_settings(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """The kernel-selecting variables as set now (recorded in each run's and job's provenance)."""
    env = os.environ if environ is None else environ
    return {key: env.get(key, "") for key in (_SWITCH, *PINNED_ENV)}
