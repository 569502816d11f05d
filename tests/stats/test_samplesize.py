"""Sample size for validation (Riley et al. 2021): published values, an independent Monte Carlo, simulation."""

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from ecrs_analysis.stats.samplesize import (
    LinearPredictor,
    c_statistic_se,
    calibration_slope_se,
    minimum_sample_size,
    precision_table,
    validation_precision,
)


def test_c_statistic_criterion_matches_the_worked_example():
    # Riley et al. 2021's example, also the R package pmvalsampsize's tests (binary_ss_checks 4.1-4.3):
    # prevalence 0.018, C 0.8, 95% CI width 0.1 -> 4252 participants, whatever the LP distribution
    for lp in (None, LinearPredictor.normal(-5, 2.5)):
        assert minimum_sample_size(0.018, c_statistic=0.8, c_width=0.1, lp=lp).c_statistic == 4252
    # and 4252 is the first n whose width is within the target (a brute-force scan)
    widths = {n: 2 * 1.96 * c_statistic_se(0.8, n=n, prevalence=0.018) for n in (4251, 4252)}
    assert widths[4251] > 0.1 >= widths[4252]


def test_slope_criterion_agrees_with_a_monte_carlo_of_the_information_matrix():
    # the R package estimates E[w], E[w LP], E[w LP^2] from simulated LPs; here a 2e6-draw version
    # of that estimate against the quadrature (pmvalsampsize's tests, with only 1e3-1e4 draws,
    # give 4501 for N(-5, 2.5) and 16175 for the C-derived LP: within their simulation noise of ours)
    rng = np.random.default_rng(20210524)
    for lp, published in ((LinearPredictor.normal(-5, 2.5), 4501), (LinearPredictor.from_c_statistic(0.8, 0.018), 16175)):
        k = rng.choice(len(lp.weights), size=2_000_000, p=lp.weights)
        x = rng.normal(np.take(lp.means, k), np.take(lp.sds, k))
        w = 1 / (1 + np.exp(-x)) * (1 - 1 / (1 + np.exp(-x)))
        i00, i01, i11 = w.mean(), (w * x).mean(), (w * x * x).mean()
        mc = math.ceil(i00 / ((0.2 / 3.92) ** 2 * (i00 * i11 - i01**2)))
        ours = minimum_sample_size(0.018, c_statistic=0.8, lp=lp).calibration_slope
        assert ours == pytest.approx(mc, rel=0.01)
        assert ours == pytest.approx(published, rel=0.08)


def test_lp_from_the_c_statistic_is_calibrated_and_has_that_c():
    lp = LinearPredictor.from_c_statistic(0.75, 0.3)
    assert lp.mean_risk() == pytest.approx(0.3, abs=1e-9)  # predicted prevalence = prevalence
    # binormal with equal variances: C = Phi(delta / (sd * sqrt(2)))
    delta, sd = lp.means[1] - lp.means[0], lp.sds[0]
    assert norm.cdf(delta / (sd * math.sqrt(2))) == pytest.approx(0.75)
    assert LinearPredictor.from_c_statistic(0.8, 0.018).means[0] == pytest.approx(-4.7, abs=0.01)  # pmvalsampsize's lpcstat start


def test_widths_shrink_with_n_and_minimum_n_reaches_the_targets():
    small, large = (validation_precision(n, 0.3, c_statistic=0.8) for n in (50, 500))
    assert large.c_ci_width < small.c_ci_width and large.slope_ci_width < small.slope_ci_width
    assert large.slope_ci_width == pytest.approx(small.slope_ci_width / math.sqrt(10))
    m = minimum_sample_size(0.3, c_statistic=0.8, c_width=0.15, slope_width=0.3)
    at = validation_precision(m.n, 0.3, c_statistic=0.8)
    below_c = validation_precision(m.c_statistic - 1, 0.3, c_statistic=0.8)
    below_s = validation_precision(m.calibration_slope - 1, 0.3, c_statistic=0.8)
    assert at.c_ci_width <= 0.15 and at.slope_ci_width <= 0.3
    assert below_c.c_ci_width > 0.15 and below_s.slope_ci_width > 0.3
    assert m.n == max(m.c_statistic, m.calibration_slope) and m.events == pytest.approx(0.3 * m.n)


def test_standard_errors_match_simulated_validation_sets():
    # draw 400 validation sets of 300 patients from the calibrated model with C 0.8 at prevalence 0.3,
    # estimate the C-statistic and the calibration slope in each: their spread is the SE
    rng = np.random.default_rng(7)
    n, p, c = 300, 0.3, 0.8
    lp = LinearPredictor.from_c_statistic(c, p)
    aucs, slopes = [], []
    for _ in range(400):
        y = (rng.random(n) < p).astype(int)
        x = rng.normal(np.where(y == 1, lp.means[1], lp.means[0]), lp.sds[0])
        aucs.append(roc_auc_score(y, x))
        slopes.append(sm.Logit(y, sm.add_constant(x)).fit(disp=0).params[1])
    assert np.mean(aucs) == pytest.approx(c, abs=0.01) and np.mean(slopes) == pytest.approx(1, abs=0.05)
    assert np.std(aucs, ddof=1) == pytest.approx(c_statistic_se(c, n=n, prevalence=p), rel=0.15)
    assert np.std(slopes, ddof=1) == pytest.approx(calibration_slope_se(n=n, lp=lp), rel=0.15)


@pytest.mark.parametrize("kwargs, match", [
    ({"prevalence": 0.0}, "prevalence must be between 0 and 1"),
    ({"c_statistic": 0.4}, "C-statistic must be between 0.5 and 1"),
    ({"n": 1}, "n must be at least 2"),
])
def test_bad_input_is_named(kwargs, match):
    args = {"n": 100, "prevalence": 0.3, "c_statistic": 0.8} | kwargs
    with pytest.raises(ValueError, match=match):
        validation_precision(args["n"], args["prevalence"], c_statistic=args["c_statistic"])


def test_precision_table_per_set_and_sets_with_one_class():
    t = precision_table({"internal_test": (40, 12), "external_test": (100, 30), "empty_cases": (10, 0)}, c_statistic=0.8)
    r = validation_precision(100, 0.3, c_statistic=0.8)
    assert t.loc["external_test", "auc_ci_width"] == pytest.approx(r.c_ci_width)
    assert t.loc["external_test", "slope_ci_width"] == pytest.approx(r.slope_ci_width)
    assert t.loc["internal_test", "auc_ci_width"] > t.loc["external_test", "auc_ci_width"]  # same prevalence, fewer patients
    m = minimum_sample_size(0.3, c_statistic=0.8)
    assert (t.loc["internal_test", "n_for_auc"], t.loc["internal_test", "n_for_slope"]) == (m.c_statistic, m.calibration_slope)
    assert np.isnan(t.loc["empty_cases", "auc_ci_width"]) and "with and without eCRS" in t.loc["empty_cases", "note"]
