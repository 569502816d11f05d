"""How many patients does a validation set need? Riley et al. (2021)'s precision criteria.

For an external or test set of ``n`` patients with outcome prevalence ``p``, and a model whose
anticipated C-statistic is ``C`` and calibration slope 1, :func:`validation_precision` gives
the expected 95% CI width of the C-statistic and of the calibration slope, and
:func:`minimum_sample_size` the smallest ``n`` that reaches chosen widths (by default 0.1 for
the C-statistic and 0.2 for the slope, Riley et al.'s suggestions).

- C-statistic: the standard error of Newcombe (2006), a form of Hanley & McNeil's (1982), as in
  Riley et al. (2021, criterion 3).
- Calibration slope: the inverse Fisher information of the calibration model
  ``logit P(y=1) = a + b·LP`` at ``a = 0, b = 1``, averaged over the anticipated distribution
  of the linear predictor ``LP`` (criterion 2). Unless one is given, that distribution is
  derived from ``C`` and ``p`` as Riley et al. suggest: ``LP`` normal within each class with a
  common variance ``σ² = 2 Φ⁻¹(C)²`` and means ``μ`` and ``μ + σ²``. With
  ``μ = logit(p) − σ²/2`` this model is exactly calibrated (the log-likelihood ratio of the two
  normals is ``LP − μ − σ²/2``) and its C-statistic is ``Φ(σ/√2) = C``, so no iterative search
  for ``μ`` is needed (the packages search for it by simulation).

Written here rather than calling ``pmvalsampsize`` (PyPI 0.2.1), which does install: it is
GPL-3.0 (this package is MIT), pins ``tabulate<0.10`` against the locked 0.10.0, seeds NumPy's
global random generator, prints, draws 10⁶ linear predictors per call and answers only the
inverse question (the ``n`` for a width, not the width for an ``n``). The formulas are a few
lines; the expectations over ``LP`` are computed by Gauss–Hermite quadrature instead of
simulation. The tests check the results against the R package's own test values and
against simulation.

References
----------
Riley RD, Debray TPA, Collins GS, et al. Minimum sample size for external validation of a
clinical prediction model with a binary outcome. Stat Med 2021;40:4230-4251.
Newcombe RG. Confidence intervals for an effect size measure based on the Mann-Whitney
statistic. Part 2. Stat Med 2006;25:559-573.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from scipy.stats import norm

__all__ = [
    "Z95",
    "LinearPredictor",
    "ValidationPrecision",
    "MinimumSampleSize",
    "c_statistic_se",
    "calibration_slope_se",
    "validation_precision",
    "minimum_sample_size",
    "precision_table",
    "ANTICIPATED_C",
]

Z95 = 1.96
"""The normal quantile of a 95% CI, as Riley et al. and the R/Stata/Python packages use it."""
ANTICIPATED_C = 0.8
"""Default anticipated C-statistic: Riley et al.'s example value, near the external AUCs both studies report (0.82)."""
_NODES, _WEIGHTS = hermegauss(120)
_WEIGHTS = _WEIGHTS / math.sqrt(2 * math.pi)  # E[f(Z)], Z ~ N(0, 1), = sum(w * f(x))


def _check(*, prevalence: float | None = None, c_statistic: float | None = None, n: float | None = None, width: float | None = None, what: str = "") -> None:
    where = f"{what}: " if what else ""
    if prevalence is not None and not 0 < prevalence < 1:
        raise ValueError(f"{where}prevalence must be between 0 and 1 (exclusive), got {prevalence!r}")
    if c_statistic is not None and not 0.5 < c_statistic < 1:
        raise ValueError(f"{where}anticipated C-statistic must be between 0.5 and 1 (exclusive), got {c_statistic!r}")
    if n is not None and not n >= 2:
        raise ValueError(f"{where}n must be at least 2 patients, got {n!r}")
    if width is not None and not width > 0:
        raise ValueError(f"{where}target CI width must be positive, got {width!r}")


