"""Training-set thresholds follow pROC: midpoints between consecutive distinct scores."""

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.stats.threshold import candidate_thresholds, choose_threshold, operating_point


def _rates(y, s, t):
    """Sensitivity and specificity at t, counted patient by patient."""
    tp = sum(1 for yi, si in zip(y, s) if yi == 1 and si >= t)
    tn = sum(1 for yi, si in zip(y, s) if yi == 0 and si < t)
    return tp / sum(y), tn / (len(y) - sum(y))


def _midpoints(s):
    u = sorted(set(float(v) for v in s))
    return [-np.inf] + [(a + b) / 2 for a, b in zip(u[:-1], u[1:])] + [np.inf]


@pytest.fixture(scope="module")
def asah(shared_reference):
    d = pd.read_csv(shared_reference / "stats" / "aSAH.csv")
    return (d["outcome"] == "Poor").astype(int).to_numpy(), d["s100b"].to_numpy()


def test_asah_s100b_best_threshold_is_procs(asah):
    # pROC's own test suite (tests/testthat/test-coords.R, "coords with best threshold works") expects
    # coords(roc(aSAH$outcome, aSAH$s100b), "best") at threshold 0.205: specificity 58/72 (0.8056), sensitivity 26/41 (0.6341).
    y, s = asah
    t = choose_threshold(y, s)
    assert t == pytest.approx(0.205, abs=1e-12)
    op = operating_point(y, s, threshold=t)
    assert (op.specificity.value, op.sensitivity.value) == pytest.approx((0.8056, 0.6341), abs=5e-5)
    assert (op.tn, op.tp) == (58, 26)


@pytest.mark.parametrize(("rule", "target"), [("sensitivity", 0.9), ("sensitivity", 0.5), ("specificity", 0.9), ("specificity", 0.75), ("sensitivity", 1.0), ("specificity", 1.0)])
def test_asah_target_rules_by_brute_force_over_procs_thresholds(asah, rule, target):
    y, s = asah
    ok = [t for t in _midpoints(s) if _rates(y, s, t)[0 if rule == "sensitivity" else 1] >= target]
    expected = max(ok) if rule == "sensitivity" else min(ok)
    assert choose_threshold(y, s, rule=rule, target=target) == expected


def test_asah_full_sensitivity_needs_pROCs_minus_infinity(asah):
    # pROC: coords(r.s100b, 1, input = "sensitivity") has threshold -Inf (the lowest s100b is a case)
    y, s = asah
    assert choose_threshold(y, s, rule="sensitivity", target=1.0) == -np.inf


@pytest.mark.parametrize("seed", range(8))
def test_youden_by_brute_force_on_tied_scores(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 150)
    s = np.round(rng.normal(y, 1.0), 1)  # many ties
    cands = _midpoints(s)
    m, n = int(y.sum()), int((1 - y).sum())
    j = [round(_rates(y, s, t)[0] * m) * n + round(_rates(y, s, t)[1] * n) * m for t in cands]  # exact (sens + spec) m n
    expected = cands[j.index(max(j))]  # the first (lowest) of tied best thresholds, like pROC's first row
    assert choose_threshold(y, s) == expected


def test_a_new_patient_between_two_training_scores_is_split_at_the_midpoint():
    y = np.array([0, 0, 0, 1, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.5, 0.6, 0.7])
    t = choose_threshold(y, s)
    assert t == pytest.approx(0.4)  # an observed score (0.5) would call a new patient at 0.45 a control
    assert 0.45 >= t and not 0.35 >= t


def test_candidates_and_rule_errors():
    assert candidate_thresholds([3.0, 1.0, 1.0, 2.0]).tolist() == [-np.inf, 1.5, 2.5, np.inf]
    y, s = np.array([0, 1, 0, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    with pytest.raises(ValueError, match="target"):
        choose_threshold(y, s, rule="sensitivity")
    with pytest.raises(ValueError, match="unknown rule"):
        choose_threshold(y, s, rule="best")
