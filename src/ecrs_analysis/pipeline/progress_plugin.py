"""The Snakemake logger plugin ``ecrs-progress``: Snakemake's log events -> :class:`RunProgress`.

Snakemake 9 hands every log record to the handlers of the logger plugins named in
``OutputSettings.log_handler_settings``; a plugin that writes to the terminal replaces
Snakemake's own terminal output. This module is registered as such a plugin by
:meth:`ecrs_analysis.pipeline.progress.RunProgress.output_settings` (it needs no package of its
own: ``LoggerPluginRegistry.register_plugin`` accepts any module with a ``LogHandler`` class).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from snakemake_interface_logger_plugins.base import LogHandlerBase
from snakemake_interface_logger_plugins.common import LogEvent
from snakemake_interface_logger_plugins.settings import LogHandlerSettingsBase

from ecrs_analysis.pipeline.progress import RunProgress

__all__ = ["PLUGIN_NAME", "LogHandler", "LogHandlerSettings", "handle_event", "plugin_settings"]

PLUGIN_NAME = "ecrs-progress"


@dataclass
class LogHandlerSettings(LogHandlerSettingsBase):
    """The plugin's settings: the :class:`RunProgress` that renders the events."""

    progress: RunProgress | None = None


class LogHandler(LogHandlerBase):
    """Snakemake logger plugin: turns the events of a run into :class:`RunProgress` calls."""

    @property
    def writes_to_stream(self) -> bool:  # replaces Snakemake's own terminal output
        return True

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
    if event == LogEvent.RUN_INFO:
        progress.plan(getattr(record, "stats", {}) or {})
    elif event == LogEvent.JOB_INFO:
        progress.job_started(int(record.jobid), rule=str(record.rule_name), log=_first(getattr(record, "log", None)), wildcards=getattr(record, "wildcards", None))
    elif event == LogEvent.JOB_FINISHED:
        progress.job_finished(int(record.job_id))
    elif event == LogEvent.JOB_ERROR:
        progress.job_failed(int(record.jobid), rule=str(record.rule_name), log=_first(getattr(record, "log", None)))


def plugin_settings(progress: RunProgress) -> dict[str, Any]:
    """Register this module as the logger plugin and return ``log_handler_settings`` for ``progress``."""
    from snakemake_interface_logger_plugins.registry import LoggerPluginRegistry

    LoggerPluginRegistry().register_plugin(PLUGIN_NAME, sys.modules[__name__])
    return {PLUGIN_NAME: LogHandlerSettings(progress=progress)}