@dataclass(frozen=True)
class LinearPredictor:
    """The anticipated distribution of the model's linear predictor (log-odds) in the validation
    population: a mixture of normals ``sum(weight_i · N(mean_i, sd_i²))``."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    sds: tuple[float, ...]

    @classmethod
    def normal(cls, mean: float, sd: float) -> LinearPredictor:
        """``LP ~ N(mean, sd²)`` (pmvalsampsize's ``lpnormal=(mean, sd)``)."""
        if not sd > 0:
            raise ValueError(f"the linear predictor's SD must be positive, got {sd!r}")
        return cls((1.0,), (float(mean),), (float(sd),))

    @classmethod
    def from_c_statistic(cls, c_statistic: float, prevalence: float) -> LinearPredictor:
        """The calibrated model with C-statistic ``c_statistic`` at ``prevalence`` (see the module notes)."""
        _check(prevalence=prevalence, c_statistic=c_statistic)
        var = 2 * norm.ppf(c_statistic) ** 2
        mu = math.log(prevalence / (1 - prevalence)) - var / 2
        sd = math.sqrt(var)
        return cls((1 - prevalence, prevalence), (mu, mu + var), (sd, sd))

    def expect(self, f: np.ufunc | object) -> float:
        """``E[f(LP)]`` by Gauss–Hermite quadrature (exact for polynomials up to degree 239)."""
        return float(sum(w * np.sum(_WEIGHTS * f(m + s * _NODES)) for w, m, s in zip(self.weights, self.means, self.sds)))  # type: ignore[operator]

    def mean_risk(self) -> float:
        """``E[expit(LP)]``: the prevalence the model predicts."""
        return self.expect(lambda x: 1 / (1 + np.exp(-x)))


@dataclass(frozen=True)
class ValidationPrecision:
    """Expected precision of a validation set's headline metrics.

    ``c_ci_width`` and ``slope_ci_width`` are the expected widths of 95% CIs
    (``2 · 1.96 · SE``); ``events`` is ``n · prevalence``.
    """

    n: int
    prevalence: float
    events: float
    c_statistic: float
    c_se: float
    c_ci_width: float
    slope_se: float
    slope_ci_width: float


@dataclass(frozen=True)
class MinimumSampleSize:
    """The smallest ``n`` for each criterion and overall (the larger), with its expected events."""

    c_statistic: int
    calibration_slope: int
    n: int
    events: float
    c_width: float
    slope_width: float


def _c_parts(c: float) -> tuple[float, float]:
    a = (1 - c) / (2 - c)
    b = c / (1 + c)
    return a, b


def c_statistic_se(c_statistic: float, *, n: float, prevalence: float) -> float:
    """Newcombe's (2006) standard error of the C-statistic for ``n`` patients at ``prevalence``.

    ``SE² = C(1−C)[1 + (n/2 − 1)(1−C)/(2−C) + (n/2 − 1)C/(1+C)] / (n² p (1−p))``
    (Riley et al. 2021, equation for criterion 3).
    """
    _check(prevalence=prevalence, c_statistic=c_statistic, n=n)
    a, b = _c_parts(c_statistic)
    m = n / 2 - 1
    return math.sqrt(c_statistic * (1 - c_statistic) * (1 + m * a + m * b) / (n * n * prevalence * (1 - prevalence)))


def _slope_information(lp: LinearPredictor) -> float:
    """``[I⁻¹]_bb`` per patient: the variance of the calibration slope times ``n``."""

    def w(x: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-x))
        return p * (1 - p)

    i00 = lp.expect(w)
    i01 = lp.expect(lambda x: w(x) * x)
    i11 = lp.expect(lambda x: w(x) * x * x)
    return i00 / (i00 * i11 - i01 * i01)


def calibration_slope_se(*, n: float, lp: LinearPredictor) -> float:
    """Standard error of the calibration slope (true slope 1) for ``n`` patients whose linear
    predictor follows ``lp`` (Riley et al. 2021, criterion 2)."""
    _check(n=n)
    return math.sqrt(_slope_information(lp) / n)


def validation_precision(n: int, prevalence: float, *, c_statistic: float, lp: LinearPredictor | None = None) -> ValidationPrecision:
    """Expected 95% CI widths of the C-statistic and of the calibration slope of a validation set.

    Parameters
    ----------
    n : int
        Patients in the set.
    prevalence : float
        Share of patients with the outcome (eCRS), in (0, 1).
    c_statistic : float
        Anticipated C-statistic (AUC) of the model in this population, in (0.5, 1).
    lp : LinearPredictor, optional
        Anticipated distribution of the linear predictor; default
        :meth:`LinearPredictor.from_c_statistic` (a calibrated model with that C).

    Returns
    -------
    ValidationPrecision

    Examples
    --------
    >>> r = validation_precision(100, 0.3, c_statistic=0.8)
    >>> round(r.c_ci_width, 2), round(r.slope_ci_width, 2)
    (0.19, 0.93)
    """
    _check(prevalence=prevalence, c_statistic=c_statistic, n=n)
    lp = lp or LinearPredictor.from_c_statistic(c_statistic, prevalence)
    c_se = c_statistic_se(c_statistic, n=n, prevalence=prevalence)
    s_se = calibration_slope_se(n=n, lp=lp)
    return ValidationPrecision(int(n), float(prevalence), n * prevalence, float(c_statistic), c_se, 2 * Z95 * c_se, s_se, 2 * Z95 * s_se)


