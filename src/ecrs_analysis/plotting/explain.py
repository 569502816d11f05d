"""Figures of the explanation chapter: attention overlays on the CT, mean maps, pointing-game forest."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ecrs_analysis.explain.mesh import surfaces_page, surfaces_png  # the meshes' drawings (matplotlib, plotly): chapters draw read-back meshes with them
from ecrs_analysis.explain.views import PLANES, CaseSlices
from ecrs_analysis.plotting.cohort import WINDOW

__all__ = ["surfaces_png", "surfaces_page", "plot_case_overlays", "plot_mean_maps", "plot_attention_summary", "plot_deletion_curves"]

REGION_COLOURS = {"evidence": "#3ddc97", "lesion ROI": "#4cc9f0"}


def plot_case_overlays(views: Sequence[CaseSlices], *, title: str = "", threshold: float = 0.2) -> Figure:
    """One row per case, axial/coronal/sagittal slices through the map's maximum (:func:`~ecrs_analysis.explain.views.case_slices`), CT with the map and region outlines."""
    fig, axes = plt.subplots(len(views), 3, figsize=(10, 3.2 * len(views)), squeeze=False)
    for r, v in enumerate(views):
        for c, plane in enumerate(PLANES):
            ax = axes[r, c]
            ax.imshow(v.ct[plane], cmap="gray", vmin=WINDOW[0], vmax=WINDOW[1], aspect=v.aspects[plane], interpolation="nearest")
            ax.imshow(np.ma.masked_less(v.cam[plane], threshold), cmap="inferno", vmin=0, vmax=1, alpha=0.55, aspect=v.aspects[plane], interpolation="bilinear")
            for name, m in v.regions.items():
                sl = m[plane]
                if sl.any():
                    ax.contour(sl, levels=[0.5], colors=REGION_COLOURS.get(name, "white"), linewidths=0.9, linestyles="-" if name == "evidence" else "--")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(plane)
        axes[r, 0].set_ylabel(v.title, fontsize=9)
    handles = [plt.Line2D([], [], color=REGION_COLOURS[k], linestyle="-" if k == "evidence" else "--", label=k) for k in REGION_COLOURS if any(k in v.regions for v in views)]
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig



DELETION_STYLE = {"map": ("#d62828", "top of the map first"), "random": ("#8d99ae", "random voxels"), "perfect map": ("#2a9d8f", "perfect map of the evidence (+ control)")}


def plot_deletion_curves(curve: pd.DataFrame) -> Figure:
    """Mean fall of P(explained class) against the share of the input deleted: one panel per model (columns) and explained class (rows).

    Lines: the map's order, random order and the perfect map's order (positive control), each
    with its 95% bootstrap CI band; the rows pooled over both classes are left to the table.
    """
    models = list(dict.fromkeys(curve["model"]))
    classes = [c for c in ("eCRS", "non-eCRS") if c in set(curve["explained class"])] or list(dict.fromkeys(curve["explained class"]))
    # each panel its own y-axis: the falls differ by orders of magnitude between networks
    fig, axes = plt.subplots(len(classes), len(models), figsize=(3.2 * len(models), 2.8 * len(classes)), squeeze=False)
    for i, cls in enumerate(classes):
        for ax, model in zip(axes[i], models):
            ax.set_title(f"{model} · explained {cls}", fontsize=9)
            if not ((curve["model"] == model) & (curve["explained class"] == cls)).any():
                ax.text(0.5, 0.5, f"no patient explained as {cls}", ha="center", va="center", fontsize=8, transform=ax.transAxes)
                ax.set_xticks([])
                ax.set_yticks([])
                continue
            for order, (colour, label) in DELETION_STYLE.items():
                g = curve[(curve["model"] == model) & (curve["explained class"] == cls) & (curve["order"] == order)].sort_values("fraction")
                if g.empty:
                    continue
                x = np.r_[0.0, g["fraction"].to_numpy()]
                ax.plot(x, np.r_[0.0, g["drop"].to_numpy()], "o-", color=colour, label=label, ms=3)
                ax.fill_between(x, np.r_[0.0, g["low"].to_numpy()], np.r_[0.0, g["high"].to_numpy()], color=colour, alpha=0.2, lw=0)
            ax.axhline(0, color="black", lw=0.5)
            if i == len(classes) - 1:
                ax.set_xlabel("share of the input deleted")
        axes[i, 0].set_ylabel("fall of P(explained class)\n(mean, 95% bootstrap CI)")
    axes[0, 0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def plot_mean_maps(maps: dict[tuple[str, int], np.ndarray], *, labels: dict[int, str] | None = None) -> Figure:
    """Mean map per model (rows) and true class (columns), axial and coronal mid-slices on the network's input grid."""
    labels = labels or {0: "non-eosinophilic", 1: "eosinophilic"}
    models = list(dict.fromkeys(m for m, _ in maps))
    classes = sorted({k for _, k in maps})
    fig, axes = plt.subplots(len(models), 2 * len(classes), figsize=(3.0 * 2 * len(classes), 2.8 * len(models)), squeeze=False)
    for r, model in enumerate(models):
        for c, k in enumerate(classes):
            a = maps.get((model, k))
            for j, plane in enumerate(("axial", "coronal")):
                ax = axes[r, 2 * c + j]
                ax.set_xticks([])
                ax.set_yticks([])
                if a is None:
                    ax.axis("off")
                    continue
                # input grid is RAS (x right, y anterior, z superior): flip x for the radiological view
                sl = a[::-1, :, a.shape[2] // 2].T if plane == "axial" else a[::-1, a.shape[1] // 2, :].T
                ax.imshow(sl, cmap="inferno", vmin=0, vmax=max(float(a.max()), 1e-6), origin="lower")
                if r == 0:
                    ax.set_title(f"{labels.get(k, k)}\n{plane}", fontsize=9)
            if c == 0:
                axes[r, 0].set_ylabel(model)
    fig.tight_layout()
    return fig


def plot_attention_summary(summary: pd.DataFrame, *, metric: str = "pointing game", region: str | None = None) -> Figure:
    """Forest plot of a metric (mean with bootstrap CI) per model and map, for one region."""
    s = summary.reset_index()
    if region is not None:
        s = s[s["region"] == region]
    models = list(dict.fromkeys(s["model"]))
    maps = list(dict.fromkeys(s["map"]))
    fig, ax = plt.subplots(figsize=(6.5, 0.5 + 0.45 * len(models) * len(maps)))
    palette = {"Grad-CAM": "#d62828", "Grad-CAM++": "#d62828", "perfect map (positive control)": "#2a9d8f", "random": "#8d99ae", "crop centre": "#2b2d42"}
    colours = {m: palette.get(m, "#f77f00") for m in maps}
    y: float = 0
    ticks, names = [], []
    for model in models:
        for mp in maps:
            row = s[(s["model"] == model) & (s["map"] == mp)]
            if row.empty:
                continue
            m, lo, hi = (float(row[c].iloc[0]) for c in (metric, f"{metric} low", f"{metric} high"))
            ax.errorbar(m, y, xerr=[[m - lo], [hi - m]], fmt="o", color=colours[mp], capsize=3)
            ticks.append(y)
            names.append(f"{model} · {mp}")
            y -= 1
        y -= 0.5
    ax.set_yticks(ticks, names, fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(f"{metric} (mean, 95% bootstrap CI)" + (f" — {region}" if region else ""))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
