"""ROC curve and AUC with pROC's conventions: controls = 0, cases = 1, higher score = case, ties count 1/2."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import roc_auc_score, roc_curve

from ._checks import check_scores

__all__ = ["RocCurve", "roc", "auc"]


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
