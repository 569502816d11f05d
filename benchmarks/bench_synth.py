"""Synthetic cohort generator: volumes per second, against a baseline measured in the same run.

Baseline: the same generator at the native scanner resolution with one process (the slowest
configuration); rows: the profiles' coarser grids and two worker processes.

    .venv/bin/python benchmarks/bench_synth.py [--n 24]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ecrs_analysis.data.synth.cohort import generate_cohort


def measure(n: int, spacing_scale: float, jobs: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        generate_cohort(Path(d) / "c", design="li2025", seed=1, n_patients=n, spacing_scale=spacing_scale, n_jobs=jobs)
        return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=24)
    args = ap.parse_args()
    configs = [("native 1.0x, 1 process (baseline)", 1.0, 1), ("demo 3.0x, 1 process", 3.0, 1), ("demo 3.0x, 2 processes", 3.0, 2), ("smoke 5.0x, 2 processes", 5.0, 2)]
    rows = [(name, measure(max(args.n // (4 if scale == 1.0 else 1), 8), scale, jobs)) for name, scale, jobs in configs]
    base = rows[0][1]
    print(f"{'configuration':<38} {'volumes/s':>10} {'x baseline':>11}")
    for name, v in rows:
        print(f"{name:<38} {v:>10.2f} {v / base:>11.1f}")


if __name__ == "__main__":
    main()
