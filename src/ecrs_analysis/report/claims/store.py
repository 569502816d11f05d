"""The claims files: each chapter's reproduced values written to, and read back from, ``results/<profile>/claims/<chapter>.csv``."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ecrs_analysis.atomic import write_csv
from ecrs_analysis.report.claims.registry import BY_ID

__all__ = ["CLAIM_COLUMNS", "ClaimError", "claims_path", "write_claims", "collect_claims"]


# Columns of results/<profile>/claims/<chapter>.csv, in order.
# by_design: 1 when the value is a parameter of the synthetic cohort (its size, set sizes, centres), not a result.
# learned: False for a claim about a model that did not learn (its value is withheld).
CLAIM_COLUMNS = ("claim", "set", "value", "ci_low", "ci_high", "ceiling", "n", "by_design", "learned", "note", "chapter", "profile", "run")


class ClaimError(ValueError):
    """A chapter wrote a claim the registry does not know, or wrote one twice."""


def claims_path(results: Any, chapter: str) -> Path:
    """``results/<profile>/claims/<chapter>.csv``."""
    return _root(results) / "claims" / f"{chapter}.csv"


def _float(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _root(results: Any) -> Path:
    """The results folder of a ``ResultPaths`` or of a path."""
    return Path(results) if isinstance(results, (str, os.PathLike)) else Path(results.root)


def write_claims(results: Any, chapter: str, rows: Iterable[Mapping[str, Any]], *, run: str, profile: str | None = None, path: str | os.PathLike[str] | None = None) -> None:
    """Write the reproduced value of each claim a chapter covers.

    Parameters
    ----------
    results : ResultPaths or path
        The run's results (``paths`` of the notebook, or its root folder).
    chapter : str
        The notebook's name, e.g. ``"04_integrated_model"``; every claim written must be one
        the registry assigns to this chapter.
    rows : iterable of mappings
        One per claim: ``claim`` (an id of :data:`REPORTED`), ``value`` and optionally
        ``ci_low``, ``ci_high`` (95% CI), ``ceiling`` (the synthetic cohort's ceiling, an
        estimate on the set), ``n`` (patients), ``by_design`` (true when the value is a parameter of the
        synthetic cohort, so it matches the paper by construction), ``learned`` (False for a
        model that failed :func:`ecrs_analysis.stats.learning.learning_check`: its value is
        then not written, only the reason, which ``note`` must give) and ``note`` (one short
        sentence). May be empty: a chapter that could compute nothing still writes its (empty) file.
    run : str
        The ``ecrs run`` id the claims belong to (``pipeline.provenance.run_id()``, which the
        job's caller passes: the report room does not read the engine's environment).
    profile : str, optional
        The parameter profile of the run; default: the profile ``run.json`` of the results
        folder names, else the folder's name.

    The file (:func:`claims_path`) has the columns :data:`CLAIM_COLUMNS`; ``run`` is the
    ``ecrs run`` id. Nothing is returned, so the call shows nothing in the book.

    Raises
    ------
    ClaimError
        For an unknown claim id, a claim of another chapter, a claim written twice or a
        value that is not a number.
    """
    root = _root(results)
    if profile is None:
        info = root / "run.json"
        profile = str(json.loads(info.read_text(encoding="utf-8")).get("profile")) if info.exists() else root.name
    out, seen = [], set()
    for i, row in enumerate(rows):
        cid = row.get("claim")
        if cid not in BY_ID:
            raise ClaimError(f"{chapter}: row {i} names claim {cid!r}, which is not in ecrs_analysis.report.claims.REPORTED; known: {sorted(BY_ID)}")
        claim = BY_ID[cid]
        if claim.chapter != chapter:
            raise ClaimError(f"{chapter}: claim {cid!r} belongs to chapter {claim.chapter!r} in the registry (ecrs_analysis.report.claims.REPORTED)")
        if cid in seen:
            raise ClaimError(f"{chapter}: claim {cid!r} written twice")
        seen.add(cid)
        unknown = set(row) - {"claim", "value", "ci_low", "ci_high", "ceiling", "n", "by_design", "learned", "note"}
        if unknown:
            raise ClaimError(f"{chapter}: claim {cid!r} has unknown field(s) {sorted(unknown)}")
        try:
            value = _float(row.get("value"))
            lo, hi, ceiling = (_float(row.get(k)) for k in ("ci_low", "ci_high", "ceiling"))
        except (TypeError, ValueError):
            raise ClaimError(f"{chapter}: claim {cid!r}: value, ci_low, ci_high and ceiling must be numbers, got {dict(row)}") from None
        if not (math.isnan(lo) or math.isnan(hi)) and not lo <= hi:
            raise ClaimError(f"{chapter}: claim {cid!r}: ci_low {lo} is above ci_high {hi}")
        n = row.get("n")
        learned = bool(row.get("learned", True))
        if not learned:  # a statistic of a model that learned nothing is never published
            if not row.get("note"):
                raise ClaimError(f"{chapter}: claim {cid!r} is of a model that did not learn: its note must say why")
            value, lo, hi = math.nan, math.nan, math.nan
        out.append({"claim": cid, "set": claim.set, "value": value, "ci_low": lo, "ci_high": hi, "ceiling": ceiling,
                    "n": None if n is None or pd.isna(n) else int(n), "by_design": int(bool(row.get("by_design", False))),
                    "learned": learned, "note": str(row.get("note") or ""), "chapter": chapter, "profile": profile, "run": run})
    table = pd.DataFrame(out, columns=list(CLAIM_COLUMNS)).astype({"n": "Int64"})
    write_csv(table, path if path is not None else claims_path(root, chapter))


def collect_claims(results: Any) -> pd.DataFrame:
    """Every claims file of a run, one row per claim written (columns :data:`CLAIM_COLUMNS`).

    Raises
    ------
    ClaimError
        When two chapters wrote the same claim.
    """
    folder = _root(results) / "claims"
    files = sorted(folder.glob("*.csv"))
    parts = [pd.read_csv(f, dtype={"claim": str, "note": str, "chapter": str, "run": str, "profile": str, "set": str}, keep_default_na=True) for f in files]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(CLAIM_COLUMNS))
    table.attrs["chapters"] = [f.stem for f in files]  # chapters that wrote a file, even an empty one
    twice = table["claim"][table["claim"].duplicated()].tolist()
    if twice:
        raise ClaimError(f"claim(s) {twice} written by more than one chapter under {folder}")
    return table
