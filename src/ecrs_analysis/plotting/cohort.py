"""Cohort figures: CT slices with mask overlays, class balance, synthetic vs real CT."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import SimpleITK as sitk
from matplotlib.figure import Figure

__all__ = ["ct_views", "plot_slices", "plot_class_balance", "plot_hu_histograms"]

WINDOW = (-1000.0, 1500.0)  # a bone window that shows air, soft tissue and bone
MASK_COLOURS = {"sinus_mask": "#f2c14e", "roi_mask": "#e4572e"}


def ct_views(image: sitk.Image, *, centre_from: sitk.Image | None = None) -> dict[str, tuple[Any, Any]]:
    """Axial and coronal slices (radiological display, LPS) through a mask's centroid or the middle.

    Returns ``{"axial": (slice, aspect), "coronal": (slice, aspect), "index": (z, y)}``.
    """
    img = sitk.DICOMOrient(image, "LPS")
    a = sitk.GetArrayFromImage(img)
    sx, sy, sz = img.GetSpacing()
    if centre_from is not None:
        m = sitk.GetArrayFromImage(sitk.DICOMOrient(centre_from, "LPS"))
        idx = np.argwhere(m > 0)
        z, y, _ = idx.mean(axis=0).astype(int) if len(idx) else np.array(a.shape) // 2
    else:
        z, y = _sinus_level(a)
    return {"axial": (a[z], sy / sx), "coronal": (a[:, y, :], sz / sx), "index": (int(z), int(y))}


def _sinus_level(a: np.ndarray) -> tuple[int, int]:
    """Axial and coronal indices with the most air enclosed by tissue (the paranasal sinuses)."""
    from scipy import ndimage

    body = ndimage.binary_fill_holes(a > -500, structure=np.ones((1, 3, 3), bool))
    enclosed = body & (a < -500)
    per_z = enclosed.sum(axis=(1, 2))
    z = int(np.argmax(per_z)) if per_z.any() else a.shape[0] // 2
    per_y = enclosed[z].sum(axis=1)
    rows = np.flatnonzero(body[z].any(axis=1))
    if rows.size:  # the sinuses lie in the anterior half of the head (LPS: small y = anterior)
        per_y[(rows[0] + rows[-1]) // 2 :] = 0
    y = int(np.argmax(per_y)) if per_y.any() else a.shape[1] // 2
    return z, y


def plot_slices(cases: Sequence[tuple[str, sitk.Image, Mapping[str, sitk.Image]]], *, window: tuple[float, float] = WINDOW) -> Figure:
    """One row per case: axial and coronal CT with mask contours (sinus region yellow, lesion ROI red)."""
    fig, axes = plt.subplots(len(cases), 2, figsize=(8, 3.8 * len(cases)), squeeze=False)
    for row, (title, ct, masks) in zip(axes, cases):
        centre = masks.get("roi_mask") or masks.get("sinus_mask")
        views = ct_views(ct, centre_from=centre)
        z, y = views["index"]
        for ax, view in zip(row, ("axial", "coronal")):
            sl, aspect = views[view]
            ax.imshow(sl, cmap="gray", vmin=window[0], vmax=window[1], aspect=aspect, origin="upper" if view == "axial" else "lower")
            for key, mask in masks.items():
                m = sitk.GetArrayFromImage(sitk.DICOMOrient(mask, "LPS"))
                ms = m[z] if view == "axial" else m[:, y, :]
                if ms.any():
                    ax.contour(ms, levels=[0.5], colors=MASK_COLOURS.get(key, "c"), linewidths=1.0, origin="upper" if view == "axial" else "lower")
            ax.set_title(f"{title} — {view}", fontsize=9)
            ax.set_axis_off()
    fig.tight_layout()
    return fig


def plot_class_balance(summary: pd.DataFrame, *, title: str) -> Figure:
    """Stacked bars of eosinophilic / non-eosinophilic patients per set (``split_summary`` output)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    sets = summary.index.tolist()
    eos = summary["eosinophilic"].to_numpy()
    non = summary["patients"].to_numpy() - eos
    ax.bar(sets, non, color="#4c72b0", label="non-eosinophilic")
    ax.bar(sets, eos, bottom=non, color="#dd8452", label="eosinophilic")
    for i, (n, e) in enumerate(zip(summary["patients"], summary["eosinophilic_%"])):
        ax.text(i, n, f"n={n}\n{e:.0f}% eCRS", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("patients")
    ax.set_title(title)
    ax.set_ylim(0, summary["patients"].max() * 1.3)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_hu_histograms(images: Mapping[str, sitk.Image], *, bins: int = 120) -> Figure:
    """Normalised HU histograms of several CTs on one axis (log scale)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    for name, img in images.items():
        a = sitk.GetArrayViewFromImage(img).ravel()
        a = a[:: max(a.size // 1_000_000, 1)]
        ax.hist(a, bins=bins, range=(-1100, 2000), density=True, histtype="step", lw=1.5, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("Hounsfield units")
    ax.set_ylabel("density")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
