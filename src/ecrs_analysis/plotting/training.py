"""Learning curves of the CNN training runs and of MTLNet's two tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["plot_learning_curves", "plot_multitask_curves"]


def plot_learning_curves(histories: pd.DataFrame) -> Figure:
    """Training loss and validation AUC per epoch; one column per model, one line per fold."""
    models = list(dict.fromkeys(histories["model"]))
    fig, axes = plt.subplots(2, len(models), figsize=(3.6 * len(models), 5.0), squeeze=False, sharex=True)
    for col, m in enumerate(models):
        h = histories[histories["model"] == m]
        for fold, hf in h.groupby("fold"):
            axes[0, col].plot(hf["epoch"], hf["train_loss"], lw=1.2, label=f"fold {fold}")
            if "val_auc" in hf:
                axes[1, col].plot(hf["epoch"], hf["val_auc"], lw=1.2)
        axes[0, col].set_title(m, fontsize=10)
        axes[0, col].set_ylabel("training loss")
        axes[1, col].set_ylabel("validation AUC")
        axes[1, col].set_xlabel("epoch")
        axes[1, col].set_ylim(0.3, 1.02)
    axes[0, 0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def plot_multitask_curves(histories: Mapping[str, Any], *, constant_cls_loss: float | None = None) -> Figure:
    """One row per variant: training (solid) and validation (dashed) losses of each task; validation AUC and Dice.

    ``histories``: variant name -> a finished job (with ``history`` and ``info``: the epoch early
    stopping kept, ``info["best_epoch"]``, is marked in grey) or its ``history.csv`` DataFrame.
    ``constant_cls_loss``: the training classification loss of the best constant predictor,
    drawn as a dotted line: a classifier that learned goes below it.
    """
    colours = {"seg": "#1b9e77", "cls": "#d95f02"}
    fig, axes = plt.subplots(len(histories), 2, figsize=(9.0, 3.0 * len(histories)), squeeze=False, sharex="row")
    for (name, run), (ax_loss, ax_val) in zip(histories.items(), axes):
        h = getattr(run, "history", run)
        for part, label in (("seg", "segmentation (DiceCE)"), ("cls", "classification (BCE)")):
            if f"train_{part}_loss" in h:
                ax_loss.plot(h["epoch"], h[f"train_{part}_loss"], "o-", ms=3, color=colours[part], lw=1.4, label=f"{label}, training")
            if f"val_{part}_loss" in h:
                ax_loss.plot(h["epoch"], h[f"val_{part}_loss"], "o--", ms=3, mfc="none", color=colours[part], lw=1.4, label=f"{label}, validation")
        if constant_cls_loss is not None and "train_cls_loss" in h:
            ax_loss.axhline(constant_cls_loss, color=colours["cls"], lw=0.9, ls=":", label="constant predictor (classification)")
        for col, colour, label in (("val_auc", colours["cls"], "validation AUC"), ("val_dice", colours["seg"], "validation Dice")):
            if col in h and h[col].notna().any():
                ax_val.plot(h["epoch"], h[col], "o-", ms=3, color=colour, lw=1.2, label=label)
        info = getattr(run, "info", None)
        best = info.get("best_epoch") if isinstance(info, dict) else None
        if best is not None:
            for ax in (ax_loss, ax_val):
                ax.axvline(best, color="grey", lw=0.8)
        ax_loss.set_title(f"{name}: losses", fontsize=10)
        ax_val.set_title(f"{name}: validation", fontsize=10)
        ax_loss.set_ylabel("loss")
        ax_val.set_ylim(0.0, 1.02)
        for ax in (ax_loss, ax_val):
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