def minimum_sample_size(prevalence: float, *, c_statistic: float, c_width: float = 0.1, slope_width: float = 0.2, lp: LinearPredictor | None = None) -> MinimumSampleSize:
    """The smallest validation set whose expected 95% CI widths reach the targets.

    The C-statistic criterion solves Newcombe's SE for ``n`` (a quadratic); the slope criterion
    is ``n = [I⁻¹]_bb / SE²`` with ``SE = slope_width / (2 · 1.96)``. Both are rounded up, as in
    Riley et al. (2021).

    Examples
    --------
    Riley et al.'s example (prevalence 0.018, C 0.8, CI width 0.1): 4252 patients.

    >>> minimum_sample_size(0.018, c_statistic=0.8).c_statistic
    4252
    """
    _check(prevalence=prevalence, c_statistic=c_statistic, width=c_width, what="C-statistic")
    _check(width=slope_width, what="calibration slope")
    lp = lp or LinearPredictor.from_c_statistic(c_statistic, prevalence)
    c = c_statistic
    a, b = _c_parts(c)
    k = (c_width / (2 * Z95)) ** 2 * prevalence * (1 - prevalence)
    # SE(n)² = target²  <=>  k n² − (C(1−C)(a+b)/2) n − C(1−C)(1−a−b) = 0
    lin = c * (1 - c) * (a + b) / 2
    const = c * (1 - c) * (1 - a - b)
    n_c = math.ceil((lin + math.sqrt(lin * lin + 4 * k * const)) / (2 * k) - 1e-9)
    n_s = math.ceil(_slope_information(lp) / (slope_width / (2 * Z95)) ** 2 - 1e-9)
    n = max(n_c, n_s)
    return MinimumSampleSize(n_c, n_s, n, n * prevalence, float(c_width), float(slope_width))


def precision_table(counts: Mapping[str, tuple[int, int]], *, c_statistic: float = ANTICIPATED_C, c_width: float = 0.1, slope_width: float = 0.2) -> pd.DataFrame:
    """Expected precision of each evaluation set, and the size a set of its prevalence would need.

    Parameters
    ----------
    counts : mapping
        Set name -> ``(patients, cases)``.
    c_statistic, c_width, slope_width
        As in :func:`validation_precision` and :func:`minimum_sample_size`.

    Returns
    -------
    DataFrame
        Indexed by set: ``patients``, ``cases``, ``prevalence``, ``auc_ci_width``,
        ``slope_ci_width``, ``n_for_auc``, ``n_for_slope`` (the minimum n for the target widths
        at the set's prevalence) and ``note`` (why a set without both classes has no values).
    """
    rows = {}
    for name, (patients, cases) in counts.items():
        patients, cases = int(patients), int(cases)
        row: dict[str, object] = {"patients": patients, "cases": cases, "prevalence": cases / patients if patients else float("nan")}
        if patients < 2 or cases in (0, patients):
            row.update(auc_ci_width=float("nan"), slope_ci_width=float("nan"), n_for_auc=pd.NA, n_for_slope=pd.NA,
                       note="needs patients with and without eCRS: no AUC or calibration slope can be estimated")
        else:
            prev = cases / patients
            r = validation_precision(patients, prev, c_statistic=c_statistic)
            m = minimum_sample_size(prev, c_statistic=c_statistic, c_width=c_width, slope_width=slope_width)
            row.update(auc_ci_width=r.c_ci_width, slope_ci_width=r.slope_ci_width, n_for_auc=m.c_statistic, n_for_slope=m.calibration_slope, note="")
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index").rename_axis("set")
    return out.astype({"n_for_auc": "Int64", "n_for_slope": "Int64"}) if len(out) else out
