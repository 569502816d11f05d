"""Figures of the statistics chapters: ROC curves with CI bands, calibration, decision curves, forest plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ecrs_analysis.stats.calibration import calibration, net_benefit
from ecrs_analysis.stats.delong import delong_ci
from ecrs_analysis.stats.roc import roc, roc_band

__all__ = ["plot_roc_panels", "plot_roc_sets", "plot_confusion_matrices", "plot_calibration", "plot_decision_curve", "plot_forest"]

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


def plot_confusion_matrices(operating: pd.DataFrame, *, labels: tuple[str, str] = ("non-eCRS", "eCRS")) -> Figure:
    """Confusion matrix of each set at the training-set threshold (rows of :func:`stats.evaluate.operating_table` for one model)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    sets = list(operating.index.get_level_values("set"))
    fig, axes = plt.subplots(1, len(sets), figsize=(3.2 * len(sets), 3.2), squeeze=False)
    for ax, (_, r) in zip(axes[0], operating.iterrows()):
        cm = np.array([[r["TN"], r["FP"]], [r["FN"], r["TP"]]], dtype=int)
        ConfusionMatrixDisplay(cm, display_labels=list(labels)).plot(ax=ax, cmap="Blues", colorbar=False)
        ax.set_title(f"{r.name[-1].replace('_', ' ')} (threshold {r['threshold']:.2f})", fontsize=9)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    fig.tight_layout()
    return fig


def plot_calibration(scores: pd.DataFrame, prob: str, *, sets: Sequence[str]) -> Figure:
    """Reliability curve per set with Brier score, calibration intercept and slope."""
    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    for colour, s in zip(PALETTE, sets):
        part = scores[scores["set"] == s]
        c = calibration(part["label"], part[prob], n_bins=8 if len(part) >= 80 else 4)
        ax.plot(c.curve["predicted"], c.curve["observed"], "o-", color=colour, ms=4, label=f"{s.replace('_', ' ')}: Brier {c.brier:.3f}, int {c.intercept:+.2f}, slope {c.slope:.2f}")
    ax.plot([0, 1], [0, 1], ls=":", color="grey")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed proportion")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def plot_decision_curve(scores: pd.DataFrame, probs: Mapping[str, str], *, set_name: str) -> Figure:
    """Net benefit against threshold probability for each model, with treat-all and treat-none."""
    part = scores[scores["set"] == set_name]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    nb = None
    for colour, (label, col) in zip(PALETTE, probs.items()):
        nb = net_benefit(part["label"], part[col])
        ax.plot(nb["threshold"], nb["model"], color=colour, lw=1.6, label=label)
    assert nb is not None
    ax.plot(nb["threshold"], nb["treat_all"], color="black", lw=1, ls="--", label="treat all")
    ax.axhline(0, color="grey", lw=1, ls=":", label="treat none")
    prev = part["label"].mean()
    ax.set_ylim(-0.05, prev * 1.1)
    ax.set_xlim(0, 0.9)
    ax.set_xlabel("threshold probability")
    ax.set_ylabel("net benefit")
    ax.set_title(set_name.replace("_", " "), fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def plot_forest(table: pd.DataFrame, *, title: str) -> Figure:
    """Odds ratios with 95% CIs on a log axis (``OR``, ``CI low``, ``CI high`` columns)."""
    t = table.dropna(subset=["OR"]).iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(t) + 1.2))
    y = np.arange(len(t))
    ax.errorbar(t["OR"], y, xerr=[t["OR"] - t["CI low"], t["CI high"] - t["OR"]], fmt="o", color="#333", ms=4, capsize=2)
    ax.axvline(1, color="grey", ls=":")
    ax.set_yticks(y, t.index)
    ax.set_xscale("log")
    ax.set_xlabel("odds ratio (95% CI)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
