"""Is the attention in the right place?  Pointing game and energy share against a region, with baselines.

- pointing game (Zhang et al. 2018): does the map's maximum fall inside the region?
- energy share (Wang et al. 2020, Score-CAM's "energy-based pointing game"): the share of the
  map's total mass inside the region;
- the same for a map of uniform noise and for a blob at the centre of the crop: a crop made
  around the lesion makes any map look right, and these baselines show how right by chance;
- summaries with percentile bootstrap CIs over patients (``scipy.stats.bootstrap``);
- the model-randomisation sanity check (Adebayo et al. 2018): Spearman correlation between
  the maps of the trained network and of the same network with random weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from ecrs_analysis.stats.bootstrap import bootstrap_summary

__all__ = ["mean_ci", "distance_to", "pointing_hit", "energy_share", "random_map", "centre_map", "spearman_maps", "summarise_attention", "summarise_sanity"]


def _pair(cam: NDArray, region: NDArray) -> tuple[NDArray, NDArray]:
    c, r = np.asarray(cam, dtype=np.float64), np.asarray(region).astype(bool)
    if c.shape != r.shape:
        raise ValueError(f"map and region differ in shape: {c.shape} vs {r.shape}")
    if not np.isfinite(c).all() or (c < 0).any():
        raise ValueError("a map must be finite and non-negative")
    return c, r


def distance_to(region: NDArray, *, spacing: Sequence[float]) -> NDArray[np.float64]:
    """Distance (mm) from every voxel to the nearest voxel of the region (0 inside; inf when the region is empty).

    ``spacing`` in the array's axis order (for a SimpleITK array: z, y, x).
    """
    from scipy import ndimage

    r = np.asarray(region).astype(bool)
    if not r.any():
        return np.full(r.shape, np.inf)
    return ndimage.distance_transform_edt(~r, sampling=tuple(float(s) for s in spacing))


def pointing_hit(cam: NDArray, region: NDArray, *, distance: NDArray | None = None, tolerance_mm: float = 0.0) -> float:
    """1 when the map's maximum lies in the region (or within ``tolerance_mm`` of it), else 0; NaN for an all-zero map.

    Ties (several voxels at the maximum) share the credit: the result is the share of them
    that hit.  With a tolerance, pass ``distance`` (:func:`distance_to`): Zhang et al.'s
    pointing game allows 15 pixels, since a map coarser than the region cannot be asked to
    land inside a rim one voxel thick.
    """
    c, r = _pair(cam, region)
    top = c.max()
    if top <= 0:
        return float("nan")
    at_max = c == top
    if tolerance_mm > 0:
        if distance is None or np.shape(distance) != r.shape:
            raise ValueError("a pointing tolerance needs the region's distance map (distance_to) on the same grid")
        r = np.asarray(distance) <= tolerance_mm
    return float(r[at_max].sum() / at_max.sum())


def energy_share(cam: NDArray, region: NDArray) -> float:
    """Share of the map's total mass inside the region; NaN for an all-zero map."""
    c, r = _pair(cam, region)
    total = c.sum()
    return float(c[r].sum() / total) if total > 0 else float("nan")


def random_map(shape: Sequence[int], *, seed: int) -> NDArray[np.float32]:
    """Uniform noise in [0, 1]: its maximum is a random voxel of the crop."""
    return np.random.default_rng(seed).random(tuple(shape), dtype=np.float32)


def centre_map(shape: Sequence[int]) -> NDArray[np.float32]:
    """A Gaussian blob at the centre of the crop (sd a quarter of each side), peak 1."""
    axes = [((np.arange(n) - (n - 1) / 2.0) / (n / 4.0)) ** 2 for n in shape]
    d2 = axes[0][:, None, None] + axes[1][None, :, None] + axes[2][None, None, :]
    return np.exp(-0.5 * d2).astype(np.float32)


def spearman_maps(a: NDArray, b: NDArray) -> float:
    """Spearman rank correlation of two maps over all voxels (NaN when either is constant)."""
    x, y = np.ravel(a), np.ravel(b)
    if x.shape != y.shape:
        raise ValueError(f"maps differ in size: {np.shape(a)} vs {np.shape(b)}")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def mean_ci(values: NDArray, *, n_resamples: int, level: float, seed: int) -> tuple[float, float, float, int]:
    """Mean of the finite values with a percentile bootstrap CI (:func:`~ecrs_analysis.stats.bootstrap.bootstrap_summary`), and how many there were."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan"), 0
    if v.size == 1 or np.ptp(v) == 0:  # every resample has the same mean
        return float(v.mean()), float(v.mean()), float(v.mean()), int(v.size)
    s = bootstrap_summary(v, statistic="mean", n_resamples=n_resamples, level=level, seed=seed)
    return s.value, s.ci_low, s.ci_high, s.n


def summarise_attention(metrics: pd.DataFrame, *, by: Sequence[str], n_resamples: int, seed: int, level: float = 0.95) -> pd.DataFrame:
    """Pointing game and energy share per group, mean with a bootstrap CI over patients.

    Parameters
    ----------
    metrics : DataFrame
        One row per (model, patient, map, region) with columns ``pointing`` and ``energy``
        (NaN for an all-zero map: such patients are counted in ``empty maps`` and left out).
    by : list of str
        Grouping columns, e.g. ``["model", "region", "map"]`` or with ``"outcome"``.

    Returns
    -------
    DataFrame
        Indexed by ``by``: ``pointing game`` and ``energy share`` with ``low``/``high`` CI bounds,
        ``patients`` and ``empty maps``.
    """
    rows = []
    for key, g in metrics.groupby(list(by), sort=False):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        for col, label in (("pointing", "pointing game"), ("energy", "energy share")):
            m, lo, hi, _ = mean_ci(g[col].to_numpy(), n_resamples=n_resamples, level=level, seed=seed)
            row[label], row[f"{label} low"], row[f"{label} high"] = m, lo, hi
        row["patients"] = int(g["pointing"].notna().sum())
        row["empty maps"] = int(g["pointing"].isna().sum())
        rows.append(row)
    return pd.DataFrame(rows).set_index(list(by))


def summarise_sanity(sanity: pd.DataFrame) -> pd.DataFrame:
    """Median and quartiles of the Spearman correlations per model and comparison.

    A pair with a constant (e.g. all-zero) map has no rank correlation: it is counted in ``constant maps``.
    """
    g = sanity.groupby(["model", "comparison"], sort=False)["spearman"]
    out = pd.DataFrame({"median ρ": g.median(), "Q1": g.quantile(0.25), "Q3": g.quantile(0.75), "patients": g.count(), "constant maps": g.size() - g.count()})
    return out.round(3)
