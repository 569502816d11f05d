"""Segmentation metrics per patient (MONAI) (their summaries over patients with bootstrap CIs: :func:`ecrs_analysis.stats.bootstrap.bootstrap_summary`).

Conventions, one place for all of them:

- the masks are *binary*; a network's logits or probabilities must be thresholded first
  (MONAI's metrics apply no activation, so probabilities would silently give a wrong Dice);
- an **empty ground truth** makes Dice, HD95 and surface Dice undefined: the patient gets NaN
  (neither Dice 1 for an empty prediction nor Dice 0), and every summary reports how many
  patients had an empty ground truth instead of dropping them silently;
- an **empty prediction** of a non-empty ground truth is a failure: Dice 0, surface Dice 0
  and HD95 = inf (MONAI would return NaN, which a mean would quietly skip).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import torch

# torch and MONAI are imported by the functions that use them: importing this module for SEGMENTATION_METRICS
# (stats.evaluate does) must not load them (~3.5 s in each statistics job, which never segments).

__all__ = ["SEGMENTATION_METRICS", "dice_scores", "segmentation_metrics"]

SEGMENTATION_METRICS = ("dice", "hd95", "surface_dice")


def _as_masks(a: ArrayLike, name: str) -> torch.Tensor:
    import torch  # lazy: heavy (see the imports above)

    t = torch.as_tensor(np.asarray(a))
    if t.ndim == 4:
        t = t[:, None]
    if t.ndim != 5 or t.shape[1] != 1:
        raise ValueError(f"{name}: expected masks of shape (patients, X, Y, Z) or (patients, 1, X, Y, Z), got {tuple(t.shape)}")
    values = torch.unique(t)
    if not bool(torch.isin(values, torch.tensor([0, 1], dtype=values.dtype)).all()):
        shown = values[:5].tolist()
        raise ValueError(f"{name}: masks must be binary (0/1); got values such as {shown}. Threshold the network's output first (sigmoid > 0.5)")
    return t.float()


def dice_scores(pred: ArrayLike, truth: ArrayLike) -> NDArray[np.float64]:
    """Dice of each patient (MONAI ``compute_dice``): NaN for an empty ground truth, 0 for an empty prediction.

    ``pred`` and ``truth``: binary masks of shape (n, X, Y, Z) or (n, 1, X, Y, Z).
    """
    from monai.metrics import compute_dice  # lazy: heavy (see the imports above)

    p, t = _as_masks(pred, "predicted masks"), _as_masks(truth, "ground-truth masks")
    if p.shape != t.shape:
        raise ValueError(f"predicted and ground-truth masks differ in shape: {tuple(p.shape)} vs {tuple(t.shape)}")
    with warnings.catch_warnings():  # MONAI warns about empty ground truths: NaN by design here
        warnings.simplefilter("ignore")
        return compute_dice(p, t, include_background=True, ignore_empty=True)[:, 0].numpy().astype(float)


def segmentation_metrics(pred: ArrayLike, truth: ArrayLike, *, spacing: ArrayLike, tolerance_mm: float) -> pd.DataFrame:
    """Dice, 95th-percentile Hausdorff distance and surface Dice of each patient.

    Parameters
    ----------
    pred, truth : array-like of shape (n, X, Y, Z) or (n, 1, X, Y, Z)
        Binary predicted and ground-truth masks.
    spacing : array-like of shape (3,) or (n, 3)
        Voxel size in mm (one for all patients, or one per patient).
    tolerance_mm : float
        Surface Dice counts boundary voxels within this distance of the other boundary.

    Returns
    -------
    DataFrame
        ``dice``, ``hd95`` (mm), ``surface_dice``, ``empty_truth``, ``empty_prediction``;
        one row per patient.  See the module docstring for empty masks.

    Notes
    -----
    The boundary-to-boundary distances come from MONAI's ``get_edge_surface_distance``, once
    per patient for both distance metrics; HD95 is then the larger of the two directed 95th
    percentiles (as ``monai.metrics.compute_hausdorff_distance(percentile=95)``) and surface
    Dice the share of boundary voxels of both masks within the tolerance (as
    ``monai.metrics.compute_surface_dice``); the tests check both against MONAI's functions.

    References
    ----------
    Nikolov et al., "Clinically applicable segmentation of head and neck anatomy for
    radiotherapy", J Med Internet Res 2021 (surface Dice).
    """
    from monai.metrics.utils import get_edge_surface_distance  # lazy: heavy (see the imports above)

    p, t = _as_masks(pred, "predicted masks"), _as_masks(truth, "ground-truth masks")
    if p.shape != t.shape:
        raise ValueError(f"predicted and ground-truth masks differ in shape: {tuple(p.shape)} vs {tuple(t.shape)}")
    sp = np.broadcast_to(np.asarray(spacing, dtype=float), (p.shape[0], 3))
    if not (np.isfinite(sp).all() and (sp > 0).all()):
        raise ValueError(f"spacing must be positive voxel sizes in mm, got {np.asarray(spacing).tolist()}")
    if not tolerance_mm > 0:
        raise ValueError(f"tolerance_mm must be > 0, got {tolerance_mm}")
    dice = dice_scores(p, t)
    empty_truth = (t.sum(dim=(1, 2, 3, 4)) == 0).numpy()
    empty_pred = (p.sum(dim=(1, 2, 3, 4)) == 0).numpy()
    hd95, nsd = np.full(len(dice), np.nan), np.full(len(dice), np.nan)
    for i in np.flatnonzero(~empty_truth & ~empty_pred):
        with warnings.catch_warnings():  # MONAI 1.6 passes its own deprecated always_return_as_numpy internally
            warnings.simplefilter("ignore", FutureWarning)
            _, (d_pt, d_tp), _ = get_edge_surface_distance(p[i, 0].bool(), t[i, 0].bool(), spacing=tuple(sp[i]), symmetric=True)  # type: ignore[misc]  # MONAI annotates the distances as one tensor; symmetric=True returns a pair
        d_pt, d_tp = np.asarray(d_pt, dtype=float), np.asarray(d_tp, dtype=float)
        hd95[i] = max(np.percentile(d_pt, 95), np.percentile(d_tp, 95))
        nsd[i] = (np.sum(d_pt <= tolerance_mm) + np.sum(d_tp <= tolerance_mm)) / (d_pt.size + d_tp.size)
    failed = empty_pred & ~empty_truth
    dice[failed], nsd[failed], hd95[failed] = 0.0, 0.0, np.inf
    return pd.DataFrame({"dice": dice, "hd95": hd95, "surface_dice": nsd, "empty_truth": empty_truth, "empty_prediction": empty_pred})
