"""ROC curves with bootstrap CI bands: one panel per model, or one model over the sets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["PALETTE", "plot_roc_panels", "plot_roc_sets"]

PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]


def _draw_roc(ax, rows: pd.DataFrame, *, colour: str, label: str) -> None:
    """One ROC curve with its bootstrap band from a ``jobs.exhibits.roc_table`` slice; AUC (DeLong 95% CI) appended to the legend label."""
    band, curve, first = rows[rows["kind"] == "band"], rows[rows["kind"] == "curve"], rows.iloc[0]
    ax.fill_between(band["fpr"], band["low"], band["high"], color=colour, alpha=0.12, lw=0)
    ax.plot(curve["fpr"], curve["tpr"], color=colour, lw=1.6, label=f"{label}: {first['AUC']:.3f} ({first['CI low']:.3f}–{first['CI high']:.3f})")


def _finish_roc(ax) -> None:
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    ax.set_xlabel("1 − specificity")
    ax.set_ylabel("sensitivity")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=7, frameon=False, title="AUC (95% CI)", title_fontsize=7)


def _rows(table: pd.DataFrame, model: str, set_name: str) -> pd.DataFrame:
    rows = table[(table["model"] == model) & (table["set"] == set_name)]
    if rows.empty:
        raise ValueError(f"the ROC table has no rows for {model!r} on {set_name!r}; re-run the workflow job that writes it")
    return rows


def plot_roc_panels(table: pd.DataFrame, models: Sequence[str], *, sets: Sequence[str], labels: Mapping[str, str] | None = None) -> Figure:
    """One panel per set; each model's ROC with its bootstrap band, AUC (DeLong 95% CI) in the legend.

    ``table``: a ROC job's table (``jobs.exhibits.roc_table``: curve and band rows per set and model); nothing is computed here.
    """
    labels = labels or {}
    fig, axes = plt.subplots(1, len(sets), figsize=(4.3 * len(sets), 4.3), squeeze=False)
    for ax, s in zip(axes[0], sets):
        n = 0
        for colour, m in zip(PALETTE, models):
            rows = _rows(table, m, s)
            n = int(rows["n"].iloc[0])
            _draw_roc(ax, rows, colour=colour, label=labels.get(m, m))
        ax.set_title(f"{s.replace('_', ' ')} (n={n})", fontsize=10)
        _finish_roc(ax)
    fig.tight_layout()
    return fig


def plot_roc_sets(table: pd.DataFrame, score: str, *, sets: Sequence[str]) -> Figure:
    """One panel: the ROC curve of one score on each set, with its bootstrap band and AUC (DeLong 95% CI) in the legend (from a ROC job's table)."""
    fig, ax = plt.subplots(figsize=(4.6, 4.6))
    for colour, s in zip(PALETTE, sets):
        rows = _rows(table, score, s)
        _draw_roc(ax, rows, colour=colour, label=f"{s.replace('_', ' ')} (n={int(rows['n'].iloc[0])})")
    _finish_roc(ax)
    fig.tight_layout()
    return fig
