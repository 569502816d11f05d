"""Calibration of predicted probabilities and decision-curve analysis.

Brier score (scikit-learn), reliability curve (scikit-learn), calibration intercept and
slope by logistic recalibration (statsmodels GLM), Hosmer-Lemeshow test (hand-written:
neither library has it), and net benefit (Vickers & Elkin 2006).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from ecrs_analysis.stats._checks import check_scores

# net_benefit's default threshold probabilities (read-only: a default array must not be mutable state)
THRESHOLDS = np.linspace(0.01, 0.99, 99)
THRESHOLDS.flags.writeable = False

__all__ = ["PLATT_FOLDS", "Calibration", "calibration", "hosmer_lemeshow", "net_benefit"]

PLATT_FOLDS = 5
"""Folds of the cross-validated Platt scaling of the integrated SVM (``fusion.fit_integrated``):
every class needs this many patients in each grid-search fold's training part."""


@dataclass(frozen=True)
class Calibration:
    brier: float
    intercept: float
    slope: float
    hl_statistic: float
    hl_p_value: float
    curve: pd.DataFrame


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def hosmer_lemeshow(y_true: ArrayLike, prob: ArrayLike, *, groups: int = 10, name: str = "data") -> tuple[float, float]:
    """Hosmer-Lemeshow statistic over deciles of predicted risk and its chi-squared p (groups - 2 df)."""
    y, (p,) = check_scores(y_true, prob, name=name)
    bins = pd.qcut(p, groups, labels=False, duplicates="drop")
    h = 0.0
    g = 0
    for b in np.unique(bins):
        sel = bins == b
        o, e, n = y[sel].sum(), p[sel].sum(), sel.sum()
        if 0 < e < n:
            h += (o - e) ** 2 / (e * (1 - e / n))
            g += 1
    return float(h), float(stats.chi2.sf(h, max(g - 2, 1)))


def calibration(y_true: ArrayLike, prob: ArrayLike, *, n_bins: int = 10, name: str = "data") -> Calibration:
    """Brier score, calibration intercept (offset model) and slope, Hosmer-Lemeshow, reliability curve."""
    y, (p,) = check_scores(y_true, prob, name=name)
    if p.min() < 0 or p.max() > 1:
        raise ValueError(f"{name}: calibration needs probabilities in [0, 1], got range [{p.min():.3g}, {p.max():.3g}]")
    lp = _logit(p)
    slope = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit().params[1]
    intercept = sm.GLM(y, np.ones_like(lp), family=sm.families.Binomial(), offset=lp).fit().params[0]
    frac, mean = calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
    hl, hl_p = hosmer_lemeshow(y, p, name=name)
    return Calibration(float(brier_score_loss(y, p)), float(intercept), float(slope), hl, hl_p, pd.DataFrame({"predicted": mean, "observed": frac}))


def net_benefit(y_true: ArrayLike, prob: ArrayLike, *, thresholds: ArrayLike = THRESHOLDS, name: str = "data") -> pd.DataFrame:
    """Decision curve: net benefit of the model, treat-all and treat-none at each threshold probability."""
    y, (p,) = check_scores(y_true, prob, name=name)
    t = np.asarray(thresholds, dtype=float)
    n = len(y)
    treat = p[None, :] >= t[:, None]
    tp = (treat & (y[None, :] == 1)).sum(axis=1)
    fp = (treat & (y[None, :] == 0)).sum(axis=1)
    odds = t / (1 - t)
    prev = y.mean()
    return pd.DataFrame({"threshold": t, "model": tp / n - fp / n * odds, "treat_all": prev - (1 - prev) * odds, "treat_none": 0.0})
