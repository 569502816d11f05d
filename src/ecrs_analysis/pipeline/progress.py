"""A run you can watch: what ``ecrs run`` prints while the workflow runs.

Snakemake's own output (job descriptions, shell commands, its error reports) goes to a run
log, ``results/<profile>/logs/snakemake-<run>.log``; the terminal gets

- one line per job as it starts and as it ends, with the overall line
  ``[12/35 jobs · 6 min elapsed · ~5 min left]``;
- the epochs of training jobs, which the training helper writes into the job's own log
  (``[ecrs] epoch 3/12 · ...``, see :func:`job_logging`) and which are relayed from there;
- on failure: the job, the last lines of its log, the log's path and what to do;
- at the end (:func:`summary_text`): what ran, how long each stage took, where the book is.

The events come from Snakemake 9's logger-plugin interface: the handler of
:mod:`ecrs_analysis.pipeline.progress_plugin` is registered as the logger plugin ``ecrs-progress``,
receives every log record with its ``event`` (``RUN_INFO``, ``JOB_INFO``, ``JOB_FINISHED``,
``JOB_ERROR``, ...) and calls the matching method of :class:`RunProgress`. On a terminal a tqdm status
bar at the bottom shows the overall line and the epochs of running jobs; when stdout is not
a terminal (CI) only whole lines are written, with no control characters, and epochs of a
job at most every :data:`PLAIN_EPOCH_INTERVAL_S` seconds.

The remaining time is estimated from how long jobs of the same stage took, in this run and
in the provenance files that earlier runs left in ``results/<profile>/provenance/``. A stage with
neither (a fresh build) takes its expected cost from :data:`EXPECTED_SECONDS` (a measured build of
the profile), scaled by how fast this machine ran the stages that did finish; a stage that has none
of these leaves the estimate open: the overall line says ``estimating…`` rather than guess.
"""

from __future__ import annotations

import logging
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from ecrs_analysis.pipeline.provenance import read_provenance

__all__ = [
    "EPOCH_PREFIX",
    "EXPECTED_SECONDS",
    "expected_seconds",
    "JobTiming",
    "RunProgress",
    "job_logging",
    "format_duration",
    "stage_key",
    "summary_text",
]

EPOCH_PREFIX = "[ecrs] epoch "
"""What a training job writes into its log once per epoch (``[ecrs] epoch 3/12 · loss 0.61``)."""
PLAIN_EPOCH_INTERVAL_S = 30.0
"""Without a terminal, a running job's epochs are relayed at most this often (a short CI log)."""
TAIL_LINES = 12
ESTIMATING = "estimating…"
SPEED_MIN_PRIOR_S = 5.0
"""The overall line's last part while some stage still to run has no expected time."""
EXPECTED_SECONDS: dict[str, dict[str, float]] = {
    # Seconds of one job of each stage (stage_key) in a fresh build of the profile, the median of its
    # jobs' provenance records (`python -m ecrs_analysis.pipeline.progress results/<profile>/provenance`
    # prints a row). Only the ratios between stages matter: a run scales them by how long its own
    # finished stages took (RunProgress.speed). "appendix" is the rule of chapter 99.
    # smoke: a fresh smoke build of 2026-12-06 on a 2-core machine shared with other builds.
    "smoke": {
        "cohort": 24.2, "split": 0.2, "preprocess": 12.7, "folds": 24.1, "table1": 1.6, "train": 76.2,
        "deep": 58.3, "mtlnet": 59.6, "clinical": 38.9, "integrated": 59.5, "proteomics": 60.2,
        "explain": 57.0, "claims": 0.8, "book": 16.4, "appendix": 6.0,
        "chapter_00_claims": 20.2, "chapter_01_cohort": 53.1, "chapter_02_clinical": 43.9,
        "chapter_03_deep_models": 29.8, "chapter_04_integrated_model": 57.4, "chapter_05_mtlnet": 54.4,
        "chapter_06_explanation": 108.0, "chapter_07_proteomics": 38.3, "chapter_98_checklist": 16.5,
    },
    # demo: a complete fresh demo build of 2026-12-06 on a quiet 2-core AMD EPYC (18 min 13 s), the
    # printed row (chapter 99's job is the rule "appendix").
    "demo": {
        "book": 5.2, "chapter_00_claims": 3.5, "chapter_01_cohort": 11.9, "chapter_02_clinical": 14.4, "chapter_03_deep_models": 5.0, "chapter_04_integrated_model": 10.9,
        "chapter_05_mtlnet": 9.7, "chapter_06_explanation": 27.1, "chapter_07_proteomics": 7.3, "chapter_97_claim": 3.2, "chapter_98_checklist": 3.3, "appendix": 3.3,
        "claims": 0.1, "clinical": 3.8, "cohort": 49.4, "deep": 4.6, "explain": 16.1, "folds": 3.1,
        "integrated": 12.0, "mtlnet": 164.4, "preprocess": 39.9, "proteomics": 3.9, "split": 0.1, "table1": 0.2,
        "train": 60.3,
    },
}
_EPOCH = re.compile(r"^\[ecrs\] epoch (\d+)/(\d+)(.*)$")
_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")  # colours first, then lone controls


