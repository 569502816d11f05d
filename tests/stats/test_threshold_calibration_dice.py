import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint

from ecrs_analysis.stats.calibration import calibration, hosmer_lemeshow, net_benefit
from ecrs_analysis.stats.threshold import operating_point


def test_operating_point_counts_and_wilson_intervals():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 1])
    s = np.array([0.9, 0.8, 0.4, 0.7, 0.2, 0.6, 0.1, 0.3, 0.5, 0.55])
    op = operating_point(y, s, threshold=0.5)
    assert (op.tp, op.fn, op.fp, op.tn) == (4, 1, 2, 3)
    assert op.sensitivity.value == pytest.approx(0.8) and op.specificity.value == pytest.approx(0.6)
    lo, hi = proportion_confint(4, 5, method="wilson")
    assert (op.sensitivity.ci_low, op.sensitivity.ci_high) == pytest.approx((lo, hi))
    assert op.accuracy.value == pytest.approx(0.7) and op.f1 == pytest.approx(8 / 11)


def test_perfectly_calibrated_probabilities():
    rng = np.random.default_rng(2)
    p = rng.uniform(0.02, 0.98, 20000)
    y = (rng.random(p.size) < p).astype(int)
    c = calibration(y, p)
    assert abs(c.intercept) < 0.06 and abs(c.slope - 1) < 0.06 and c.hl_p_value > 0.001
    assert c.brier == pytest.approx(np.mean((p - y) ** 2))
    # over-confident predictions -> slope < 1
    over = 1 / (1 + np.exp(-3 * np.log(p / (1 - p))))
    assert calibration(y, over).slope < 0.5


def test_calibration_slope_equals_a_statsmodels_logit_fit():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, 500)
    y = (rng.random(500) < p**1.5).astype(int)
    lp = np.log(p / (1 - p))
    ref = sm.Logit(y, sm.add_constant(lp)).fit(disp=0).params[1]
    assert calibration(y, p).slope == pytest.approx(ref, rel=1e-6)


def test_hosmer_lemeshow_flags_miscalibration():
    rng = np.random.default_rng(4)
    p = rng.uniform(0.05, 0.95, 3000)
    y = (rng.random(p.size) < np.clip(p + 0.2, 0, 1)).astype(int)
    assert hosmer_lemeshow(y, p)[1] < 1e-6


def test_net_benefit_by_hand():
    y = np.array([1, 1, 0, 0, 0])
    p = np.array([0.9, 0.4, 0.6, 0.2, 0.1])
    nb = net_benefit(y, p, thresholds=[0.5])
    # treated: 0.9 (TP), 0.6 (FP); odds(0.5) = 1
    assert nb["model"].iloc[0] == pytest.approx(1 / 5 - 1 / 5)
    assert nb["treat_all"].iloc[0] == pytest.approx(2 / 5 - 3 / 5)


def test_bootstrap_intervals_agree_with_wilson_on_a_large_sample():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 2000)
    s = rng.normal(y, 1.0)
    w = operating_point(y, s, threshold=0.5)
    b = operating_point(y, s, threshold=0.5, ci="bootstrap", n_resamples=1000, seed=1)
    assert b.sensitivity.value == w.sensitivity.value
    for k in ("sensitivity", "specificity", "accuracy", "ppv", "npv"):
        wm, bm = getattr(w, k), getattr(b, k)
        assert abs(wm.ci_low - bm.ci_low) < 0.012 and abs(wm.ci_high - bm.ci_high) < 0.012, k
    # stratified resampling keeps the class sizes: the sensitivity denominator never changes
    with pytest.raises(ValueError, match="wilson"):
        operating_point(y, s, threshold=0.5, ci="exact")
