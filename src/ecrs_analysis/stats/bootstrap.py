"""Every bootstrap of the package, in one place: stratified resamples of patients, the AUC's
confidence intervals (percentile, BCa) and tests between models, and a statistic over patients
with its percentile CI (:func:`bootstrap_summary`).

Resampling is stratified as in pROC (``boot.stratified = TRUE``): cases and controls are
resampled separately, so every resample holds both classes and none is redrawn or
dropped (``n_redrawn`` stays 0 and is reported for transparency).

Speed: a resample is drawn as patient indices; its AUC follows from each control's rank
among the distinct control scores, precomputed once: a bincount of the drawn controls' ranks
and its cumulative sum give, at every case's precomputed position, the controls below it
(ties count half).  Everything is integer, so the AUCs are exact and equal to scikit-learn's
on the same resample; B resamples cost O(B·n) gathers and counts, in blocks small enough to
stay in cache, instead of B sorts (vectorised by hand: scikit-learn's ``roc_auc_score``
sorts every resample).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ecrs_analysis.stats._checks import check_scores
from ecrs_analysis.stats.delong import placements

__all__ = ["stratified_resamples", "Summary", "bootstrap_summary", "BootstrapCI", "BootstrapTest", "bootstrap_auc_samples", "bootstrap_auc_ci", "bootstrap_test", "bootstrap_test_unpaired"]



def stratified_resamples(y: NDArray, *, n_resamples: int, rng: np.random.Generator) -> NDArray[np.intp]:
    """Patient indices of ``n_resamples`` stratified resamples, one per row: cases and controls
    each drawn with replacement from their own class (pROC's ``boot.stratified = TRUE``), so
    every resample keeps the class sizes of ``y``."""
    cases, controls = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    return np.concatenate([rng.choice(cases, (n_resamples, cases.size)), rng.choice(controls, (n_resamples, controls.size))], axis=1)


@dataclass(frozen=True)
class BootstrapCI:
    auc: float
    ci_low: float
    ci_high: float
    level: float
    method: str
    n_resamples: int
    n_redrawn: int = 0


@dataclass(frozen=True)
class BootstrapTest:
    auc1: float
    auc2: float
    difference: float
    statistic: float
    p_value: float
    n_resamples: int
    paired: bool


@dataclass(frozen=True)
class _Ranked:
    """One score vector prepared for resampling: where each control and each case falls among the distinct control scores."""

    ctrl_rank: NDArray[np.intp]  # index of each control's score among the sorted distinct control scores
    case_lo: NDArray[np.intp]  # distinct control scores below each case
    case_hi: NDArray[np.intp]  # ... plus one where the case ties a control score
    n_bins: int
    ties: bool

    @classmethod
    def of(cls, case_scores: NDArray, ctrl_scores: NDArray) -> _Ranked:
        uniq, rank = np.unique(ctrl_scores, return_inverse=True)
        lo = np.searchsorted(uniq, case_scores, side="left")
        tie = (lo < uniq.size) & (uniq[np.minimum(lo, uniq.size - 1)] == case_scores)
        return cls(rank.astype(np.intp), lo.astype(np.intp), (lo + tie).astype(np.intp), uniq.size + 1, bool(tie.any()))

    def aucs(self, case_draws: NDArray[np.intp], ctrl_draws: NDArray[np.intp]) -> NDArray[np.float64]:
        """AUC of each resample (rows of drawn case and control indices, b × m and b × n)."""
        b, m = case_draws.shape
        offsets = (np.arange(b) * self.n_bins)[:, None]
        idx = self.ctrl_rank[ctrl_draws]
        idx += offsets
        counts = np.bincount(idx.ravel(), minlength=b * self.n_bins).reshape(b, self.n_bins)
        below = np.cumsum(counts, axis=1)
        below -= counts  # below[:, k]: drawn controls with a score under distinct score k
        flat = below.ravel()
        # a case at position lo counts the controls below it, plus half of those tied with it:
        # 2 * U = sum over drawn cases of below[lo] + below[hi]
        lo = self.case_lo[case_draws]
        lo += offsets
        twice_u = flat[lo].sum(axis=1)
        if self.ties:
            hi = self.case_hi[case_draws]
            hi += offsets
            twice_u += flat[hi].sum(axis=1)
        else:
            twice_u *= 2
        return twice_u / (2.0 * m * ctrl_draws.shape[1])


def bootstrap_auc_samples(
    y_true: ArrayLike, *scores: ArrayLike, n_resamples: int = 2000, seed: int = 0, chunk: int | None = None, name: str = "data"
) -> NDArray[np.float64]:
    """AUCs of ``n_resamples`` stratified resamples, shape (n_resamples, k) for k models.

    All models share the same resamples (paired); results depend only on ``seed`` (and
    ``chunk``, the resamples drawn per block: by default sized to the data so a block stays
    in cache; another block size draws other, equally valid resamples).
    """
    y, s = check_scores(y_true, *scores, name=name)
    m, n = int(y.sum()), int((1 - y).sum())
    ranked = [_Ranked.of(sk[y == 1], sk[y == 0]) for sk in s]
    chunk = chunk or max(1, 2**16 // len(y))
    rng = np.random.default_rng(seed)
    out = np.empty((n_resamples, len(s)))
    for start in range(0, n_resamples, chunk):
        b = min(chunk, n_resamples - start)
        case_draws = rng.integers(0, m, size=(b, m))
        ctrl_draws = rng.integers(0, n, size=(b, n))
        for k, r in enumerate(ranked):
            out[start : start + b, k] = r.aucs(case_draws, ctrl_draws)
    return out


def _jackknife_auc(y: NDArray, s: NDArray) -> NDArray:
    """Leave-one-out AUCs in O(n log n) from the DeLong placement values."""
    aucs, v10, v01 = placements(y, s[None])
    a, v10, v01 = float(aucs[0]), v10[0], v01[0]
    m, n = len(v10), len(v01)
    return np.concatenate([(m * a - v10) / (m - 1), (n * a - v01) / (n - 1)])


def bootstrap_auc_ci(
    y_true: ArrayLike, scores: ArrayLike, *, n_resamples: int = 2000, level: float = 0.95, method: str = "percentile", seed: int = 0, name: str = "data"
) -> BootstrapCI:
    """AUC with a stratified-bootstrap confidence interval.

    Parameters
    ----------
    y_true, scores : array-like of shape (n,)
        Labels (1 = case) and scores (higher = case).
    n_resamples : int
        Bootstrap resamples (pROC's default 2000).
    level : float
        Confidence level.
    method : {"percentile", "bca"}
        Percentile interval (pROC) or bias-corrected and accelerated (Efron 1987), with
        the acceleration from the jackknife.
    seed : int
        Seed of the resampling.
    """
    y, (s,) = check_scores(y_true, scores, name=name)
    a = float(placements(y, s[None])[0][0])
    boot = bootstrap_auc_samples(y, s, n_resamples=n_resamples, seed=seed, name=name)[:, 0]
    alpha = (1 - level) / 2
    if method == "percentile":
        lo, hi = np.quantile(boot, [alpha, 1 - alpha])
    elif method == "bca":
        prop = (np.sum(boot < a) + 0.5 * np.sum(boot == a)) / len(boot)
        z0 = stats.norm.ppf(np.clip(prop, 1e-10, 1 - 1e-10))
        jk = _jackknife_auc(y, s)
        d = jk.mean() - jk
        denom = 6.0 * (np.sum(d**2) ** 1.5)
        acc = float(np.sum(d**3) / denom) if denom > 0 else 0.0
        q = []
        for z in stats.norm.ppf([alpha, 1 - alpha]):
            q.append(stats.norm.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z))))
        lo, hi = np.quantile(boot, q)
    else:
        raise ValueError(f"method must be 'percentile' or 'bca', got {method!r}")
    return BootstrapCI(a, float(lo), float(hi), level, method, n_resamples)


def bootstrap_test(y_true: ArrayLike, scores1: ArrayLike, scores2: ArrayLike, *, n_resamples: int = 2000, seed: int = 0, name: str = "data") -> BootstrapTest:
    """Paired bootstrap test of AUC1 = AUC2 (pROC ``roc.test(method = "bootstrap")``): D = diff / sd(boot diffs)."""
    y, (s1, s2) = check_scores(y_true, scores1, scores2, name=name)
    a = placements(y, np.vstack([s1, s2]))[0]
    boot = bootstrap_auc_samples(y, s1, s2, n_resamples=n_resamples, seed=seed, name=name)
    sd = float(np.std(boot[:, 0] - boot[:, 1], ddof=1))
    diff = float(a[0] - a[1])
    d = diff / sd if sd > 0 else 0.0
    return BootstrapTest(float(a[0]), float(a[1]), diff, d, float(2 * stats.norm.sf(abs(d))), n_resamples, True)


def bootstrap_test_unpaired(y1: ArrayLike, scores1: ArrayLike, y2: ArrayLike, scores2: ArrayLike, *, n_resamples: int = 2000, seed: int = 0) -> BootstrapTest:
    """Unpaired bootstrap test of two AUCs on different patients (independent resamples)."""
    b1 = bootstrap_auc_samples(y1, scores1, n_resamples=n_resamples, seed=seed, name="set 1")[:, 0]
    b2 = bootstrap_auc_samples(y2, scores2, n_resamples=n_resamples, seed=seed + 1, name="set 2")[:, 0]
    yy1, (ss1,) = check_scores(y1, scores1, name="set 1")
    yy2, (ss2,) = check_scores(y2, scores2, name="set 2")
    a1, a2 = float(placements(yy1, ss1[None])[0][0]), float(placements(yy2, ss2[None])[0][0])
    sd = float(np.std(b1 - b2, ddof=1))
    d = (a1 - a2) / sd if sd > 0 else 0.0
    return BootstrapTest(a1, a2, a1 - a2, d, float(2 * stats.norm.sf(abs(d))), n_resamples, False)


@dataclass(frozen=True)
class Summary:
    """A statistic over patients with its bootstrap CI; ``undefined`` patients (NaN) were not in it."""

    statistic: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    undefined: int


def bootstrap_summary(values: ArrayLike, *, statistic: str = "mean", n_resamples: int = 2000, level: float = 0.95, seed: int = 0) -> Summary:
    """Mean or median over patients with a percentile bootstrap CI (patients resampled, ``scipy.stats.bootstrap``).

    NaN values (undefined metrics, e.g. an empty ground truth) are left out and counted in
    ``undefined``; ``inf`` (a failed segmentation's HD95) stays in: use the median for it.
    """
    v: NDArray = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"values must be 1-D (one per patient), got shape {v.shape}")
    funcs: dict[str, Callable[[NDArray], Any]] = {"mean": np.mean, "median": np.median}
    if statistic not in funcs:
        raise ValueError(f"statistic must be 'mean' or 'median', got {statistic!r}")
    defined = v[~np.isnan(v)]
    undefined = int(v.size - defined.size)
    if defined.size == 0:
        return Summary(statistic, float("nan"), float("nan"), float("nan"), 0, undefined)
    value = float(funcs[statistic](defined))
    if defined.size < 2:  # no interval from one patient
        return Summary(statistic, value, float("nan"), float("nan"), 1, undefined)
    with warnings.catch_warnings():  # inf in a median's resamples is legitimate
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.bootstrap(
            (defined,), funcs[statistic], n_resamples=n_resamples, confidence_level=level, method="percentile", vectorized=True, axis=-1, rng=np.random.default_rng(seed)
        )
    return Summary(statistic, value, float(res.confidence_interval.low), float(res.confidence_interval.high), int(defined.size), undefined)
