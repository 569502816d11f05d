"""The Snakemake logger plugin ``ecrs-progress``: Snakemake's log events -> :class:`RunProgress` and :class:`RunEvents`.

Snakemake 9 hands every log record to the handlers of the logger plugins named in
``OutputSettings.log_handler_settings``; a plugin that writes to the terminal replaces
Snakemake's own terminal output. This module is registered as such a plugin by
:meth:`ecrs_analysis.pipeline.progress.RunProgress.output_settings` (it needs no package of its
own: ``LoggerPluginRegistry.register_plugin`` accepts any module with a ``LogHandler`` class).

Every run also collects, in a :class:`RunEvents`, what the runner needs from Snakemake: the plan
(the ``stats`` of the ``RUN_INFO`` event: jobs per rule) and the rules of failed jobs (``JOB_ERROR``),
from the structured fields of the events, never from Snakemake's text.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from snakemake_interface_logger_plugins.base import LogHandlerBase
from snakemake_interface_logger_plugins.common import LogEvent
from snakemake_interface_logger_plugins.settings import LogHandlerSettingsBase

from ecrs_analysis.pipeline.progress import RunProgress

__all__ = ["PLUGIN_NAME", "LogHandler", "LogHandlerSettings", "RunEvents", "handle_event", "plugin_settings"]

PLUGIN_NAME = "ecrs-progress"


@dataclass
class RunEvents:
    """What one run's log events said: the plan and the failed jobs' rules."""

    stats: dict[str, int] | None = None
    """``RUN_INFO``'s jobs per rule (and ``total``) of the first plan; None while none came (nothing to do)."""
    failed_rules: list[str] = field(default_factory=list)
    """The rule of each ``JOB_ERROR``, in the order they came."""

    @property
    def planned(self) -> dict[str, int]:
        """Jobs per rule of the plan (no ``total``); empty when Snakemake had nothing to do."""
        return {str(k): int(v) for k, v in (self.stats or {}).items() if k != "total"}

    def handle(self, record: logging.LogRecord) -> None:
        """Keep what ``record`` (a Snakemake log record) says about the plan or a failure."""
        event = getattr(record, "event", None)
        if event == LogEvent.RUN_INFO and self.stats is None:  # a dry run repeats the plan at its end
            self.stats = dict(getattr(record, "stats", None) or {})
        elif event == LogEvent.JOB_ERROR:
            fields: Any = record  # Snakemake's event fields are extra attributes of the record
            self.failed_rules.append(str(fields.rule_name))


@dataclass
class LogHandlerSettings(LogHandlerSettingsBase):
    """The plugin's settings: the :class:`RunProgress` that renders the events (None: Snakemake's own
    terminal output stays), the :class:`RunEvents` that collects them."""

    progress: RunProgress | None = None
    events: RunEvents | None = None


class LogHandler(LogHandlerBase):
    """Snakemake logger plugin: turns the events of a run into :class:`RunProgress` calls."""

    @property
    def writes_to_stream(self) -> bool:  # with a RunProgress, it replaces Snakemake's own terminal output
        return getattr(self.settings, "progress", None) is not None

    @property
    def writes_to_file(self) -> bool:
        return False

    @property
    def has_filter(self) -> bool:
        return True

    @property
    def has_formatter(self) -> bool:
        return True

    @property
    def needs_rulegraph(self) -> bool:
        return False

    def emit(self, record: logging.LogRecord) -> None:
        events = getattr(self.settings, "events", None)
        if events is not None:
            events.handle(record)
        progress = getattr(self.settings, "progress", None)
        if progress is None or progress.detached:  # a finished run's handler left on Snakemake's global logger
            return
        try:
            handle_event(progress, record)
        except Exception:  # a display problem must never stop the run
            self.handleError(record)


def _first(files: Iterable[str] | None) -> str | None:
    files = list(files or [])
    return str(files[0]) if files else None


def handle_event(progress: RunProgress, record: logging.LogRecord) -> None:
    """One Snakemake log record -> the matching :class:`RunProgress` call (others are ignored:
    they are in the run log)."""
    event = getattr(record, "event", None)
    fields: Any = record  # Snakemake's event fields are extra attributes of the record
    if event == LogEvent.RUN_INFO:
        progress.plan(getattr(record, "stats", {}) or {})
    elif event == LogEvent.JOB_INFO:
        progress.job_started(int(fields.jobid), rule=str(fields.rule_name), log=_first(getattr(record, "log", None)), wildcards=getattr(record, "wildcards", None))
    elif event == LogEvent.JOB_FINISHED:
        progress.job_finished(int(fields.job_id))
    elif event == LogEvent.JOB_ERROR:
        progress.job_failed(int(fields.jobid), rule=str(fields.rule_name), log=_first(getattr(record, "log", None)))


def plugin_settings(progress: RunProgress | None = None, events: RunEvents | None = None) -> dict[str, Any]:
    """Register this module as the logger plugin and return ``log_handler_settings`` for ``progress`` and ``events``."""
    from snakemake_interface_logger_plugins.registry import LoggerPluginRegistry

    LoggerPluginRegistry().register_plugin(PLUGIN_NAME, sys.modules[__name__])
    return {PLUGIN_NAME: LogHandlerSettings(progress=progress, events=events)}
