"""Running ``workflow/Snakefile`` through Snakemake's Python API (local cores or a cluster executor)."""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecrs_analysis.book.progress import RunProgress

__all__ = ["WorkflowOutcome", "run_workflow"]


@dataclass
class WorkflowOutcome:
    ok: bool
    planned: dict[str, int] = field(default_factory=dict)
    """Jobs per rule that the workflow planned (dry run) or ran."""
    message: str = ""


def _job_stats(text: str) -> dict[str, int]:
    """Parse Snakemake's "Job stats" table (rule, count)."""
    out: dict[str, int] = {}
    block = text.split("Job stats:", 1)
    if len(block) < 2:
        return out
    for line in block[1].splitlines()[3:]:
        m = re.match(r"^(\S+)\s+(\d+)\s*$", line.strip())
        if not m:
            if out:
                break
            continue
        if m.group(1) != "total":
            out[m.group(1)] = int(m.group(2))
    return out


def run_workflow(
    *,
    root: Path,
    config: dict[str, Any],
    config_file: Path,
    targets: Sequence[str],
    dry_run: bool = False,
    cores: int = 1,
    executor: str = "local",
    jobs: int | None = None,
    force: Sequence[str] = (),
    default_resources: dict[str, Any] | None = None,
    progress: RunProgress | None = None,
) -> WorkflowOutcome:
    """Plan or run the workflow for ``targets`` (output files); never raises for a failed job.

    With ``progress`` (not in a dry run), the terminal shows that object's lines and
    Snakemake's own output goes to its run log (see :mod:`ecrs_analysis.book.progress`).
    """
    from snakemake.api import SnakemakeApi
    from snakemake.logging import logger as sm_logger
    from snakemake.settings.types import ConfigSettings, DAGSettings, ExecutionSettings, OutputSettings, Quietness, ResourceSettings

    started = time.time()
    stream = io.StringIO()
    text_handler = logging.StreamHandler(stream)
    text_handler.setLevel(logging.INFO)
    output = dict(dryrun=dry_run, quiet={Quietness.PROGRESS} if not dry_run else None, printshellcmds=False, show_failed_logs=False)
    progress = progress if not dry_run else None
    try:
        with SnakemakeApi(OutputSettings(**{**output, **(progress.output_settings() if progress else {})})) as api:
            # added after the API has set up its own handlers (it clears the logger's handlers): the plan's text
            sm_logger.addHandler(text_handler)
            if progress:
                progress.attach(sm_logger)
            executor_settings = None
            if executor != "local":
                from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry

                try:
                    plugin = ExecutorPluginRegistry().get_plugin(executor)
                except Exception:
                    return WorkflowOutcome(False, message=f"no Snakemake executor plugin {executor!r} is installed; e.g. pip install snakemake-executor-plugin-{executor}")
                executor_settings = plugin.settings_cls() if plugin.settings_cls is not None else None
            resources = ResourceSettings(cores=cores, nodes=jobs if executor != "local" else None)
            if default_resources:
                from snakemake.resources import Resources

                exprs = [f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in default_resources.items()]
                resources = ResourceSettings(cores=cores, nodes=resources.nodes, default_resources=Resources.parse(exprs, allow_expressions=True, defaults="full"))
            wf = api.workflow(
                resource_settings=resources,
                config_settings=ConfigSettings(config=config, configfiles=[config_file] if config_file.exists() else []),
                snakefile=root / "workflow" / "Snakefile",
                workdir=root,
            )
            dag = wf.dag(DAGSettings(targets=frozenset(targets), forcerun=frozenset(force)))
            try:
                dag.execute_workflow(
                    executor=executor, pseudo_executor="dryrun" if dry_run else None, executor_settings=executor_settings,
                    execution_settings=ExecutionSettings(keep_going=False),
                )
            except Exception as exc:  # a failed job or a workflow error: report the job and its message
                text = stream.getvalue()
                return WorkflowOutcome(False, planned=_job_stats(text), message=_failure_message(text, exc, Path(config["results"]), started))
    finally:
        sm_logger.removeHandler(text_handler)
        if progress:
            progress.detach(sm_logger)
    return WorkflowOutcome(True, planned=_job_stats(stream.getvalue()))


def _failure_message(text: str, exc: BaseException, results: Path, since: float) -> str:
    """The failed job(s): the last line each stage printed, and where its log is."""
    lines = []
    for log in sorted((results / "logs").glob("*.log")):
        if log.stat().st_mtime < since:
            continue
        mine = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.startswith("[ecrs]") and " failed: " in ln]
        if mine:
            lines.append(f"{mine[-1].removeprefix('[ecrs] ')}\n  (log: {log})")
    if lines:
        return "\n".join(lines)
    failed_rules = re.findall(r"Error in rule (\w+):", text)
    if failed_rules:
        return f"job(s) of rule {', '.join(dict.fromkeys(failed_rules))} failed; see the logs under {results / 'logs'}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"the workflow stopped: {first}"
