"""``ecrs run``: validate the parameters, run the Snakemake workflow, publish the book.

1. load ``params/<profile>.yaml`` of the checkout, apply ``--set`` and ``--data``, validate
   (every error at once, before anything runs);
2. write the workflow's config file and run ``workflow/Snakefile`` through Snakemake's
   Python API: each stage is a job that runs again only when a parameter it declared, an
   input it reads or package code it imports has changed; independent jobs run side by
   side on the local cores, or on a cluster through an executor plugin (``--executor slurm``);
3. publish the staged book (already rendered and checked for identifiers inside the
   results folder) as ``_build/html``: a failed run leaves the last good book in place.

A target (``--target 04_integrated_model``, ``--target deep_scores``) runs only what that
artefact needs and publishes nothing, so the published book never mixes runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ecrs_analysis.atomic import write_json, write_text
from ecrs_analysis.checkout import checkout_root
from ecrs_analysis.pipeline.cpu_kernels import kernel_settings, pin_cpu_kernels
from ecrs_analysis.pipeline.cluster import ClusterProfileError, ClusterSettings, read_cluster_profile
from ecrs_analysis.config.params import load_params
from ecrs_analysis.pipeline.runlock import RunBusyError, acquire_run_lock
from ecrs_analysis.pipeline.workflow import load_chapters
from ecrs_analysis.paths import ResultPaths, default_results_dir
from ecrs_analysis.pipeline.progress import RunProgress
from ecrs_analysis.pipeline.provenance import read_provenance
from ecrs_analysis.pipeline.snakemake import run_workflow

__all__ = ["RunError", "RunOptions", "repo_root", "run_book", "TARGETS"]

# Named targets besides the chapters: the file each one stands for, under results/<profile>/.
TARGETS = {
    "book": "book/html",
    "deep_scores": "li2025/scores_deep.csv",
    "cohorts": ("li2025/preprocessed.csv", "mtlnet2025/preprocessed.csv"),
}


class RunError(RuntimeError):
    """A run that stopped; the message says which step or job, and what to do."""


@dataclass(frozen=True)
class RunOptions:
    profile: str = "demo"
    overrides: dict[str, Any] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    data: tuple[str, ...] = ()
    results_dir: Path | None = None
    build: bool = True
    dry_run: bool = False
    cores: int | None = None
    executor: str = "local"
    jobs: int | None = None
    force: tuple[str, ...] = ()
    cluster_profile: Path | None = None
    progress: bool = True
    """Job lines, the overall line and epochs on stdout (``ecrs_analysis.pipeline.progress``)."""


def repo_root() -> Path:
    """The checkout the run works in: the same one ``params/`` and the recorded git commit come from."""
    root = checkout_root()
    if not (root / "workflow" / "Snakefile").exists():
        raise RunError(f"{root} has no workflow/Snakefile; run `ecrs run` inside an ecrs-book checkout")
    return root


def _data_overrides(data: tuple[str, ...], studies: list[str]) -> dict[str, Any]:
    """``--data PATH`` (every study) or ``--data STUDY=PATH`` -> manifest overrides."""
    out: dict[str, Any] = {}
    for item in data:
        study, sep, path = item.partition("=")
        targets = [study] if sep else studies
        path = path if sep else item
        if sep and study not in studies:
            raise RunError(f"--data {item}: unknown study {study!r}; studies: {studies}")
        for s in targets:
            out[f"studies.{s}.manifest"] = str(Path(path).resolve())
    return out


def _target_files(root: Path, results: Path, names: tuple[str, ...]) -> list[str]:
    chapters, appendix = load_chapters(root / "workflow" / "chapters.yaml")
    known = [c.name for c in chapters] + [appendix]
    files: list[str] = []
    for n in names or ("book",):
        if n.startswith("file:"):  # an artefact path under results/<profile>/
            files.append(str(results / n.removeprefix("file:")))
        elif n in known:
            files.append(str(results / "executed" / f"{n}.ipynb"))
        elif n in TARGETS:
            t = TARGETS[n]
            files.extend(str(results / x) for x in ((t,) if isinstance(t, str) else t))
        else:
            raise RunError(f"unknown target {n!r}; targets: {', '.join(known + sorted(TARGETS))}")
    return files


def _progress(opts: RunOptions, results: Path, run: str, cores: int) -> RunProgress | None:
    """What the terminal shows while the workflow runs (nothing in a dry run: the plan is printed)."""
    if opts.dry_run or not opts.progress:
        return None

    at_once = opts.jobs if opts.executor != "local" and opts.jobs else cores
    return RunProgress(results=results, run=run, stream=sys.stdout, cores=at_once)


def run_book(opts: RunOptions) -> dict[str, Any]:
    """Run the workflow for a profile and publish the book; returns the run record (or the plan).

    Raises
    ------
    RunError
        When parameters, a job, the book build or the privacy check fail. The previous
        ``_build/`` stays as it was.
    """
    root = repo_root()
    try:
        pin_cpu_kernels()  # before any job (or this process) loads PyTorch's kernels: see cpu_kernels
    except ValueError as exc:
        raise RunError(str(exc)) from None
    base = load_params(opts.profile)
    overrides = dict(opts.overrides)
    overrides.update(_data_overrides(opts.data, sorted(base["studies"])))
    params = load_params(opts.profile, overrides)
    results = Path(opts.results_dir or default_results_dir(opts.profile)).resolve()
    paths = ResultPaths(results)
    targets = _target_files(root, results, opts.targets)
    run = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    try:
        cluster = read_cluster_profile(opts.cluster_profile) if opts.cluster_profile else ClusterSettings()
    except ClusterProfileError as exc:
        raise RunError(str(exc)) from None
    executor = cluster.executor or opts.executor
    cores = opts.cores or os.cpu_count() or 1
    config_file = results / "workflow_config.yaml"
    wf_config = {
        "profile": opts.profile,
        "root": str(root),
        "results": str(results),
        "python": sys.executable,
        "config_file": str(config_file),
        "params": params,
        "threads_per_training_job": 8 if opts.profile == "full" else 1,
        "gpus_per_training_job": 1 if opts.profile == "full" else 0,
        # locally the data stages use every core; on a cluster the login node's count means nothing:
        # one thread unless the cluster profile's set-threads asks for more
        "threads_per_data_job": cores if executor == "local" else 1,
    }
    if any(s.get("manifest") for s in params["studies"].values()):
        # a real cohort: everything the studies and this profile need is checked before anything is written
        from ecrs_analysis.config.params import params_model
        from ecrs_analysis.pipeline.preflight import check_studies  # lazy: loads SimpleITK and fits the clinical signature (scikit-learn); only for a real cohort

        check_studies(params_model(params))
    if opts.dry_run:
        return _plan(opts, root=root, results=results, wf_config=wf_config, targets=targets, cores=cores, executor=executor, cluster=cluster)
    try:
        lock = acquire_run_lock(results, profile=opts.profile, run=run)
    except RunBusyError as exc:
        raise RunError(str(exc)) from None
    try:
        if (line := lock.notice()) is not None:
            print(line, file=sys.stderr, flush=True)
        return _run_locked(opts, root=root, results=results, paths=paths, run=run, wf_config=wf_config, overrides=overrides, params=params,
                           targets=targets, cores=cores, executor=executor, cluster=cluster)
    finally:
        lock.release()


def _plan(opts: RunOptions, *, root: Path, results: Path, wf_config: dict[str, Any], targets: list[str], cores: int, executor: str, cluster: ClusterSettings) -> dict[str, Any]:
    """A dry run: the jobs that would run. Writes nothing into a results folder that does not exist yet."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ecrs-plan-") as tmp:
        config_file = Path(tmp) / "workflow_config.yaml"
        write_text(yaml.safe_dump(wf_config, sort_keys=False), config_file)
        # Snakemake's state of an existing results folder says what changed since its last run
        workdir = results if (results / ".snakemake").is_dir() else Path(tmp)
        outcome = run_workflow(
            root=root, workdir=workdir, results=results, config_file=config_file, targets=targets, dry_run=True, cores=cores,
            executor=executor, jobs=opts.jobs or cluster.jobs, force=opts.force, cluster=cluster,
        )
    if not outcome.ok:
        raise RunError(outcome.message)
    return {"plan": outcome.planned, "run": None}


