"""Performance at a glance: confusion matrices at the chosen threshold, and forest plots of odds ratios."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["plot_confusion_matrices", "plot_forest"]


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
