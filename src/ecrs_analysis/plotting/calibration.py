"""Calibration and clinical usefulness: reliability curves and decision curves."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ecrs_analysis.plotting.roc import PALETTE

__all__ = ["plot_decision_curve", "plot_calibration_tables", "plot_decision_tables"]


def plot_decision_curve(decision: pd.DataFrame, *, label: str, set_name: str) -> Figure:
    """Net benefit against threshold probability of one model on one set, with treat-all and treat-none.

    ``decision``: a job's decision-curve table (``threshold``, ``model``, ``treat_all``, ``prevalence``); nothing is computed here.
    """
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    ax.plot(decision["threshold"], decision["model"], color=PALETTE[0], lw=1.6, label=label)
    ax.plot(decision["threshold"], decision["treat_all"], color="black", lw=1, ls="--", label="treat all")
    ax.axhline(0, color="grey", lw=1, ls=":", label="treat none")
    ax.set_ylim(-0.05, float(decision["prevalence"].iloc[0]) * 1.1)
    ax.set_xlim(0, 0.9)
    ax.set_xlabel("threshold probability")
    ax.set_ylabel("net benefit")
    ax.set_title(set_name.replace("_", " "), fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def plot_calibration_tables(curve: pd.DataFrame, table: pd.DataFrame, *, sets: Sequence[str]) -> Figure:
    """Reliability curve per set from an evaluation job's tables (``calibration_curve``: set, predicted,
    observed; ``calibration``: Brier, intercept, slope per set); nothing is computed here."""
    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    for colour, s in zip(PALETTE, sets):
        part, r = curve[curve["set"] == s], table.loc[s]
        ax.plot(part["predicted"], part["observed"], "o-", color=colour, ms=4,
                label=f"{s.replace('_', ' ')}: Brier {r['Brier']:.3f}, int {r['calibration intercept']:+.2f}, slope {r['calibration slope']:.2f}")
    ax.plot([0, 1], [0, 1], ls=":", color="grey")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed proportion")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def plot_decision_tables(decision: pd.DataFrame, *, sets: Sequence[str], model: str = "model") -> Figure:
    """Net benefit against threshold probability, one panel per set, from an evaluation job's ``decision_curve`` table
    (set, threshold, model, treat_all, treat_none)."""
    fig, axes = plt.subplots(1, len(sets), figsize=(4.0 * len(sets), 3.4), squeeze=False)
    for ax, s in zip(axes[0], sets):
        part = decision[decision["set"] == s]
        ax.plot(part["threshold"], part["model"], color=PALETTE[0], lw=1.6, label=model)
        ax.plot(part["threshold"], part["treat_all"], color="black", lw=1, ls="--", label="treat all")
        ax.axhline(0, color="grey", lw=1, ls=":", label="treat none")
        top = float(part["treat_all"].max()) if len(part) else 0.5
        ax.set_ylim(-0.05, max(top, 0.05) * 1.1)
        ax.set_xlim(0, 0.9)
        ax.set_xlabel("threshold probability")
        ax.set_title(s.replace("_", " "), fontsize=10)
    axes[0][0].set_ylabel("net benefit")
    axes[0][0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