def format_duration(seconds: float) -> str:
    """``42 s``, ``6 min``, ``1 h 05 min``: the overall line's resolution."""
    s = max(0.0, float(seconds))
    if s < 90:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    h, m = divmod(round(s / 60), 60)
    return f"{h} h {m:02d} min"


def stage_key(name: str) -> str:
    """One key for a rule name and the job names (provenance stems) of its jobs.

    ``train_fold`` and ``train-li2025-resnet3d-fold0`` -> ``train``; ``cohort-li2025`` ->
    ``cohort``; chapters keep their name (``chapter_01_cohort`` and ``chapter-01_cohort`` ->
    ``chapter_01_cohort``), because chapters differ much more in length than folds do.
    """
    if name.startswith("chapter"):
        return name.replace("-", "_")
    return re.split(r"[-_]", name, maxsplit=1)[0]


def _clean(text: str) -> str:
    """A log line without control characters (tqdm's carriage returns, colours)."""
    return _CONTROL.sub("", text).rstrip()


def _tail(path: Path, n: int = TAIL_LINES) -> list[str]:
    """The last ``n`` non-empty lines of a log (a tqdm bar's redraws count as lines of their own)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 64_000))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    lines = [_clean(x) for x in re.split(r"\r\n|\r|\n", text)]
    return [x for x in lines if x.strip()][-n:]


@dataclass
class JobTiming:
    """One job of this run: its name (the provenance/log stem), rule, log and times."""

    jobid: int
    rule: str
    name: str
    log: Path | None
    started: float
    finished: float | None = None
    failed: bool = False
    epoch: str = ""
    last_relay: float = float("-inf")
    log_offset: int = 0

    @property
    def seconds(self) -> float | None:
        return None if self.finished is None else self.finished - self.started


class _Screen:
    """Where lines go: a tqdm status bar under scrolling lines on a terminal, plain lines elsewhere."""

    def __init__(self, stream: TextIO, *, live: bool) -> None:
        self.stream = stream
        self.live = live
        self._bar: Any = None
        if live:
            from tqdm import tqdm

            self._bar = tqdm(total=0, bar_format="{desc}", file=stream, dynamic_ncols=True, leave=False)

    def line(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def status(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_description_str(text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@dataclass
class RunProgress:
    """The state of one run as the terminal shows it; fed by the Snakemake logger plugin (or a test).

    Parameters
    ----------
    results : Path
        ``results/<profile>/``: earlier runs' provenance is read from ``provenance/``, the
        Snakemake run log is written under ``logs/``.
    run : str
        The run id (names the run log).
    stream : TextIO
        Where the lines go (``sys.stdout``).
    cores : int
        Jobs that can run at once (local cores, or ``--jobs`` on a cluster): bounds the
        concurrency the estimate assumes.
    priors : mapping, optional
        Expected seconds of one job per stage key for a stage with no time of its own yet;
        default: :data:`EXPECTED_SECONDS` of the profile the results folder is named after.
    live : bool, optional
        Status bar and redraws; default: whether ``stream`` is a terminal.
    clock : callable
        Seconds (``time.monotonic``); tests give a fake clock.
    """

    results: Path
    run: str
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    cores: int = 1
    live: bool | None = None
    clock: Callable[[], float] = time.monotonic
    total: int = 0
    planned: dict[str, int] = field(default_factory=dict)
    jobs: dict[int, JobTiming] = field(default_factory=dict)
    previous: dict[str, list[float]] = field(default_factory=dict)
    priors: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        self.results = Path(self.results).resolve()
        # Paths are shown relative to where the user typed the command: Snakemake later changes the
        # process's working folder to the results folder, so it is taken now.
        self._origin = Path.cwd()
        if self.live is None:
            self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._lock = threading.RLock()
        self._screen = _Screen(self.stream, live=bool(self.live))
        self._t0 = self.clock()
        self._file_handler: logging.Handler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not self.previous:
            self.previous = _previous_durations(self.results / "provenance")
        if self.priors is None:
            self.priors = EXPECTED_SECONDS.get(self.results.name, {})

    @property
    def started_at(self) -> float:
        """The clock's value when the run began."""
        return self._t0

    # -- paths -------------------------------------------------------------------------
    @property
    def run_log(self) -> Path:
        """Snakemake's own output for this run."""
        return self.results / "logs" / f"snakemake-{self.run}.log"

    # -- events ------------------------------------------------------------------------
    def plan(self, stats: Mapping[str, int]) -> None:
        """``RUN_INFO``: jobs per rule that this run will execute."""
        with self._lock:
            self.planned = {k: int(v) for k, v in stats.items() if k != "total"}
            self.total = int(stats.get("total", sum(self.planned.values())))
            self._screen.line(f"[ecrs] {self.total} job(s) to run; Snakemake's log: {self._rel(self.run_log)}")
            self._refresh()

    def job_started(self, jobid: int, *, rule: str, log: str | None = None, wildcards: Mapping[str, Any] | None = None) -> None:
        """``JOB_INFO``: a job was handed to the executor."""
        with self._lock:
            name = Path(log).name.removesuffix(".log") if log else "-".join([rule, *map(str, (wildcards or {}).values())])
            self.jobs[jobid] = JobTiming(jobid, rule, name, self._log_path(log), self.clock())
            self._screen.line(f"[ecrs] start  {name}")
            self._refresh()

    def job_finished(self, jobid: int) -> None:
        """``JOB_FINISHED``."""
        with self._lock:
            job = self.jobs.get(jobid)
            if job is None or job.finished is not None:
                return
            self._read_epochs(job)
            job.finished = self.clock()
            self._screen.line(f"[ecrs] done   {job.name} ({format_duration(job.seconds or 0)})  {self.overall()}")
            self._refresh()

    def job_failed(self, jobid: int, *, rule: str, log: str | None = None) -> None:
        """``JOB_ERROR``: the job, the last lines of its log, the log's path and what to do."""
        with self._lock:
            job = self.jobs.get(jobid) or JobTiming(jobid, rule, Path(log).name.removesuffix(".log") if log else rule, self._log_path(log), self.clock())
            self.jobs[jobid] = job
            job.finished, job.failed = self.clock(), True
            out = [f"[ecrs] FAILED {job.name} after {format_duration(job.seconds or 0)}  {self.overall()}"]
            if job.log is not None:
                tail = _tail(job.log)
                out.append(f"[ecrs]   last lines of {self._rel(job.log)}:" if tail else f"[ecrs]   its log {self._rel(job.log)} is empty or missing")
                out.extend(f"         | {ln}" for ln in tail)
            out.append(f"[ecrs]   what to do: {self._advice(job)}")
            for ln in out:
                self._screen.line(ln)
            self._refresh()

    def epoch(self, job: JobTiming, text: str) -> None:
        """A line ``[ecrs] epoch 3/12 · ...`` appeared in a running job's log."""
        job.epoch = text
        now = self.clock()
        if self.live:
            self._refresh()
        elif now - job.last_relay >= PLAIN_EPOCH_INTERVAL_S:
            job.last_relay = now
            self._screen.line(f"[ecrs]        {job.name}: {text}")

    def poll(self) -> None:
        """Read new epoch lines from the logs of running jobs; redraw the status bar."""
        with self._lock:
            for job in list(self.jobs.values()):
                if job.finished is None:
                    self._read_epochs(job)
            self._refresh()

    # -- estimate ----------------------------------------------------------------------
    def _measured(self, key: str) -> float | None:
        """The median seconds of a stage's jobs: this run's, else earlier runs' provenance."""
        mine = [j.seconds for j in self.jobs.values() if j.seconds is not None and not j.failed and stage_key(j.rule) == key]
        if mine:
            return statistics.median(mine)
        if self.previous.get(key):
            return statistics.median(self.previous[key])
        return None

    def speed(self) -> float:
        """How long this machine takes for a stage over its expected cost (:attr:`priors`): measured
        over expected seconds, summed over the stages measured so far (1 before any is). Stages
        expected to take under :data:`SPEED_MIN_PRIOR_S` are left out: a job's measured time includes
        starting Python (seconds), its provenance record does not, and a 0.2 s split would read as a
        machine 50 times slower."""
        seen = expected = 0.0
        for key, prior in (self.priors or {}).items():
            measured = self._measured(key)
            if measured is not None and prior >= SPEED_MIN_PRIOR_S:
                seen, expected = seen + measured, expected + prior
        return seen / expected if expected else 1.0

    def _known(self, key: str) -> float | None:
        """A stage's measured time, else its expected cost scaled to this machine; ``None`` if neither."""
        seen = self._measured(key)
        if seen is not None:
            return seen
        prior = (self.priors or {}).get(key)
        return None if prior is None else prior * self.speed()

    def expected(self, rule: str) -> float | None:
        """Seconds a job of ``rule`` is expected to take: this run's jobs of that stage, then earlier
        runs' provenance, then the profile's expected cost scaled by :meth:`speed`; a chapter with
        none of these takes the median of the chapters that have one. ``None`` when nothing is known:
        a guess from other stages' times (a cohort job's for a training job) can be off tenfold."""
        key = stage_key(rule)
        known = self._known(key)
        if known is None and (key.startswith("chapter") or key == "appendix"):
            keys = {stage_key(j.rule) for j in self.jobs.values()} | set(self.previous) | set(self.priors or {})
            others = [x for k in sorted(keys) if k.startswith("chapter") and k != key and (x := self._known(k)) is not None]
            known = statistics.median(others) if others else None
        return known

    def remaining(self) -> float | None:
        """Seconds left: the expected work of waiting and running jobs over the observed concurrency."""
        now = self.clock()
        work = 0.0
        started: dict[str, int] = {}
        for j in self.jobs.values():
            started[j.rule] = started.get(j.rule, 0) + 1
            if j.finished is None:
                e = self.expected(j.rule)
                if e is None:
                    return None
                work += max(e - (now - j.started), 0.0)
        for rule, n in self.planned.items():
            waiting = n - started.get(rule, 0)
            if waiting > 0:
                e = self.expected(rule)
                if e is None:
                    return None
                work += waiting * e
        elapsed = max(now - self._t0, 1e-9)
        busy = sum(((j.finished if j.finished is not None else now) - j.started) for j in self.jobs.values())
        side_by_side = min(max(busy / elapsed, 1.0), float(max(self.cores, 1)))
        return work / side_by_side

    def overall(self) -> str:
        """``[12/35 jobs · 6 min elapsed · ~5 min left]``."""
        done = sum(1 for j in self.jobs.values() if j.finished is not None and not j.failed)
        parts = [f"{done}/{self.total or len(self.jobs)} jobs", f"{format_duration(self.clock() - self._t0)} elapsed"]
        if done < self.total and not any(j.failed for j in self.jobs.values()):  # a failure stops the run
            left = self.remaining()
            parts.append(ESTIMATING if left is None else f"~{format_duration(left)} left")
        return "[" + " · ".join(parts) + "]"

    # -- end -------------------------------------------------------------------------
    def stage_times(self) -> list[dict[str, Any]]:
        """Per rule, in the order the stages first started: jobs run, job time, the longest job."""
        rows: dict[str, dict[str, Any]] = {}
        for j in sorted(self.jobs.values(), key=lambda j: j.started):
            r = rows.setdefault(j.rule, {"stage": j.rule, "jobs": 0, "failed": 0, "seconds": 0.0, "longest": 0.0, "first_start": j.started - self._t0, "last_end": 0.0})
            r["jobs"] += 1
            r["failed"] += int(j.failed)
            s = j.seconds or 0.0
            r["seconds"] += s
            r["longest"] = max(r["longest"], s)
            r["last_end"] = max(r["last_end"], (j.finished or self.clock()) - self._t0)
        for r in rows.values():
            r["wall"] = r.pop("last_end") - r.pop("first_start")
        return [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.items()} for r in rows.values()]

    # -- wiring into Snakemake ---------------------------------------------------------
    def output_settings(self, events: Any = None) -> dict[str, Any]:
        """Keyword arguments for ``snakemake.settings.types.OutputSettings``: this object as the
        only terminal output (the logger plugin, which also feeds ``events``, a
        :class:`~ecrs_analysis.pipeline.progress_plugin.RunEvents`), no Snakemake file log under ``.snakemake/``."""
        from ecrs_analysis.pipeline.progress_plugin import plugin_settings  # lazy: import cycle (progress_plugin imports this module) and Snakemake's logger-plugin interface

        return {"log_handler_settings": plugin_settings(self, events), "quiet": None, "enable_file_logging": False}

    def attach(self, sm_logger: logging.Logger) -> None:
        """Write Snakemake's own output to :attr:`run_log`; start relaying epochs."""
        from snakemake.logging import DefaultFilter, DefaultFormatter

        self.run_log.parent.mkdir(parents=True, exist_ok=True)
        h = logging.FileHandler(self.run_log, encoding="utf-8")
        h.setFormatter(DefaultFormatter(quiet=None, show_failed_logs=True))
        h.addFilter(DefaultFilter(quiet=None, debug_dag=False, verbose=False, dryrun=False, printshellcmds=True))
        h.setLevel(logging.INFO)
        sm_logger.addHandler(h)
        self._file_handler = h
        self._thread = threading.Thread(target=self._follow, name="ecrs-progress", daemon=True)
        self._thread.start()

    @property
    def detached(self) -> bool:
        """True once the run is over: events that still arrive are ignored."""
        return self._stop.is_set()

    def detach(self, sm_logger: logging.Logger) -> None:
        """Stop relaying, close the run log and take this run's handlers off Snakemake's (global)
        logger, so a later run in the same process never writes through them."""
        self._stop.set()
        for h in list(sm_logger.handlers):
            if getattr(getattr(h, "settings", None), "progress", None) is self:
                sm_logger.removeHandler(h)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._file_handler is not None:
            sm_logger.removeHandler(self._file_handler)
            self._file_handler.close()
        self._screen.close()

    def _follow(self, interval: float = 1.0) -> None:
        while not self._stop.wait(interval):
            self.poll()

    # -- helpers -----------------------------------------------------------------------
    def _read_epochs(self, job: JobTiming) -> None:
        if job.log is None:
            return
        try:
            with open(job.log, "rb") as fh:
                fh.seek(job.log_offset)
                chunk = fh.read()
        except OSError:
            return
        end = chunk.rfind(b"\n") + 1  # whole lines only; the rest is read next time
        job.log_offset += end
        for raw in chunk[:end].decode("utf-8", errors="replace").splitlines():
            m = _EPOCH.match(_clean(raw.split("\r")[-1]))
            if m:
                self.epoch(job, f"epoch {m.group(1)}/{m.group(2)}{m.group(3)}")

    def _refresh(self) -> None:
        if not self.live:
            return
        running = [j for j in self.jobs.values() if j.finished is None]
        detail = "; ".join(f"{j.name}" + (f" {j.epoch.split(' · ')[0]}" if j.epoch else "") for j in running[:3])
        self._screen.status(self.overall() + (f" running: {detail}" if detail else ""))

    def _advice(self, job: JobTiming) -> str:
        base = "read the log above (the whole of it at the path shown), fix the cause, then run the same command again: finished jobs are kept and only this job and the ones after it run."
        if job.rule.startswith("chapter") or job.rule == "appendix":
            return f"the executed notebook with the error is kept in {self._rel(self.results / 'failed')}/; " + base
        if job.rule in ("train_fold", "mtlnet"):
            return "if the log shows the job ran out of memory, give it a smaller batch or run fewer jobs side by side (--cores); " + base
        return base

    def _log_path(self, log: str | None) -> Path | None:
        """A job's log as Snakemake names it (relative to its working folder, the results folder), made absolute."""
        if not log:
            return None
        return Path(log) if Path(log).is_absolute() else self.results / log

    def _rel(self, path: Path) -> str:
        path = Path(path)
        if not path.is_absolute():  # Snakemake names a job's log relative to its working directory, the results folder
            path = self.results / path
        try:
            return str(path.resolve().relative_to(self._origin))
        except ValueError:
            return str(path)


