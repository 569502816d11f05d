"""A finished MTLNet job read back from its folder (``history.csv``, ``scores.csv``, ``job.json``).

Kept apart from :mod:`.mtl` so that reading a job loads no torch: chapter 05's helpers
(``report.mtlnet_chapter``) and the training job both read through it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ecrs_analysis.paths import HISTORY, JOB_INFO, JOB_SCORES

__all__ = ["MTLNetRun", "load_job"]


@dataclass(frozen=True)
class MTLNetRun:
    """The artefacts of one job, as written to (or read from) its folder."""

    folder: Path
    history: pd.DataFrame
    scores: pd.DataFrame
    info: dict[str, Any]


def load_job(folder: str | os.PathLike[str]) -> MTLNetRun:
    """Read a finished job's folder (``history.csv``, ``scores.csv``, ``job.json``)."""
    f = Path(folder)
    needed = [f / n for n in (HISTORY, JOB_SCORES, JOB_INFO)]
    absent = [p.name for p in needed if not p.exists()]
    if absent:
        raise FileNotFoundError(f"{f}: no finished MTLNet job here (missing {absent}); run the workflow first (`ecrs run --profile <profile> --target 05_mtlnet`)")
    return MTLNetRun(f, pd.read_csv(needed[0]), pd.read_csv(needed[1], dtype={"patient_id": str}), json.loads(needed[2].read_text(encoding="utf-8")))
