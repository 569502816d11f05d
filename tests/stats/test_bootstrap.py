import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ecrs_analysis.stats.bootstrap import bootstrap_auc_ci, bootstrap_auc_samples, bootstrap_test, bootstrap_test_unpaired
from ecrs_analysis.stats.delong import delong_ci


def _data(seed, n=120, shift=1.0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    return y, np.round(rng.normal(y * shift, 1.0), 1)


# A tiny case whose bootstrap distribution is known exactly: 3 cases and 4 controls (ties within and between the
# classes) have 3**3 * 4**4 = 6,912 equally likely stratified resamples; each one's AUC follows from how often it
# draws each patient: AUC = counts_cases @ H @ counts_controls / (m * n), H[a, b] = 1, 1/2, 0 as case a is above,
# tied with or below control b (the Mann-Whitney count; checked against scikit-learn below).
TINY_Y = np.array([1, 1, 1, 0, 0, 0, 0])
TINY_S1 = np.array([0.9, 0.4, 0.4, 0.4, 0.2, 0.8, 0.1])
TINY_S2 = np.array([0.3, 0.7, 0.5, 0.4, 0.6, 0.1, 0.2])


def _exact_bootstrap(y, *scores):
    """Every stratified resample's AUCs (rows equally likely; one column per score) by enumeration."""
    from itertools import product

    m, n = int(y.sum()), int((1 - y).sum())
    counts = lambda k: np.array([np.bincount(t, minlength=k) for t in product(range(k), repeat=k)])  # noqa: E731
    cc, kc = counts(m), counts(n)
    cols = []
    for s in scores:
        c, k = s[y == 1], s[y == 0]
        h = (c[:, None] > k[None, :]) + 0.5 * (c[:, None] == k[None, :])
        cols.append((cc @ h @ kc.T).ravel() / (m * n))
        # the formula is the AUC: spot-check resamples against scikit-learn
        for i, j in ((0, 0), (5, 17), (26, 255)):
            yy = np.r_[np.ones(m), np.zeros(n)]
            assert cols[-1][i * len(kc) + j] == pytest.approx(roc_auc_score(yy, np.r_[np.repeat(c, cc[i]), np.repeat(k, kc[j])]))
    return np.stack(cols, axis=1)


def test_resampled_aucs_follow_the_exact_bootstrap_distribution():
    from scipy.stats import chisquare

    exact = np.round(_exact_bootstrap(TINY_Y, TINY_S1)[:, 0], 9)
    got = np.round(bootstrap_auc_samples(TINY_Y, TINY_S1, n_resamples=40_000, seed=3)[:, 0], 9)
    support, p = np.unique(exact, return_counts=True)
    assert set(np.unique(got)) <= set(support)  # only AUCs a stratified resample can have
    observed = np.array([(got == v).sum() for v in support])
    keep = p / p.sum() * len(got) >= 5  # pool the rare values so every expected count is at least 5
    f_obs = np.r_[observed[keep], observed[~keep].sum()]
    f_exp = np.r_[p[keep], p[~keep].sum()] / p.sum() * len(got)
    assert chisquare(f_obs[f_exp > 0], f_exp[f_exp > 0]).pvalue > 1e-3
    assert got.mean() == pytest.approx(exact.mean(), abs=4 * exact.std() / np.sqrt(len(got)))
    assert got.std() == pytest.approx(exact.std(), rel=0.03)


def test_percentile_interval_is_the_exact_bootstraps_quantiles():
    exact = _exact_bootstrap(TINY_Y, TINY_S1)[:, 0]
    ci = bootstrap_auc_ci(TINY_Y, TINY_S1, n_resamples=20_000, seed=8)
    assert ci.auc == pytest.approx(roc_auc_score(TINY_Y, TINY_S1))
    # with 20,000 resamples the 2.5% and 97.5% quantiles fall between the exact 2% and 3% (97% and 98%) quantiles
    lo, hi = np.quantile(exact, [0.02, 0.03]), np.quantile(exact, [0.97, 0.98])
    assert lo[0] <= ci.ci_low <= lo[1] and hi[0] <= ci.ci_high <= hi[1]


def test_paired_resamples_draw_the_same_patients_for_both_scores():
    exact = _exact_bootstrap(TINY_Y, TINY_S1, TINY_S2)
    got = bootstrap_auc_samples(TINY_Y, TINY_S1, TINY_S2, n_resamples=40_000, seed=5)
    diff, exact_diff = got[:, 0] - got[:, 1], exact[:, 0] - exact[:, 1]
    assert diff.mean() == pytest.approx(exact_diff.mean(), abs=4 * exact_diff.std() / np.sqrt(len(diff)))
    assert diff.std() == pytest.approx(exact_diff.std(), rel=0.03)
    # resampled apart, the two AUCs would vary with the sum of their variances: pairing is what makes the sd smaller
    unpaired = np.sqrt(exact[:, 0].var() + exact[:, 1].var())
    assert np.corrcoef(got.T)[0, 1] == pytest.approx(np.corrcoef(exact.T)[0, 1], abs=0.02) and abs(diff.std() - unpaired) > 0.02


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
