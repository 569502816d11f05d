"""ROC curve and AUC with pROC's conventions: controls = 0, cases = 1, higher score = case, ties count 1/2."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import roc_auc_score, roc_curve

from ecrs_analysis.stats._checks import check_scores
from ecrs_analysis.stats.bootstrap import stratified_resamples

__all__ = ["RocCurve", "RocBand", "roc", "auc", "roc_band"]


@dataclass(frozen=True)
class RocCurve:
    """Points of an ROC curve and its area."""

    fpr: NDArray[np.float64]
    tpr: NDArray[np.float64]
    thresholds: NDArray[np.float64]
    auc: float
    n_cases: int
    n_controls: int


def auc(y_true: ArrayLike, scores: ArrayLike, *, name: str = "data") -> float:
    """Area under the ROC curve (the Mann-Whitney probability P(case > control) + P(tie) / 2)."""
    y, (s,) = check_scores(y_true, scores, name=name)
    return float(roc_auc_score(y, s))


def roc(y_true: ArrayLike, scores: ArrayLike, *, name: str = "data") -> RocCurve:
    """The empirical ROC curve (scikit-learn) with pROC's orientation."""
    y, (s,) = check_scores(y_true, scores, name=name)
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    return RocCurve(fpr, tpr, thr, float(roc_auc_score(y, s)), int(y.sum()), int((1 - y).sum()))


@dataclass(frozen=True)
class RocBand:
    """Pointwise bootstrap band of sensitivity over a grid of 1 - specificity (as pROC's ``ci.se``)."""

    fpr: NDArray[np.float64]
    tpr: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]


def roc_band(y_true: ArrayLike, scores: ArrayLike, *, n_resamples: int = 500, level: float = 0.95, seed: int = 0, grid: int = 101, name: str = "data") -> RocBand:
    """ROC curve on a fixed FPR grid with a stratified-bootstrap confidence band."""
    y, (s,) = check_scores(y_true, scores, name=name)
    fpr_grid = np.linspace(0.0, 1.0, grid)
    fpr, tpr, _ = roc_curve(y, s)
    base = np.interp(fpr_grid, fpr, tpr)
    curves = np.empty((n_resamples, grid))
    for b, idx in enumerate(stratified_resamples(y, n_resamples=n_resamples, rng=np.random.default_rng(seed))):
        f, t, _ = roc_curve(y[idx], s[idx])
        curves[b] = np.interp(fpr_grid, f, t)
    lo, hi = np.quantile(curves, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return RocBand(fpr_grid, base, lo, hi)
