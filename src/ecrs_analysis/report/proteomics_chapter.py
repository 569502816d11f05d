"""Chapter 07's tables for reading, from the proteomics job's artefacts (nothing is fitted or tested anew).

Each function takes what the chapter read (``samples.csv``, ``de_<comparison>.csv``,
``ora_*``/``gsea_*`` tables, ``summary.json``) and returns the table the chapter shows; the
ones shown formatted return ``(shown, data)``: strings for reading and the raw numbers the
exhibit's CSV download carries (:meth:`~ecrs_analysis.report.exhibits.Exhibits.table`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ecrs_analysis.omics.analysis import pathway_rank
from ecrs_analysis.report import format as F
from ecrs_analysis.report.paper import LI2025_PROTEOMICS

__all__ = ["GROUPS", "calls_against_truth", "top_proteins", "top_ora", "top_gsea", "reported_against_reproduced", "planted_recovery_table", "comparisons_table"]

GROUPS: dict[int, str] = {0: "predicted non-eCRS", 1: "predicted eCRS"}
"""Display names of the integrated model's calls (``samples.csv``'s ``predicted`` column)."""

Shown = tuple[pd.DataFrame, pd.DataFrame]


def _require(table: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"the {what} table has no column(s) {missing}: rerun the proteomics job (`ecrs run`)")


def calls_against_truth(samples: pd.DataFrame, *, names: Mapping[int, str] = GROUPS) -> pd.DataFrame:
    """Samples with proteomics by the integrated model's call (rows) and the true endotype (columns), with totals.

    Parameters
    ----------
    samples : DataFrame
        The proteomics job's ``samples.csv``: 0/1 columns ``predicted`` and ``label``.
    names : mapping, optional
        Display names of the calls 0 and 1.

    Returns
    -------
    DataFrame
        Counts; the last row and column (``total``) are the margins.
    """
    _require(samples, ["predicted", "label"], "samples")
    return pd.crosstab(
        samples["predicted"].map(names), samples["label"].map({0: "non-eCRS", 1: "eCRS"}), margins=True, margins_name="total"
    ).rename_axis(index="integrated model", columns="true endotype")


def top_proteins(de: pd.DataFrame, *, n: int = 15) -> Shown:
    """The ``n`` proteins with the smallest limma p-value of a differential-abundance table.

    Parameters
    ----------
    de : DataFrame
        ``de_<comparison>.csv`` indexed by protein: ``gene``, ``log_fc``, ``ave_expr``, ``t``,
        ``p_value``, ``fdr``, ``b``.
    n : int, optional
        Rows shown.

    Returns
    -------
    (shown, data) : tuple of DataFrame
        Formatted strings (p and FDR as ``<0.001``) and the raw numbers.
    """
    columns = ["gene", "log_fc", "ave_expr", "t", "p_value", "fdr", "b"]
    _require(de, columns, "differential-abundance")
    data = de.sort_values("p_value").head(n)[columns]
    return F.frame_display(data, p_columns=["p_value", "fdr"]), data


def _top_sets(table: pd.DataFrame, columns: list[str], genes: str, *, n: int, what: str) -> Shown:
    _require(table, columns, what)
    data = table.head(n)[columns]
    return F.frame_display(data, p_columns=["p_value", "fdr"], list_columns=[genes]), data


def top_ora(ora: pd.DataFrame, *, n: int = 10) -> Shown:
    """The first ``n`` gene sets of an over-representation table (``ora_<comparison>.csv``, sorted by the job).

    Returns
    -------
    (shown, data) : tuple of DataFrame
        ``term``, ``size``, ``overlap``, ``odds_ratio``, ``p_value``, ``fdr``, ``genes``: formatted, and raw.
    """
    return _top_sets(ora, ["term", "size", "overlap", "odds_ratio", "p_value", "fdr", "genes"], "genes", n=n, what="over-representation")


def top_gsea(gsea: pd.DataFrame, *, n: int = 10) -> Shown:
    """The first ``n`` gene sets of a GSEA preranked table (``gsea_<comparison>.csv``, sorted by the job).

    Returns
    -------
    (shown, data) : tuple of DataFrame
        ``term``, ``size``, ``es``, ``nes``, ``p_value``, ``fdr``, ``lead_genes``: formatted, and raw.
    """
    return _top_sets(gsea, ["term", "size", "es", "nes", "p_value", "fdr", "lead_genes"], "lead_genes", n=n, what="GSEA")


def reported_against_reproduced(summary: Mapping[str, Any], gsea: pd.DataFrame, *, paper: Mapping[str, Any] = LI2025_PROTEOMICS) -> pd.DataFrame:
    """The paper's proteomics numbers beside this run's: patients, dysregulated proteins, pathways.

    Parameters
    ----------
    summary : mapping
        The proteomics job's ``summary.json`` (``patients``, ``dysregulated``, ``pathway``).
    gsea : DataFrame
        ``gsea_predicted.csv``: the rank of ``summary["pathway"]`` (the chemokine pathway) among its terms.
    paper : mapping, optional
        What the paper reported (:data:`~ecrs_analysis.report.paper.LI2025_PROTEOMICS`).

    Returns
    -------
    DataFrame
        Columns ``paper`` and ``this run``, one row per claim.
    """
    rank = pathway_rank(gsea, summary["pathway"])
    return pd.DataFrame(
        {
            "paper": [paper["patients"], paper["dysregulated"], paper["pathway_claim"]],
            "this run": [summary["patients"], summary["dysregulated"]["predicted"], f"chemokine pathway rank {rank if rank is not None else 'not ranked'} of {len(gsea)} (GSEA)"],
        },
        index=pd.Index(["patients with proteomics", "dysregulated proteins", "pathways"], name="claim"),
    )


def planted_recovery_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Recovery of the synthetic generator's planted proteins (predicted eCRS vs non-eCRS), one row per measure.

    Parameters
    ----------
    summary : mapping
        ``summary.json`` of a synthetic cohort: ``recovery`` holds ``planted``, ``called``, ``recall``,
        ``false_discovery_proportion``, ...

    Raises
    ------
    ValueError
        Real data (nothing was planted).
    """
    if not summary.get("synthetic") or "recovery" not in summary:
        raise ValueError("these are real proteomics: nothing was planted, so recovery cannot be measured")
    return pd.Series(summary["recovery"], name="predicted eCRS vs non-eCRS", dtype=object).rename_axis("measure").to_frame()


def comparisons_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """One row per comparison (the model's calls, the true endotype) from ``summary.json``'s ``summary`` list."""
    rows = summary.get("summary")
    if not rows:
        raise ValueError("summary.json has no `summary` rows: rerun the proteomics job (`ecrs run`)")
    return pd.DataFrame(rows).set_index("comparison")
