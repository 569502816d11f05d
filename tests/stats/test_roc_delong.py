"""AUC and DeLong statistics against scikit-learn, brute force, and R pROC's published test values."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from ecrs_analysis.stats.delong import delong_ci, delong_covariance, delong_test, delong_test_unpaired
from ecrs_analysis.stats.roc import auc, roc


def brute_auc(y, s):
    cases, controls = s[y == 1], s[y == 0]
    diff = cases[:, None] - controls[None, :]
    return ((diff > 0) + 0.5 * (diff == 0)).mean()


def brute_delong_cov(y, scores):
    """O(n^2) structural components straight from DeLong et al. (1988)."""
    k = len(scores)
    m, n = int(y.sum()), int((1 - y).sum())
    v10 = np.empty((k, m))
    v01 = np.empty((k, n))
    for r, s in enumerate(scores):
        psi = (s[y == 1][:, None] > s[y == 0][None, :]) + 0.5 * (s[y == 1][:, None] == s[y == 0][None, :])
        v10[r] = psi.mean(axis=1)
        v01[r] = psi.mean(axis=0)
    s10 = np.array([[np.sum((v10[i] - v10[i].mean()) * (v10[j] - v10[j].mean())) / (m - 1) for j in range(k)] for i in range(k)])
    s01 = np.array([[np.sum((v01[i] - v01[i].mean()) * (v01[j] - v01[j].mean())) / (n - 1) for j in range(k)] for i in range(k)])
    return s10 / m + s01 / n


@pytest.fixture(scope="module")
def asah(shared_reference):
    d = pd.read_csv(shared_reference / "stats" / "aSAH.csv")
    return (d["outcome"] == "Poor").astype(int).to_numpy(), d


def test_auc_matches_sklearn_and_brute_force_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.normal(y * 0.8, 1.0), 1)  # many ties
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert auc(y, s) == pytest.approx(brute_auc(y, s), abs=1e-12)
    r = roc(y, s)
    assert r.n_cases == y.sum() and np.trapezoid(r.tpr, r.fpr) == pytest.approx(r.auc)


def test_delong_covariance_equals_the_quadratic_definition():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 150)
    scores = [np.round(rng.normal(y * b, 1.0), 1) for b in (0.5, 1.0, 1.5)]
    aucs, cov = delong_covariance(y, *scores)
    assert np.allclose(aucs, [brute_auc(y, s) for s in scores])
    assert np.allclose(cov, brute_delong_cov(y, scores), rtol=1e-10, atol=1e-14)


def test_published_pROC_values_on_aSAH(asah):
    y, d = asah
    # pROC: auc(aSAH$outcome, aSAH$s100b) = 0.7314, ci.auc DeLong 0.6301-0.8326
    r = delong_ci(y, d["s100b"])
    assert r.auc == pytest.approx(0.7314, abs=5e-5)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.6301, 0.8326), abs=5e-5)
    # pROC tests/testthat/test-roc.test.R, roc.test(r.wfns, r.s100b) and (r.wfns, r.ndka), (r.ndka, r.s100b)
    t1 = delong_test(y, d["wfns"], d["s100b"])
    assert t1.statistic == pytest.approx(2.20898359144091, rel=1e-9)
    assert t1.p_value == pytest.approx(0.0271757822291882, rel=1e-9)
    assert (t1.ci_low, t1.ci_high) == pytest.approx((0.0104061769564846, 0.174214419249478), rel=1e-9)
    t2 = delong_test(y, d["wfns"], d["ndka"])
    assert t2.statistic == pytest.approx(2.79777591868904, rel=1e-9) and t2.p_value == pytest.approx(0.00514557970691098, rel=1e-9)
    t3 = delong_test(y, d["ndka"], d["s100b"])
    assert t3.statistic == pytest.approx(-1.39077002573558, rel=1e-9) and t3.p_value == pytest.approx(0.164295175223054, rel=1e-9)
    # unpaired: D and p (t distribution with Welch-Satterthwaite df)
    u1 = delong_test_unpaired(y, d["wfns"], y, d["s100b"])
    assert u1.statistic == pytest.approx(1.43490640926908, rel=1e-9) and u1.p_value == pytest.approx(0.152825378808796, rel=1e-9)
    u3 = delong_test_unpaired(y, d["ndka"], y, d["s100b"])
    assert u3.statistic == pytest.approx(-1.55995743389685, rel=1e-9) and u3.p_value == pytest.approx(0.120192832430845, rel=1e-9)


def test_delong_needs_two_of_each_class():
    with pytest.raises(ValueError, match="at least 2 cases"):
        delong_ci([0, 0, 0, 1], [0.1, 0.2, 0.3, 0.4])


def test_identical_models_give_z0_p1(asah):
    y, d = asah
    t = delong_test(y, d["wfns"], d["wfns"])
    assert t.statistic == 0 and t.p_value == 1


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(10, 80))
def test_invariances(seed, n):
    rng = np.random.default_rng(seed)
    y = np.r_[0, 0, 1, 1, rng.integers(0, 2, n)]
    s1, s2 = rng.normal(y, 1.0), np.round(rng.normal(y * 0.5, 1.0), 1)
    base = delong_test(y, s1, s2)
    # a strictly increasing transform of the scores changes neither AUC nor DeLong
    mono = delong_test(y, np.exp(s1), s2 * 3 + 7)
    assert mono.auc1 == pytest.approx(base.auc1) and mono.statistic == pytest.approx(base.statistic, abs=1e-9)
    # swapping the labels and negating the scores leaves them unchanged too
    swap = delong_test(1 - y, -s1, -s2)
    assert swap.auc1 == pytest.approx(base.auc1) and swap.p_value == pytest.approx(base.p_value, abs=1e-9)


@pytest.mark.parametrize(
    "y, s, match",
    [
        ([1, 1, 1], [0.1, 0.2, 0.3], "only one class"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "must be 0 or 1"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "NaN"),
        ([0, 1, 1], [0.1, 0.2], "shape"),
    ],
)
def test_bad_input_is_named(y, s, match):
    with pytest.raises(ValueError, match=match):
        auc(y, s, name="internal test")
    with pytest.raises(ValueError, match="internal test"):
        delong_ci(y, s, name="internal test")
