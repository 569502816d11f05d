"""Running ``workflow/Snakefile`` through Snakemake's Python API (local cores or a cluster executor).

Only Snakemake's public interfaces are used: :class:`snakemake.api.SnakemakeApi` and its workflow
and DAG APIs (``dag``, ``execute_workflow``, ``unlock``), the settings classes, and the structured
events a logger plugin receives (:mod:`ecrs_analysis.pipeline.progress_plugin`): the plan and the
failed jobs come from the fields of those events, not from Snakemake's printed text.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecrs_analysis.pipeline.cluster import ClusterSettings

if TYPE_CHECKING:
    from ecrs_analysis.pipeline.progress import RunProgress

__all__ = ["WorkflowOutcome", "run_workflow"]


@dataclass
class WorkflowOutcome:
    ok: bool
    planned: dict[str, int] = field(default_factory=dict)
    """Jobs per rule that the workflow planned (dry run) or ran."""
    message: str = ""


class _Silence(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextlib.contextmanager
def _silenced(logger: logging.Logger) -> Iterator[None]:
    """Drop every record logged to ``logger`` meanwhile (a filter on the logger acts before any of its handlers)."""
    mute = _Silence()
    logger.addFilter(mute)
    try:
        yield
    finally:
        logger.removeFilter(mute)


def run_workflow(
    *,
    root: Path,
    workdir: Path,
    results: Path,
    config_file: Path,
    targets: Sequence[str],
    dry_run: bool = False,
    cores: int = 1,
    executor: str = "local",
    jobs: int | None = None,
    force: Sequence[str] = (),
    cluster: ClusterSettings | None = None,
    progress: RunProgress | None = None,
    unlock: bool = False,
) -> WorkflowOutcome:
    """Plan or run the workflow for ``targets`` (output files); never raises for a failed job.

    The configuration reaches Snakemake as a file only (``config_file``): Snakemake hands a
    config *file* to every job on a cluster as it is, while an in-memory config dict goes onto
    each job's command line and comes back with every nested value turned into a string.
    Snakemake keeps its state (``.snakemake/``: locks, metadata, cluster logs) in ``workdir``,
    the run's results folder, so two results folders never share locks.

    With ``progress`` (not in a dry run), the terminal shows that object's lines and
    Snakemake's own output goes to its run log (see :mod:`ecrs_analysis.pipeline.progress`).
    With ``unlock``, Snakemake's locks in ``workdir`` are released first (``DAGApi.unlock``): the
    caller holds the results folder (:mod:`ecrs_analysis.pipeline.runlock`), so they are a killed run's.
    """
    from snakemake.api import SnakemakeApi
    from snakemake.logging import logger as sm_logger
    from snakemake.settings.types import ConfigSettings, DAGSettings, ExecutionSettings, OutputSettings, Quietness

    from ecrs_analysis.pipeline.progress_plugin import RunEvents, plugin_settings

    cluster = cluster or ClusterSettings()
    started = time.time()
    events = RunEvents()
    progress = progress if not dry_run else None
    output: dict[str, Any] = dict(dryrun=dry_run, quiet={Quietness.PROGRESS} if not dry_run else None, printshellcmds=False, show_failed_logs=False)
    output.update(progress.output_settings(events) if progress else {"log_handler_settings": plugin_settings(events=events)})
    failure: BaseException | None = None
    try:
        with SnakemakeApi(OutputSettings(**output)) as api:
            if progress:
                progress.attach(sm_logger)
            executor_settings = None
            if executor != "local":
                from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry

                try:
                    plugin = ExecutorPluginRegistry().get_plugin(executor)
                except Exception:
                    return WorkflowOutcome(False, message=f"no Snakemake executor plugin {executor!r} is installed; e.g. pip install snakemake-executor-plugin-{executor}")
                try:
                    executor_settings = plugin.settings_cls(**cluster.plugin_settings) if plugin.settings_cls is not None else None
                except TypeError as exc:
                    return WorkflowOutcome(False, message=f"executor-settings of the cluster profile: {exc}; the {executor} plugin's settings are listed by `snakemake --help` (--{executor}-...)")
            resources = cluster.resource_settings(cores=cores, nodes=jobs if executor != "local" else None)
            wf = api.workflow(
                resource_settings=resources,
                config_settings=ConfigSettings(configfiles=[config_file]),
                snakefile=root / "workflow" / "Snakefile",
                workdir=workdir,
            )
            run_with = dict(executor=executor, executor_settings=executor_settings)
            every = _every_output(wf, DAGSettings, targets, run_with=run_with, unlock=unlock, resources=resources, logger=sm_logger)
            # force_incomplete: a job killed mid-way (SIGKILL, preemption) is re-made, never trusted
            dag = wf.dag(DAGSettings(targets=frozenset([*targets, *every]), forcerun=frozenset(force), force_incomplete=True))
            try:
                dag.execute_workflow(
                    pseudo_executor="dryrun" if dry_run else None, execution_settings=ExecutionSettings(keep_going=False), **run_with,
                )
            except Exception as exc:  # a failed job or a workflow error: report the job and its message
                failure = exc
    finally:
        if progress:
            progress.detach(sm_logger)
    # the API's exit has handed every event still queued to the logger plugin: ``events`` is complete
    if failure is not None:
        return WorkflowOutcome(False, planned=events.planned, message=_failure_message(events.failed_rules, failure, results, started))
    return WorkflowOutcome(True, planned=events.planned)


def _every_output(wf: Any, dag_settings: Any, targets: Sequence[str], *, run_with: dict[str, Any], unlock: bool, resources: Any, logger: logging.Logger) -> list[str]:
    """Every declared output of the jobs that ``targets`` need (and, with ``unlock``, Snakemake's stale locks released).

    They are passed to Snakemake as targets too: on an up-to-date build Snakemake 9 re-makes a
    deleted intermediate only when it is a target (``DAG.update_needrun`` checks the missing
    outputs of target jobs; others only when a job downstream runs anyway), so without this a
    deleted checkpoint or table would stay deleted.

    They are the outputs of a silent dry run that forces every job (``forceall``): Snakemake puts
    the outputs of the jobs it would run into ``execute_workflow``'s ``updated_files``. A plan that
    fails here is left to the real plan, which reports it.
    """
    probe = wf.dag(dag_settings(targets=frozenset(targets), forceall=True, force_incomplete=True))
    every: list[str] = []
    with _silenced(logger):
        if unlock:
            cores = resources.cores
            probe.unlock()
            resources.cores = cores  # DAGApi.unlock sets the shared resource settings' cores to 1 for itself
        try:
            probe.execute_workflow(pseudo_executor="dryrun", updated_files=every, **run_with)
        except Exception:
            return []
    return sorted({str(f) for f in every})


ERROR_LINE = re.compile(r"(Error|Exception|error:|Traceback|Killed|CANCELLED|TIMEOUT|OUT_OF_MEMORY)")


def first_error_lines(log: Path, *, n: int = 6) -> list[str]:
    """The first line of ``log`` that looks like an error, and up to ``n - 1`` lines after it."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    for i, line in enumerate(lines):
        if ERROR_LINE.search(line):
            return [ln for ln in lines[i : i + n] if ln.strip()]
    return []


def _cluster_failures(results: Path, since: float) -> list[str]:
    """The cluster executor's logs of jobs that failed in this run (e.g. ``.snakemake/slurm_logs/``)."""
    out = []
    for log in sorted((results / ".snakemake").glob("*_logs/**/*.log")):
        if log.stat().st_mtime < since:
            continue
        first = first_error_lines(log)
        if first:
            out.append("\n".join([f"job log {log}:", *(f"  {ln}" for ln in first)]))
    return out


def _failure_message(failed_rules: Sequence[str], exc: BaseException, results: Path, since: float) -> str:
    """The failed job(s): the last line each stage printed, and where its log is.

    ``failed_rules``: the rules of the jobs that failed, from Snakemake's ``JOB_ERROR`` events.
    """
    from snakemake.exceptions import LockException

    if isinstance(exc, LockException) or "Directory cannot be locked" in str(exc):
        return (f"Snakemake's state in {results / '.snakemake'} is locked by a process that is not an ecrs run of this folder "
                "(e.g. snakemake started by hand); stop it, or if none is running remove that folder's locks/ and run again")
    lines = []
    for log in sorted((results / "logs").glob("*.log")):
        if log.stat().st_mtime < since:
            continue
        mine = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.startswith("[ecrs]") and " failed: " in ln]
        if mine:
            lines.append(f"{mine[-1].removeprefix('[ecrs] ')}\n  (log: {log})")
    if lines:
        return "\n".join(lines)
    remote = _cluster_failures(results, since)
    if failed_rules or remote:
        head = f"job(s) of rule {', '.join(dict.fromkeys(failed_rules))} failed" if failed_rules else "the workflow stopped: a cluster job failed"
        return "\n".join([f"{head}; see the logs under {results / 'logs'}", *remote[:3]])
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"the workflow stopped: {first}"
