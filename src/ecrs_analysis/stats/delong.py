"""DeLong's variance of the AUC, its confidence interval and DeLong tests between models.

Structural components (DeLong, DeLong & Clarke-Pearson, Biometrics 1988) computed with
the midrank algorithm of Sun & Xu (IEEE Signal Process Lett 2014), O(n log n) for n
patients.  Conventions follow R's pROC: the CI is AUC ± z·SE truncated to [0, 1]; the
paired test uses the covariance of the two AUCs; the unpaired test uses Welch-
Satterthwaite degrees of freedom (set sizes) and a t distribution.

scikit-learn and statsmodels have no DeLong implementation, so this one is hand-written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.stats import rankdata

from ecrs_analysis.stats._checks import check_scores

__all__ = ["DelongResult", "DelongTest", "placements", "delong_covariance", "delong_ci", "delong_test", "delong_test_unpaired"]


@dataclass(frozen=True)
class DelongResult:
    """AUC with its DeLong standard error and confidence interval."""

    auc: float
    se: float
    ci_low: float
    ci_high: float
    level: float


@dataclass(frozen=True)
class DelongTest:
    """DeLong test of AUC1 - AUC2 = 0."""

    auc1: float
    auc2: float
    difference: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    paired: bool
    df: float | None = None


def placements(y: NDArray[np.int8], scores: NDArray[np.float64]) -> tuple[NDArray, NDArray, NDArray]:
    """AUCs and placement values for k score rows (k × n): (auc[k], V10[k, cases], V01[k, controls]).

    ``V10`` of a case is the share of controls it outranks (ties 1/2); ``V01`` of a control the
    share of cases that outrank it.
    """
    s = np.atleast_2d(scores)
    cases, controls = s[:, y == 1], s[:, y == 0]
    m, n = cases.shape[1], controls.shape[1]
    if m < 2 or n < 2:
        raise ValueError(f"DeLong's variance needs at least 2 cases and 2 controls, got {m} case(s) and {n} control(s)")
    tz = rankdata(np.concatenate([cases, controls], axis=1), axis=1)  # midranks in the pooled sample
    tx = rankdata(cases, axis=1)
    ty = rankdata(controls, axis=1)
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    return v10.mean(axis=1), v10, v01


def delong_covariance(y_true: ArrayLike, *scores: ArrayLike, name: str = "data") -> tuple[NDArray, NDArray]:
    """AUCs (k) and their DeLong covariance matrix (k × k) for k models on the same patients."""
    y, s = check_scores(y_true, *scores, name=name)
    aucs, v10, v01 = placements(y, np.vstack(s))
    m, n = v10.shape[1], v01.shape[1]
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return aucs, cov


def delong_ci(y_true: ArrayLike, scores: ArrayLike, *, level: float = 0.95, name: str = "data") -> DelongResult:
    """AUC with its DeLong confidence interval (as pROC's ``ci.auc(method = "delong")``)."""
    aucs, cov = delong_covariance(y_true, scores, name=name)
    a, se = float(aucs[0]), float(np.sqrt(cov[0, 0]))
    z = stats.norm.ppf(0.5 + level / 2)
    return DelongResult(a, se, max(0.0, a - z * se), min(1.0, a + z * se), level)


def delong_test(y_true: ArrayLike, scores1: ArrayLike, scores2: ArrayLike, *, level: float = 0.95, name: str = "data") -> DelongTest:
    """Paired DeLong test of two models on the same patients (pROC ``roc.test``, paired)."""
    aucs, cov = delong_covariance(y_true, scores1, scores2, name=name)
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    if var <= 0:
        z, p = 0.0, 1.0  # identical rankings: no difference to test
    else:
        z = diff / np.sqrt(var)
        p = float(2 * stats.norm.sf(abs(z)))
    half = stats.norm.ppf(0.5 + level / 2) * np.sqrt(max(var, 0.0))
    return DelongTest(float(aucs[0]), float(aucs[1]), diff, float(z), p, diff - half, diff + half, paired=True)


def delong_test_unpaired(y1: ArrayLike, scores1: ArrayLike, y2: ArrayLike, scores2: ArrayLike, *, level: float = 0.95) -> DelongTest:
    """Unpaired DeLong test of two AUCs on different patients (e.g. internal vs external set)."""
    parts = []
    for i, (y, s) in enumerate(((y1, scores1), (y2, scores2))):
        yy, (ss,) = check_scores(y, s, name=f"set {i + 1}")
        a, v10, v01 = placements(yy, ss[None])
        parts.append((float(a[0]), np.var(v10[0], ddof=1) / v10.shape[1], np.var(v01[0], ddof=1) / v01.shape[1], v10.shape[1], v01.shape[1]))
    (a1, x1, y1v, m1, n1), (a2, x2, y2v, m2, n2) = parts
    var1, var2 = x1 + y1v, x2 + y2v
    var = var1 + var2
    d = (a1 - a2) / np.sqrt(var)
    # Welch-Satterthwaite degrees of freedom over whole sets, as pROC computes them.
    df = var**2 / (var1**2 / (m1 + n1 - 1) + var2**2 / (m2 + n2 - 1))
    p = float(2 * stats.t.sf(abs(d), df))
    half = stats.norm.ppf(0.5 + level / 2) * np.sqrt(var)
    return DelongTest(a1, a2, a1 - a2, float(d), p, a1 - a2 - half, a1 - a2 + half, paired=False, df=float(df))
