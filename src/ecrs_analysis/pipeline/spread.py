"""``ecrs spread``: the workflow once per training seed, on one cohort and one split.

Two builds of the same commit on two x86 machines give different AUCs: float sums differ
between CPUs, and training amplifies the difference. What remains of that is measured here,
not hidden. :func:`run_spread` runs the workflow k times into ``results/<profile>/spread/seed-<k>/``
with ``training_seed`` = 0, 1, ..., k-1 (``config.seeds``: only the training randomness moves —
CV folds, weight initialisation, batch order, augmentation, the SVM's shuffles; the cohort, the
split and the preprocessed volumes are the same), asking each run only for the tables of
``ecrs summary`` (no chapter, no explanation, no proteomics, no book). Offset 0 is the profile's own
training. The runs share the profile's synthetic cohort and volume cache (``cohorts/``, ``cache/``
are links to ``results/<profile>/``), so no seed generates or preprocesses the cohort again; the
cohort, split and preprocess jobs of each run only validate and index it.

``report.spread`` turns the runs' headline tables into the spread table the book shows.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecrs_analysis.config.params import load_params
from ecrs_analysis.config.seeds import MAX_TRAINING_SEED, training_seed
from ecrs_analysis.paths import ResultPaths, default_results_dir
from ecrs_analysis.pipeline.progress import summary_text
from ecrs_analysis.pipeline.record import git_state
from ecrs_analysis.pipeline.runlock import RunBusyError, acquire_run_lock
from ecrs_analysis.pipeline import runner  # runner.run_book is looked up at each call (the tests stand in for it)
from ecrs_analysis.pipeline.runner import RunError, RunOptions, repo_root

__all__ = ["SpreadOptions", "SpreadRuns", "SHARED_FOLDERS", "headline_tables", "share_data", "cpu_model", "run_spread"]

SHARED_FOLDERS = ("cohorts", "cache")
"""What every seed's run reads from the profile's results folder instead of making it again: the
synthetic cohort (keyed by the generator's parameters and ``seed``) and the content-keyed volume cache."""


@dataclass(frozen=True)
class SpreadOptions:
    """What ``ecrs spread`` runs: ``seeds`` training seeds (offsets 0 ... seeds-1) of ``profile``."""

    profile: str = "demo"
    seeds: int = 3
    overrides: Mapping[str, Any] = field(default_factory=dict)
    results_dir: Path | None = None
    cores: int | None = None
    progress: bool = True


@dataclass(frozen=True)
class SpreadRuns:
    """The finished runs: each offset's results folder, and how they were made (the spread table's provenance)."""

    results: Path
    folders: dict[int, Path]
    record: dict[str, Any]


def headline_tables(paths: ResultPaths) -> tuple[Path, ...]:
    """The evaluation tables ``report.summary.evidence_summary`` reads: the targets of one spread run."""
    return (
        paths.performance("li2025", "deep", "learning"), paths.performance("li2025", "deep", "auc"), paths.performance("li2025", "integrated", "auc"),
        paths.performance("mtlnet2025", "mtlnet", "reported_vs_reproduced"), paths.performance("mtlnet2025", "mtlnet", "learning"),
    )


def share_data(run: Path, results: Path) -> None:
    """Make ``run/cohorts`` and ``run/cache`` relative links to those of ``results`` (created when absent).

    A folder of that name already in ``run`` (a run made before the links) is left as it is.
    """
    run.mkdir(parents=True, exist_ok=True)
    for name in SHARED_FOLDERS:
        target, link = results / name, run / name
        target.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() and link.resolve() != target.resolve():
            link.unlink()
        if not link.exists() and not link.is_symlink():
            link.symlink_to(os.path.relpath(target, run), target_is_directory=True)


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere, or ``"unknown CPU"``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown CPU"


def _torch_cpu() -> dict[str, Any]:
    """torch's version and the CPU kernels it dispatches to (``AVX2``, ``AVX512``...): the likely cause of cross-machine drift."""
    import torch

    return {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch_threads": torch.get_num_threads()}


def _check(opts: SpreadOptions) -> None:
    if not 2 <= opts.seeds <= MAX_TRAINING_SEED + 1:
        raise ValueError(f"--seeds {opts.seeds}: a spread needs 2 to {MAX_TRAINING_SEED + 1} training seeds")
    if "training_seed" in opts.overrides:
        raise ValueError("--set training_seed: `ecrs spread` sets the training seed of each run itself (0 ... seeds-1); leave it out")
    load_params(opts.profile, dict(opts.overrides))  # every parameter error before anything runs


def run_spread(opts: SpreadOptions) -> SpreadRuns:
    """Run the workflow for training seeds 0 ... ``opts.seeds``-1 of a profile; returns the runs' folders and their record.

    Holds the profile's results folder (its run lock) for the whole spread: a build of the
    profile cannot start meanwhile, nor touch the cohort and cache the runs share.

    Raises
    ------
    ValueError
        For fewer than 2 seeds, or ``training_seed`` among the overrides.
    ecrs_analysis.config.params.ParamsError
        For a wrong profile or override.
    ecrs_analysis.pipeline.runner.RunError
        When a run fails (the message names the job) or the profile's results folder is busy.
    """
    _check(opts)
    results = Path(opts.results_dir or default_results_dir(opts.profile)).resolve()
    paths = ResultPaths(results)
    git = git_state(repo_root())  # the code the runs start from
    stamp = f"spread-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    try:
        lock = acquire_run_lock(results, profile=opts.profile, run=stamp)
    except RunBusyError as exc:
        raise RunError(f"{exc} (`ecrs spread` shares the profile's cohort and cache with its build: run it after the build ends)") from None
    folders: dict[int, Path] = {}
    seconds: dict[int, float] = {}
    stages: dict[int, list[Any]] = {}
    try:
        for offset in range(opts.seeds):
            folder = paths.spread_run(offset)
            share_data(folder, results)
            targets = tuple(f"file:{p.relative_to(results).as_posix()}" for p in headline_tables(paths))
            if opts.progress:
                print(f"[ecrs] spread: training seed {offset + 1} of {opts.seeds} (training_seed={offset}) -> {folder}", flush=True)
            t0 = time.perf_counter()
            out = runner.run_book(RunOptions(profile=opts.profile, overrides={**opts.overrides, "training_seed": offset}, targets=targets, results_dir=folder,
                                      build=False, cores=opts.cores, progress=opts.progress))
            folders[offset], seconds[offset] = folder, round(time.perf_counter() - t0, 1)
            stages[offset] = out.get("stage_times") or []
            if opts.progress:
                print(summary_text(out), flush=True)
    finally:
        lock.release()
    params = load_params(opts.profile, dict(opts.overrides))
    record = {
        "profile": opts.profile,
        "seeds": list(folders),
        "training_seeds": {str(k): training_seed(params["seed"], k) for k in folders},
        "seed": params["seed"],
        "overrides": dict(opts.overrides),
        "params": {k: v for k, v in params.items() if k != "training_seed"},
        "runs": {str(k): str(f.relative_to(results)) for k, f in folders.items()},
        "seconds": {str(k): s for k, s in seconds.items()},
        "stage_times": {str(k): t for k, t in stages.items()},  # per run: each stage's jobs, wall and job time (what a spread costs)
        "git": git,
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        **_torch_cpu(),
        "made": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": f"ecrs spread --profile {opts.profile} --seeds {opts.seeds}" + "".join(f" --set {k}={v}" for k, v in opts.overrides.items()),
    }
    return SpreadRuns(results=results, folders=folders, record=record)

