"""Dice similarity coefficient per patient and its mean with a bootstrap CI."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["dice", "DiceSummary", "dice_summary"]


def dice(pred: ArrayLike, truth: ArrayLike) -> float:
    """2|A∩B| / (|A| + |B|) of two binary masks; 1.0 when both are empty."""
    a, b = np.asarray(pred).astype(bool), np.asarray(truth).astype(bool)
    if a.shape != b.shape:
        raise ValueError(f"masks differ in shape: {a.shape} vs {b.shape}")
    denom = a.sum() + b.sum()
    return 1.0 if denom == 0 else float(2.0 * np.logical_and(a, b).sum() / denom)


@dataclass(frozen=True)
class DiceSummary:
    mean: float
    ci_low: float
    ci_high: float
    n: int


def dice_summary(per_patient: ArrayLike, *, n_resamples: int = 2000, level: float = 0.95, seed: int = 0) -> DiceSummary:
    """Mean Dice over patients with a percentile bootstrap CI (patients resampled)."""
    d: NDArray = np.asarray(per_patient, dtype=float)
    if d.ndim != 1 or d.size == 0 or not np.isfinite(d).all() or (d < 0).any() or (d > 1).any():
        raise ValueError(f"per-patient Dice must be a non-empty 1-D array of values in [0, 1], got shape {d.shape}")
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(n_resamples, d.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return DiceSummary(float(d.mean()), float(lo), float(hi), int(d.size))
