"""Provenance of every artefact: which parameters, code, packages and inputs made it, in which run.

Each workflow job writes one provenance file (``results/<profile>/provenance/<job>.json``)
beside its outputs. The run record that the book's appendix shows is assembled from these
files by following the inputs of the chapters back to the jobs that produced them, so it
describes what actually made each number — including whether a job ran in the latest run
or was reused from an earlier one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ecrs_analysis.atomic import write_json
from ecrs_analysis.pipeline.record import KEY_PACKAGES, device_description, git_state, package_versions
from ecrs_analysis.hashing import sha256_path

__all__ = ["run_id", "write_provenance", "read_provenance", "provenance_closure"]


def run_id() -> str:
    """The id of the ``ecrs run`` invocation this process belongs to (``manual`` outside one)."""
    return os.environ.get("ECRS_RUN_ID", "manual")


def _hashes(paths: Sequence[str | os.PathLike[str]]) -> dict[str, str | None]:
    return {str(p): (sha256_path(p) if Path(p).exists() else None) for p in paths}


def write_provenance(
    path: str | os.PathLike[str],
    *,
    stage: str,
    params: Mapping[str, Any],
    code: str,
    inputs: Sequence[str | os.PathLike[str]],
    outputs: Sequence[str | os.PathLike[str]],
    started: dt.datetime,
    root: str | os.PathLike[str],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write one job's provenance file; returns its content."""
    finished = dt.datetime.now(dt.UTC)
    record = {
        "stage": stage,
        "run_id": run_id(),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 2),
        "params": dict(params),
        "code": code,
        "git": git_state(Path(root)),
        "packages": package_versions(KEY_PACKAGES),
        "device": device_description(),
        "inputs": _hashes(inputs),
        "outputs": _hashes(outputs),
        **(dict(extra) if extra else {}),
    }
    write_json(record, path)
    return record


def read_provenance(folder: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Every provenance file of a results folder, by job name."""
    out = {}
    for f in sorted(Path(folder).glob("*.json")):
        out[f.stem] = json.loads(f.read_text(encoding="utf-8"))
    return out


def provenance_closure(records: Mapping[str, Mapping[str, Any]], start: Iterable[str]) -> list[str]:
    """Job names reached from ``start`` by following each job's inputs to the job that wrote them.

    Provenance files of jobs that no longer feed the book (e.g. of a model removed from
    the parameters) are not reached and so not reported.
    """
    producer = {out: name for name, rec in records.items() for out in rec.get("outputs", {})}
    seen: list[str] = []
    todo = [s for s in start if s in records]
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.append(name)
        todo.extend(producer[i] for i in records[name].get("inputs", {}) if i in producer and producer[i] not in seen)
    return seen
