"""One run per results folder: who owns it, refusing a second one, recovering from a killed one.

``ecrs run`` holds an exclusive lock on ``<results>/.ecrs-run.lock`` for as long as it runs and
writes its owner into it (PID, host, start time, profile, run id). The lock is an ``flock``: the
kernel releases it the moment its owner dies, however it dies (SIGKILL, OOM killer, a closed SSH
session), so a lock we obtain means no live ``ecrs run`` works on this folder — and Snakemake's
own locks left in ``<results>/.snakemake/`` by a killed run are stale: the run releases them through
Snakemake's API (``DAGApi.unlock``, in :func:`ecrs_analysis.pipeline.snakemake.run_workflow`).
Snakemake's locks cannot tell a dead owner from a live one; that is why ours sits beside them.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = ["LOCK_NAME", "RunBusyError", "RunLock", "acquire_run_lock"]

LOCK_NAME = ".ecrs-run.lock"


class RunBusyError(RuntimeError):
    """Another live ``ecrs run`` works on the same results folder."""


@dataclass
class RunLock:
    """A held run lock; :meth:`release` (or the owner's death) frees it."""

    path: Path
    handle: IO[str]
    stale: dict[str, Any] | None
    """The owner recorded by an earlier run that died holding the folder (None when it ended cleanly)."""

    def release(self) -> None:
        """Mark the run as ended cleanly and free the lock."""
        if self.handle.closed:
            return
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.flush()
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()

    def notice(self) -> str | None:
        """The one line a resumed run prints, or None when there was nothing to recover."""
        if self.stale is None:
            return None
        return (f"[ecrs] {_describe(self.stale)} stopped without finishing; its stale Snakemake locks are released; "
                "resuming (unfinished jobs run again, finished ones are kept)")


def _describe(owner: dict[str, Any]) -> str:
    return f"run {owner.get('run', '?')} (PID {owner.get('pid', '?')} on {owner.get('host', '?')}, profile {owner.get('profile', '?')}, started {owner.get('started', '?')})"


def _read_owner(text: str) -> dict[str, Any] | None:
    try:
        owner = json.loads(text)
    except json.JSONDecodeError:
        return None
    return owner if isinstance(owner, dict) and owner else None


def acquire_run_lock(results: str | os.PathLike[str], *, profile: str, run: str) -> RunLock:
    """Take the results folder for this process, or refuse at once when a live run has it.

    Parameters
    ----------
    results
        The run's results folder (created if missing).
    profile, run
        Recorded for whoever finds the folder busy.

    Returns
    -------
    RunLock
        Held until :meth:`RunLock.release` or this process ends; :meth:`RunLock.notice` names a
        killed run found in one line (its Snakemake locks are for the run to release).

    Raises
    ------
    RunBusyError
        When another process holds the lock; the message names it (PID, host, start time,
        profile) and says what to do.
    """
    folder = Path(results)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the whole run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = _read_owner(handle.read())
        handle.close()
        who = _describe(owner) if owner else "another ecrs run"
        raise RunBusyError(
            f"{folder} is in use by {who}. Wait for it to finish, or stop it (kill {owner.get('pid') if owner else '<PID>'} on "
            f"{owner.get('host') if owner else 'its host'}) and run again: the next run resumes where it stopped. "
            "To run side by side, give this run its own folder (--results DIR) or another profile."
        ) from None
    handle.seek(0)
    stale = _read_owner(handle.read())
    handle.seek(0)
    handle.truncate()
    json.dump(
        {"pid": os.getpid(), "host": socket.gethostname(), "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "profile": profile, "run": run, "results": str(folder.resolve())},
        handle,
    )
    handle.flush()
    os.fsync(handle.fileno())
    return RunLock(path=path, handle=handle, stale=stale)
