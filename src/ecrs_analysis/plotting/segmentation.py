"""Segmentation figures: CT slices of the model grid with ground-truth and predicted contours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = ["grid_views", "plot_segmentation_examples"]

TRUTH_COLOUR, PREDICTION_COLOUR = "#f2c14e", "#00b4d8"


def grid_views(volume: np.ndarray, *, centre: tuple[int, int, int], spacing_mm: Sequence[float]) -> dict[str, tuple[np.ndarray, float]]:
    """Axial and coronal slices of a RAS (X, Y, Z) array for radiological display.

    Rows run anterior→posterior (axial) or superior→inferior (coronal) from the top; the
    patient's right is on the left of the image.  Returns ``{view: (slice, aspect)}``.
    """
    x, y, z = centre
    sx, sy, sz = (float(v) for v in spacing_mm)
    axial = volume[:, :, z].T[::-1, ::-1]  # rows: +y (anterior) first; columns: +x (right) first
    coronal = volume[:, y, :].T[::-1, ::-1]  # rows: +z (superior) first
    return {"axial": (axial, sy / sx), "coronal": (coronal, sz / sx)}


def plot_segmentation_examples(cases: Sequence[tuple[str, Mapping[str, np.ndarray]]]) -> Figure:
    """One row per case: axial and coronal slice through the ground truth's centre, truth and prediction contours.

    ``cases``: ``[(title, {"image", "truth", "prediction", "spacing_mm"}), ...]`` as from
    :func:`ecrs_analysis.training.mtl.segmentation_examples`.
    """
    fig, axes = plt.subplots(len(cases), 2, figsize=(7.2, 3.4 * len(cases)), squeeze=False)
    for row, (title, c) in zip(axes, cases):
        idx = np.argwhere(c["truth"] > 0)
        centre = tuple(int(v) for v in (idx.mean(axis=0) if len(idx) else np.array(c["truth"].shape) // 2))
        views = {k: grid_views(np.asarray(c[k]), centre=centre, spacing_mm=c["spacing_mm"]) for k in ("image", "truth", "prediction")}  # type: ignore[arg-type]
        for ax, view in zip(row, ("axial", "coronal")):
            img, aspect = views["image"][view]
            ax.imshow(img, cmap="gray", vmin=0.0, vmax=1.0, aspect=aspect)
            for key, colour, style in (("truth", TRUTH_COLOUR, "-"), ("prediction", PREDICTION_COLOUR, "--")):
                sl = views[key][view][0]
                if sl.any() and not sl.all():
                    ax.contour(sl, levels=[0.5], colors=colour, linewidths=1.1, linestyles=style)
            ax.set_title(f"{title} — {view}", fontsize=9)
            ax.set_axis_off()
    handles = [Line2D([], [], color=TRUTH_COLOUR, lw=1.5, label="ground truth"), Line2D([], [], color=PREDICTION_COLOUR, lw=1.5, ls="--", label="MTLNet")]
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig
