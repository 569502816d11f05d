import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ecrs_analysis.stats.bootstrap import bootstrap_auc_ci, bootstrap_auc_samples, bootstrap_test, bootstrap_test_unpaired
from ecrs_analysis.stats.delong import delong_ci


def _data(seed, n=120, shift=1.0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    return y, np.round(rng.normal(y * shift, 1.0), 1)


def test_vectorised_resamples_equal_explicit_resampling():
    # Rebuild the same multinomial resamples explicitly and score them with scikit-learn.
    y, s = _data(0)
    got = bootstrap_auc_samples(y, s, n_resamples=20, seed=9, chunk=20)[:, 0]
    rng = np.random.default_rng(9)
    m, n = y.sum(), (1 - y).sum()
    wc = np.array([np.bincount(r, minlength=m) for r in rng.integers(0, m, size=(20, m))])
    wn = np.array([np.bincount(r, minlength=n) for r in rng.integers(0, n, size=(20, n))])
    cases, controls = s[y == 1], s[y == 0]
    for b in range(20):
        cs, ct = np.repeat(cases, wc[b]), np.repeat(controls, wn[b])
        yy = np.r_[np.ones(len(cs)), np.zeros(len(ct))]
        assert got[b] == pytest.approx(roc_auc_score(yy, np.r_[cs, ct]), abs=1e-12)


def test_seeded_and_stable_across_seeds_within_monte_carlo_error():
    y, s = _data(1, n=300)
    a = bootstrap_auc_ci(y, s, seed=1)
    assert bootstrap_auc_ci(y, s, seed=1) == a
    b = bootstrap_auc_ci(y, s, seed=2)
    assert abs(a.ci_low - b.ci_low) < 0.015 and abs(a.ci_high - b.ci_high) < 0.015
    # the bootstrap and DeLong intervals agree closely on a sample of this size
    d = delong_ci(y, s)
    assert abs(a.ci_low - d.ci_low) < 0.02 and abs(a.ci_high - d.ci_high) < 0.02


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_coverage_close_to_nominal(method):
    # 200 simulated data sets from a binormal model with known AUC = Phi(1/sqrt(2)).
    from scipy.stats import norm

    true_auc = norm.cdf(1.0 / np.sqrt(2))
    hits = 0
    for k in range(200):
        rng = np.random.default_rng(1000 + k)
        y = np.r_[np.zeros(60, int), np.ones(60, int)]
        s = rng.normal(y * 1.0, 1.0)
        ci = bootstrap_auc_ci(y, s, n_resamples=500, seed=k, method=method)
        hits += ci.ci_low <= true_auc <= ci.ci_high
    assert hits >= 0.91 * 200, f"coverage {hits / 200:.3f}"


def test_paired_and_unpaired_tests():
    y, s = _data(3, n=200, shift=1.2)
    rng = np.random.default_rng(4)
    noise = s + rng.normal(0, 3.0, len(s))
    t = bootstrap_test(y, s, noise, n_resamples=1000, seed=1)
    assert t.difference > 0 and t.p_value < 0.05
    same = bootstrap_test(y, s, s, n_resamples=200, seed=1)
    assert same.statistic == 0 and same.p_value == 1
    y2, s2 = _data(5, n=200, shift=1.2)
    u = bootstrap_test_unpaired(y, s, y2, s2, n_resamples=1000, seed=1)
    assert u.p_value > 0.01  # same distribution


def test_unknown_method():
    y, s = _data(0)
    with pytest.raises(ValueError, match="percentile"):
        bootstrap_auc_ci(y, s, method="basic")


@pytest.mark.parametrize("decimals", [None, 0])
def test_paired_resamples_equal_explicit_resampling_with_and_without_ties(decimals):
    # default block size: 150 patients -> one block of these 15 resamples, drawn cases first, then controls
    rng0 = np.random.default_rng(5)
    y = (rng0.random(150) < 0.5).astype(int)
    s1, s2 = rng0.normal(y, 1.0), rng0.normal(0.5 * y, 1.0)
    if decimals is not None:
        s1, s2 = np.round(s1, decimals), np.round(s2, decimals)  # heavy ties, also between cases and controls
    got = bootstrap_auc_samples(y, s1, s2, n_resamples=15, seed=4)
    rng = np.random.default_rng(4)
    m, n = y.sum(), (1 - y).sum()
    ic, ik = rng.integers(0, m, size=(15, m)), rng.integers(0, n, size=(15, n))
    for b in range(15):
        yy = np.r_[np.ones(m), np.zeros(n)]
        for k, s in enumerate((s1, s2)):
            assert got[b, k] == pytest.approx(roc_auc_score(yy, np.r_[s[y == 1][ic[b]], s[y == 0][ik[b]]]), abs=1e-12)
