"""How a reproduced value stands against the reported one: the verdict of each claim, and the landing table's rows."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from ecrs_analysis.report.claims.registry import REPORTED, Claim

__all__ = ["Verdict", "MARKS", "verdict", "verdict_mark", "claims_table", "verdict_counts"]


Verdict = Literal["inside", "outside", "equal", "differs", "by design", "reproduced", "not reproduced", "no reported value", "no CI", "did not learn", "not run"]

# Marks that do not rely on colour (the landing table shows symbol and words).
MARKS: dict[str, str] = {
    "inside": "✓ inside our CI", "outside": "✗ outside our CI", "equal": "= same", "differs": "≠ differs", "by design": "◇ set by design",
    "reproduced": "✓ reproduced", "not reproduced": "✗ not reproduced", "no reported value": "– not stated",
    "no CI": "○ no CI", "did not learn": "⊘ did not learn — no value reported", "not run": "… not run",
}


def verdict(claim: Claim, row: Mapping[str, Any] | None) -> Verdict:
    """How the reproduced value of ``claim`` stands against the reported one.

    Estimates: does the reported value fall inside our 95% CI (bounds included)?
    Counts: are they equal? A count the synthetic cohort takes as a parameter (``by_design``)
    is "set by design", never "= same": only a real cohort's count is compared.
    Findings: is ``value`` 1 (reproduced) or 0?  A claim about a model that did not learn
    (``learned`` False) has no value to compare.
    """
    if row is not None and str(row.get("learned", True)).strip().lower() in ("false", "0", "0.0"):
        return "did not learn"
    if row is None or pd.isna(row.get("value")):
        return "not run"
    if claim.reported is None:
        return "no reported value"
    value = float(row["value"])
    if claim.kind == "count":
        by_design = row.get("by_design")
        if by_design is not None and not pd.isna(by_design) and bool(by_design):
            return "by design"
        return "equal" if value == float(claim.reported) else "differs"
    if claim.kind == "finding":
        return "reproduced" if value >= 0.5 else "not reproduced"
    lo, hi = row.get("ci_low"), row.get("ci_high")
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return "no CI"
    return "inside" if float(lo) <= float(claim.reported) <= float(hi) else "outside"


def verdict_mark(v: Verdict, *, ci_low: Any = None, ci_high: Any = None) -> str:
    """The verdict's mark; for "inside"/"outside" with the width of our CI beside it.

    "Inside our CI" rewards a wide CI: a reported value falls inside an interval 0.4 wide far more
    easily than inside one 0.05 wide, so the width is always shown with the verdict.
    """
    mark = MARKS[v]
    if v in ("inside", "outside") and ci_low is not None and ci_high is not None and not (pd.isna(ci_low) or pd.isna(ci_high)):
        mark += f" (width {float(ci_high) - float(ci_low):.2f})"
    return mark


def claims_table(reproduced: pd.DataFrame, *, chapters_run: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per claim of :data:`REPORTED`: reported beside reproduced, with the verdict.

    Parameters
    ----------
    reproduced : DataFrame
        :func:`collect_claims`.
    chapters_run : sequence of str, optional
        Chapters that are part of this run (default: those that wrote a claims file,
        ``reproduced.attrs["chapters"]``); a claim missing from a chapter that ran is
        "not computed" (e.g. a real cohort without an external set), one whose chapter is
        not in the run is "not run".

    Returns
    -------
    DataFrame with columns ``claim, study, quantity, set, kind, reported, reported_ci_low,
    reported_ci_high, value, ci_low, ci_high, ci_width, ceiling, n, verdict, mark, note, chapter,
    chapter_ran, source, in_sample`` (raw numbers; :mod:`ecrs_analysis.report.format` formats them).
    ``mark`` carries our CI's width beside "inside"/"outside" (:func:`verdict_mark`);
    ``in_sample``: the claim is measured on the patients the model was fitted on.
    """
    by_id = {r["claim"]: r for r in reproduced.to_dict(orient="records")}
    if chapters_run is None:
        chapters_run = reproduced.attrs.get("chapters", [])
    rows = []
    for c in REPORTED:
        r = by_id.get(c.id)
        v = verdict(c, r)
        ran = c.chapter in chapters_run or (r is not None)
        note = (r or {}).get("note")
        if r is None:
            note = "not computed in this run" if ran else f"chapter {c.chapter} is not part of this run"
        rows.append({
            "claim": c.id, "study": c.study, "quantity": c.quantity, "set": c.set, "kind": c.kind,
            "reported": c.reported, "reported_ci_low": c.reported_ci[0] if c.reported_ci else math.nan,
            "reported_ci_high": c.reported_ci[1] if c.reported_ci else math.nan,
            "value": (r or {}).get("value", math.nan), "ci_low": (r or {}).get("ci_low", math.nan), "ci_high": (r or {}).get("ci_high", math.nan),
            "ci_width": _width((r or {}).get("ci_low"), (r or {}).get("ci_high")),
            "ceiling": (r or {}).get("ceiling", math.nan), "n": (r or {}).get("n"), "verdict": v,
            "mark": verdict_mark(v, ci_low=(r or {}).get("ci_low"), ci_high=(r or {}).get("ci_high")),
            "note": "" if note is None or (isinstance(note, float) and math.isnan(note)) else str(note),
            "chapter": c.chapter, "chapter_ran": ran, "source": c.source, "in_sample": c.in_sample,
        })
    return pd.DataFrame(rows)


def _width(low: Any, high: Any) -> float:
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return math.nan
    return float(high) - float(low)


def verdict_counts(table: pd.DataFrame) -> str:
    """One sentence: how many claims fall in each verdict ("9 claims: 3 ✓ inside our CI, ...")."""
    counts = table["verdict"].value_counts()
    parts = [f"{int(counts[v])} {MARKS[v]}" for v in MARKS if v in counts]
    return f"{len(table)} claims: " + ", ".join(parts) + "."