def _run_locked(
    opts: RunOptions, *, root: Path, results: Path, paths: ResultPaths, run: str, wf_config: dict[str, Any], overrides: dict[str, Any],
    params: dict[str, Any], targets: list[str], cores: int, executor: str, cluster: ClusterSettings,
) -> dict[str, Any]:
    """The run itself, while this process holds the results folder."""
    config_file = Path(wf_config["config_file"])
    write_text(yaml.safe_dump(wf_config, sort_keys=False), config_file)
    write_json({"run": run, "profile": opts.profile, "overrides": overrides, "params": params, "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "python": sys.version.split()[0], "cpu_kernels": kernel_settings()}, results / "run.json")
    os.environ["ECRS_RUN_ID"] = run

    watch = _progress(opts, results, run, cores)
    outcome = run_workflow(
        root=root, workdir=results, results=results, config_file=config_file, targets=targets, cores=cores,
        executor=executor, jobs=opts.jobs or cluster.jobs, force=opts.force, cluster=cluster, progress=watch,
        unlock=True,  # this process holds the folder (runlock): Snakemake locks left in it are a killed run's
    )
    if not outcome.ok:
        raise RunError(outcome.message + (f"\n  (Snakemake's log: {watch.run_log})" if watch else ""))
    record = json.loads(paths.run_record.read_text(encoding="utf-8")) if paths.run_record.exists() else {}

    if watch:
        record.update(stage_times=watch.stage_times(), elapsed_s=round(watch.clock() - watch.started_at, 1), snakemake_log=str(watch.run_log))
    record["executed_jobs"] = sorted(name for name, rec in read_provenance(paths.provenance).items() if rec.get("run_id") == run)
    if opts.build and str(results / "book" / "html") in targets:
        from ecrs_analysis.report.publish import publish_book  # lazy: loads SimpleITK

        publish_book(results / "book" / "html", root)
        record["published"] = str(root / "_build" / "html" / "index.html")
    return record
