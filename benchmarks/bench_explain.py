"""Explanation jobs: CPU seconds per (study, network) job and per explained patient, on a built results folder.

Runs every explanation job of ``workflow/rules/explain.smk`` (Grad-CAM of the scoring model,
the random-weight map and another fold's map, positive and negative controls, the deletion
curve) on a copy of ``results/<profile>/`` with ``explain.n_per_set`` set, one thread, and
prints process CPU time.  Build the folder first (``ecrs run --profile smoke``).  To extrapolate
to the demo profile, scale the network part by its input size and width and the CT part by
the CT's voxel count (see the report of the explanation stage).

    .venv/bin/python benchmarks/bench_explain.py [--results results/smoke] [--profile smoke] [--n-per-set 12]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from ecrs_analysis.config.declared import declared
from ecrs_analysis.config.params import load_params
from ecrs_analysis.data import study as S
from ecrs_analysis.jobs.explain import explain_job
from ecrs_analysis.jobs.explain_rules import explain_jobs
from ecrs_analysis.pipeline.workflow import job_keys


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default="results/smoke")
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--n-per-set", type=int, default=12)
    a = ap.parse_args()
    src = Path(a.results)
    if not (src / "li2025" / "scores_deep.csv").exists():
        print(f"no built results in {src}: run `ecrs run --profile {a.profile}` first")
        return
    torch.set_num_threads(1)
    cfg = load_params(a.profile, {"explain.n_per_set": a.n_per_set})
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / src.name
        shutil.copytree(src, root, ignore=shutil.ignore_patterns("explain", "executed", "book", "logs", "provenance", "failed"), symlinks=True)
        paths = S.ResultPaths(root)
        print(f"{'job':<24} {'patients':>8} {'CPU s':>7} {'CPU s/patient':>14}")
        total = 0.0
        for study, model in explain_jobs(cfg):
            t0 = time.process_time()
            folder = explain_job(declared(cfg, job_keys("explain", study)), paths, study, model)
            cpu = time.process_time() - t0
            n = len(pd.read_csv(folder / "explained.csv"))
            total += cpu
            print(f"{study + ' ' + model:<24} {n:>8} {cpu:>7.1f} {cpu / max(n, 1):>14.2f}")
        print(f"{'all jobs':<24} {'':>8} {total:>7.1f}")


if __name__ == "__main__":
    main()
