"""Operating point: a threshold chosen on the training set and applied unchanged to test sets.

At the threshold a patient is called a case when ``score >= threshold`` (pROC's
``direction = "<"``).  Thresholds are pROC's: midpoints between consecutive distinct
training scores (written out here because scikit-learn's ``roc_curve`` returns the
observed scores themselves).  Proportions carry Wilson score intervals from statsmodels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from statsmodels.stats.proportion import proportion_confint

from ecrs_analysis.stats._checks import check_scores
from ecrs_analysis.stats.bootstrap import stratified_resamples

__all__ = ["candidate_thresholds", "choose_threshold", "Metric", "OperatingPoint", "operating_point"]


def candidate_thresholds(scores: ArrayLike) -> NDArray[np.float64]:
    """pROC's thresholds: -inf, the midpoints between consecutive distinct scores, +inf (ascending).

    A midpoint, not an observed score, is where a new patient between two training values
    is split as pROC's ``roc()``/``coords()`` would.
    """
    u = np.unique(np.asarray(scores, dtype=float))
    return np.concatenate([[-np.inf], (u[:-1] + u[1:]) / 2, [np.inf]])


def choose_threshold(y_true: ArrayLike, scores: ArrayLike, *, rule: str = "youden", target: float | None = None, name: str = "training set") -> float:
    """Threshold on the *training* set, among pROC's candidate thresholds (:func:`candidate_thresholds`).

    Parameters
    ----------
    rule : {"youden", "sensitivity", "specificity"}
        ``youden``: maximise Youden's J = sensitivity + specificity - 1, as pROC's
        ``coords(roc, "best")``; of tied thresholds the lowest (pROC's first row).
        ``sensitivity``: the highest threshold with sensitivity >= ``target``;
        ``specificity``: the lowest threshold with specificity >= ``target``.
        These two may return -inf or +inf (call every or no patient a case) when only
        that reaches the target, as pROC would.
    target : float, optional
        Target sensitivity or specificity in (0, 1] for those rules.

    Returns
    -------
    float
        Patients with ``score >= threshold`` are cases.
    """
    y, (s,) = check_scores(y_true, scores, name=name)
    thr = candidate_thresholds(s)
    cases, controls = np.sort(s[y == 1]), np.sort(s[y == 0])
    m, n = cases.size, controls.size
    tp = m - np.searchsorted(cases, thr, side="left")  # cases with score >= thr
    tn = np.searchsorted(controls, thr, side="left")  # controls with score < thr
    if rule == "youden":
        return float(thr[np.argmax(tp * n + tn * m)])  # (sens + spec) * m * n in integers: ties are exact
    if rule not in ("sensitivity", "specificity"):
        raise ValueError(f"unknown rule {rule!r}; valid: youden, sensitivity, specificity")
    if target is None or not 0 < target <= 1:
        raise ValueError(f"rule {rule!r} needs a target in (0, 1], got {target!r}")
    if rule == "sensitivity":
        return float(thr[np.nonzero(tp / m >= target)[0][-1]])
    return float(thr[np.nonzero(tn / n >= target)[0][0]])


@dataclass(frozen=True)
class Metric:
    value: float
    ci_low: float
    ci_high: float
    successes: int
    total: int


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int
    sensitivity: Metric
    specificity: Metric
    accuracy: Metric
    ppv: Metric
    npv: Metric
    f1: float


def _wilson(k: int, n: int, level: float) -> Metric:
    if n == 0:
        return Metric(float("nan"), float("nan"), float("nan"), k, n)
    lo, hi = proportion_confint(k, n, alpha=1 - level, method="wilson")
    return Metric(k / n, float(lo), float(hi), k, n)


def _bootstrap(y: np.ndarray, pred: np.ndarray, level: float, n_resamples: int, seed: int) -> dict[str, tuple[float, float]]:
    """Percentile CIs of the five proportions over stratified resamples of patients."""
    idx = stratified_resamples(y, n_resamples=n_resamples, rng=np.random.default_rng(seed))
    yy, pp = y[idx] == 1, pred[idx]
    tp, fp = (pp & yy).sum(1), (pp & ~yy).sum(1)
    tn, fn = (~pp & ~yy).sum(1), (~pp & yy).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = {"sensitivity": tp / (tp + fn), "specificity": tn / (tn + fp), "accuracy": (tp + tn) / len(y), "ppv": tp / (tp + fp), "npv": tn / (tn + fn)}
    q = [(1 - level) / 2, (1 + level) / 2]
    return {k: tuple(np.nanquantile(v, q)) for k, v in values.items()}


def operating_point(
    y_true: ArrayLike, scores: ArrayLike, *, threshold: float, level: float = 0.95, ci: str = "wilson", n_resamples: int = 2000, seed: int = 0, name: str = "data"
) -> OperatingPoint:
    """Confusion matrix and sensitivity, specificity, accuracy, PPV, NPV and F1 at a fixed threshold.

    ``ci="wilson"`` (default) gives Wilson score intervals; ``ci="bootstrap"`` percentile
    intervals over stratified resamples of patients (a resample in which PPV or NPV is
    undefined, with no positive or negative call, is left out of that metric's interval).
    """
    y, (s,) = check_scores(y_true, scores, name=name)
    pred = s >= threshold
    tp, fn = int(np.sum(pred & (y == 1))), int(np.sum(~pred & (y == 1)))
    fp, tn = int(np.sum(pred & (y == 0))), int(np.sum(~pred & (y == 0)))
    f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else float("nan")
    counts = {"sensitivity": (tp, tp + fn), "specificity": (tn, tn + fp), "accuracy": (tp + tn, len(y)), "ppv": (tp, tp + fp), "npv": (tn, tn + fn)}
    if ci == "wilson":
        metrics = {k: _wilson(a, b, level) for k, (a, b) in counts.items()}
    elif ci == "bootstrap":
        bounds = _bootstrap(y, pred, level, n_resamples, seed)
        metrics = {k: Metric(a / b if b else float("nan"), float(bounds[k][0]), float(bounds[k][1]), a, b) for k, (a, b) in counts.items()}
    else:
        raise ValueError(f"ci must be 'wilson' or 'bootstrap', got {ci!r}")
    return OperatingPoint(threshold, tp, fp, tn, fn, metrics["sensitivity"], metrics["specificity"], metrics["accuracy"], metrics["ppv"], metrics["npv"], f1)
