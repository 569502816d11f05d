"""The CPU kernels every job of a run uses: pinned to AVX2 so that x86 machines train the same networks.

PyTorch picks its CPU kernels at run time from the widest instruction set the processor has
(ATen's dispatch: AVX-512 or AVX2; oneDNN, which runs the 3D convolutions: AVX-512, AVX2, ...;
MKL, which runs the linear layers: its own code path per processor). Each choice sums floats in
another order, so the same seed on an AVX-512 server and on an AVX2-only laptop gives weights
that differ in the last bits after one step and, after training, AUCs that differ in the second
decimal (measured: ``benchmarks/bench_isa.py``; the README's reproducibility section). Pinning
all three to AVX2 — which every x86-64 server and laptop since about 2015 has — makes the kernels
the same on both. The cost is the speed AVX-512 would have given (same benchmark).

What pinning cannot remove: a processor without AVX2 (falls back to its own kernels), another
architecture (ARM), a GPU, another PyTorch/oneDNN/MKL version, or a different thread count
(``ecrs run`` gives every CPU training job one thread on the demo and smoke profiles).

The variables must be in the environment before PyTorch loads its kernels, so ``ecrs run`` sets
them in its own process before it starts Snakemake, and every job (and every notebook kernel)
inherits them. ``ECRS_CPU_KERNELS=native`` leaves the machine's own choice (faster, not portable);
a variable the user has already set is kept.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

__all__ = ["PINNED_ENV", "pin_cpu_kernels", "kernel_settings"]

PINNED_ENV: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",  # PyTorch's own vectorised kernels
    "DNNL_MAX_CPU_ISA": "AVX2",  # oneDNN (convolutions); older name, read by every oneDNN 3.x
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # the same, newer name
    "MKL_CBWR": "AVX2",  # MKL's conditional numerical reproducibility: one code path on every CPU with AVX2
}
_SWITCH = "ECRS_CPU_KERNELS"


def pin_cpu_kernels(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set :data:`PINNED_ENV` in ``environ`` (default ``os.environ``) unless ``ECRS_CPU_KERNELS=native``.

    Variables already set are kept (a user's own choice wins). Returns what the jobs will see
    (:func:`kernel_settings`).

    Raises
    ------
    ValueError
        When ``ECRS_CPU_KERNELS`` is neither ``pinned`` nor ``native``.
    """
    env = os.environ if environ is None else environ
    mode = env.get(_SWITCH, "pinned")
    if mode not in ("pinned", "native"):
        raise ValueError(f"{_SWITCH}={mode!r}: use 'pinned' (the default: AVX2 kernels on every x86 machine) or 'native' (this machine's fastest, not portable)")
    if mode == "pinned":
        for key, value in PINNED_ENV.items():
            env.setdefault(key, value)
    return kernel_settings(env)


def kernel_settings(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """The kernel-selecting variables as set now (recorded in each run's and job's provenance)."""
    env = os.environ if environ is None else environ
    return {key: env.get(key, "") for key in (_SWITCH, *PINNED_ENV)}
