"""The claims as the landing page shows them: reported and reproduced as text, the MyST table, the sources."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ecrs_analysis.report.claims.registry import SHORT_TITLES
from ecrs_analysis.report.format import fmt_ci, fmt_count, fmt_num, label

__all__ = ["claims_markdown", "sources_table"]


def _reported_text(c: Mapping[str, Any]) -> str:
    r = c["reported"]
    if r is None or (isinstance(r, float) and math.isnan(r)):
        return "not stated"
    if c["kind"] == "count":
        return fmt_count(r)
    if c["kind"] == "finding":
        return str(r)
    text = f"{float(r):g}"
    return f"{text} ({c['reported_ci_low']:g}–{c['reported_ci_high']:g})" if not math.isnan(c["reported_ci_low"]) else text


def _reproduced_text(c: Mapping[str, Any]) -> str:
    if c.get("verdict") == "did not learn":
        return "did not learn"
    if pd.isna(c["value"]):
        return "not run"
    if c["kind"] == "count":
        return fmt_count(c["value"])
    if c["kind"] == "finding":
        return "yes" if float(c["value"]) >= 0.5 else "no"
    return fmt_ci(c["value"], c["ci_low"], c["ci_high"])


def claims_markdown(table: pd.DataFrame) -> str:
    """The landing table as MyST: one row per claim, chapters linked (``{doc}``) when they ran.

    Wrapped in a ``claims-table`` container so the page's table can be found (and its rows
    counted) by the browser test.
    """
    lines = ["```{container} claims-table", "| claim | set | reported | reproduced (95% CI) | ceiling (estimated) | reported inside our CI? (its width) | chapter |", "|---|---|---|---|---|---|---|"]
    for c in table.to_dict(orient="records"):
        number = c["chapter"].split("_")[0]
        chapter = f"{{doc}}`ch. {number} <{c['chapter']}>`" if c["chapter_ran"] else f"ch. {number} (not in this run)"
        study = SHORT_TITLES.get(c["study"], c["study"])
        where = label(c["set"]) + (" (in-sample: the patients it was fitted on)" if c.get("in_sample") else "")
        cells = [f"**{study}** {c['quantity']}", where, _reported_text(c), _reproduced_text(c), fmt_num(c["ceiling"]), c["mark"], chapter]
        lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |")
    lines.append("```")
    return "\n".join(lines)



def sources_table(table: pd.DataFrame) -> pd.DataFrame:
    """Claim id, the abstract's sentence it comes from, and this run's note on it."""
    return table.set_index("claim")[["source", "note"]].rename(columns={"source": "reported in", "note": "note on the reproduced value"})
