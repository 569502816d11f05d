"""ROC curves with bootstrap CI bands: one panel per model, or one model over the sets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ecrs_analysis.stats.delong import delong_ci
from ecrs_analysis.stats.roc import roc, roc_band

__all__ = ["PALETTE", "plot_roc_panels", "plot_roc_sets"]

PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]


def _draw_roc(ax, y, score, *, colour: str, label: str, n_resamples: int, seed: int, name: str) -> None:
    """One ROC curve with its bootstrap band; AUC (DeLong 95% CI) appended to the legend label."""
    band = roc_band(y, score, n_resamples=n_resamples, seed=seed, name=name)
    d = delong_ci(y, score, name=name)
    curve = roc(y, score)
    ax.fill_between(band.fpr, band.low, band.high, color=colour, alpha=0.12, lw=0)
    ax.plot(curve.fpr, curve.tpr, color=colour, lw=1.6, label=f"{label}: {d.auc:.3f} ({d.ci_low:.3f}–{d.ci_high:.3f})")


def _finish_roc(ax) -> None:
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    ax.set_xlabel("1 − specificity")
    ax.set_ylabel("sensitivity")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=7, frameon=False, title="AUC (95% CI)", title_fontsize=7)


def plot_roc_panels(scores: pd.DataFrame, models: Sequence[str], *, sets: Sequence[str], labels: Mapping[str, str] | None = None, n_resamples: int = 300, seed: int = 0) -> Figure:
    """One panel per set; each model's ROC with a bootstrap band, AUC (DeLong 95% CI) in the legend."""
    labels = labels or {}
    fig, axes = plt.subplots(1, len(sets), figsize=(4.3 * len(sets), 4.3), squeeze=False)
    for ax, s in zip(axes[0], sets):
        part = scores[scores["set"] == s]
        for colour, m in zip(PALETTE, models):
            _draw_roc(ax, part["label"], part[m], colour=colour, label=labels.get(m, m), n_resamples=n_resamples, seed=seed, name=f"{m} on {s}")
        ax.set_title(f"{s.replace('_', ' ')} (n={len(part)})", fontsize=10)
        _finish_roc(ax)
    fig.tight_layout()
    return fig


def plot_roc_sets(scores: pd.DataFrame, score: str, *, sets: Sequence[str], n_resamples: int = 300, seed: int = 0) -> Figure:
    """One panel: the ROC curve of one score on each set, with bootstrap bands and AUC (DeLong 95% CI) in the legend."""
    fig, ax = plt.subplots(figsize=(4.6, 4.6))
    for colour, s in zip(PALETTE, sets):
        part = scores[scores["set"] == s]
        _draw_roc(ax, part["label"], part[score], colour=colour, label=f"{s.replace('_', ' ')} (n={len(part)})", n_resamples=n_resamples, seed=seed, name=f"{score} on {s}")
    _finish_roc(ax)
    fig.tight_layout()
    return fig
