"""The landing page's summary figure: reported against reproduced AUCs and Dice, with CIs."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = ["plot_claims_forest"]

# Okabe-Ito colours; every series also has its own marker, so the figure reads without colour.
REPORTED, REPRODUCED, CEILING = "#0072B2", "#D55E00", "#000000"


def plot_claims_forest(table: pd.DataFrame, *, study_titles: Mapping[str, str], set_labels: Mapping[str, str],
                       quantities: tuple[str, ...] = ("AUC", "Dice")) -> Figure:
    """Forest plot of every estimate claim on the 0–1 scale whose quantity starts with one of ``quantities``.

    Parameters
    ----------
    table : DataFrame
        :func:`ecrs_analysis.report.claims.claims_table`.
    study_titles : mapping
        Study id -> its title (``report.claims.STUDY_TITLES``); the row label keeps the part before " (".
    set_labels : mapping
        Set name -> display name (``report.format.LABELS``; a set not in it keeps its name).
    quantities : tuple of str
        The quantities shown (prefixes of the claim's ``quantity``).

    Each row: reported value (square; its 95% CI as a dashed line where stated), reproduced
    value (circle, solid 95% CI) and, on synthetic cohorts, the ceiling (×). Rows whose
    chapter did not run say so at the right edge.
    """
    keep = table[(table["kind"] == "estimate") & table["quantity"].str.startswith(quantities) & table["reported"].notna()]
    keep = keep.reset_index(drop=True)
    n = len(keep)
    fig, ax = plt.subplots(figsize=(7.0, 0.4 * n + 1.4))
    y = np.arange(n)[::-1]
    for yi, (_, r) in zip(y, keep.iterrows()):
        if not pd.isna(r["reported_ci_low"]):
            ax.plot([r["reported_ci_low"], r["reported_ci_high"]], [yi + 0.13] * 2, ls="--", color=REPORTED, lw=1.4)
        ax.plot(float(r["reported"]), yi + 0.13, marker="s", ms=6, mfc="white", mec=REPORTED, mew=1.6, ls="none")
        if pd.isna(r["value"]):
            ax.text(0.02, yi, "not run", ha="left", va="center", fontsize=8, style="italic", color="0.3")
            continue
        if not pd.isna(r["ci_low"]):
            ax.plot([r["ci_low"], r["ci_high"]], [yi - 0.13] * 2, ls="-", color=REPRODUCED, lw=1.6)
        ax.plot(float(r["value"]), yi - 0.13, marker="o", ms=6, color=REPRODUCED, ls="none")
        if not pd.isna(r["ceiling"]):
            ax.plot(float(r["ceiling"]), yi - 0.13, marker="x", ms=7, mew=1.8, color=CEILING, ls="none")
    names = [f"{study_titles.get(r['study'], r['study']).split(' (')[0]}: {r['quantity'].split()[0].rstrip(',')}, {set_labels.get(str(r['set']), str(r['set']))}" for _, r in keep.iterrows()]
    ax.set_yticks(y, names, fontsize=9)
    ax.set_xlim(0.0, 1.02)
    ax.set_ylim(-0.8, n - 0.2)
    ax.axvline(0.5, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("value (95% CI)")
    ax.grid(axis="x", color="0.93")
    handles = [
        Line2D([], [], marker="s", mfc="white", mec=REPORTED, color=REPORTED, ls="--", label="reported (95% CI where stated)"),
        Line2D([], [], marker="o", color=REPRODUCED, ls="-", label="reproduced, this run (95% CI)"),
        Line2D([], [], marker="x", color=CEILING, ls="none", mew=1.8, label="ceiling (true probability)"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.4 / max(n, 1)), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