def expected_seconds(folder: Path) -> dict[str, float]:
    """One row of :data:`EXPECTED_SECONDS` from a fresh build's provenance folder: the median
    seconds of each stage's jobs (``python -m ecrs_analysis.pipeline.progress results/demo/provenance``)."""
    return {k: round(statistics.median(v), 1) for k, v in sorted(_previous_durations(Path(folder)).items())}


def _previous_durations(folder: Path) -> dict[str, list[float]]:
    """Seconds of each stage's jobs in the provenance files earlier runs left (stage key -> list)."""
    out: dict[str, list[float]] = {}
    if not folder.is_dir():
        return out
    try:
        records = read_provenance(folder)
    except (OSError, ValueError):  # an unreadable file only costs the estimate
        return out
    for name, rec in records.items():
        if isinstance(rec.get("seconds"), (int, float)):
            out.setdefault(stage_key(name), []).append(float(rec["seconds"]))
    return out


# -- inside a job ----------------------------------------------------------------------
def job_logging() -> None:
    """In a workflow job: the package's INFO messages (the training helper's epoch lines) go
    to stdout, i.e. the job's log, as ``[ecrs] ...`` lines that the runner relays."""
    log = logging.getLogger("ecrs_analysis")
    if not any(getattr(h, "name", "") == "ecrs-job" for h in log.handlers):
        h = logging.StreamHandler(sys.stdout)
        h.name = "ecrs-job"
        h.setFormatter(logging.Formatter("[ecrs] %(message)s"))
        log.addHandler(h)
    log.setLevel(logging.INFO)


def summary_text(record: Mapping[str, Any]) -> str:
    """The end-of-run table: what ran, how long each stage took, where the book is."""
    import pandas as pd

    rows = record.get("stage_times") or []
    ran = record.get("executed_jobs") or []
    out = []
    if rows:
        df = pd.DataFrame(rows)
        table = pd.DataFrame({
            "stage": df["stage"],
            "jobs": df["jobs"],
            "wall time": df["wall"].map(format_duration),
            "job time": df["seconds"].map(format_duration),
            "longest job": df["longest"].map(format_duration),
        })
        out.append(table.to_string(index=False))
    total = record.get("elapsed_s")
    out.append(f"[ecrs] done: {len(ran)} job(s) ran" + (f" in {format_duration(total)}" if total is not None else "") + (" (nothing had changed)" if not ran else ""))
    if record.get("snakemake_log"):
        out.append(f"[ecrs] Snakemake's log: {record['snakemake_log']}")
    if record.get("published"):
        out.append(f"[ecrs] book at {record['published']}")
    return "\n".join(out)


if __name__ == "__main__":  # print a row of EXPECTED_SECONDS from a build's provenance folder
    print(expected_seconds(Path(sys.argv[1])))
