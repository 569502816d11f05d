import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ecrs_analysis.data.synth.patients import LABEL_CUT, LABEL_NOISE, draw_patient, lund_mackay, true_probability


@pytest.fixture(scope="module")
def draws():
    rng = np.random.default_rng(0)
    return [draw_patient(rng) for _ in range(4000)]


def test_prevalence_is_in_the_intended_range(draws):
    prevalence = np.mean([d.label for d in draws])
    assert 0.38 < prevalence < 0.52


def test_stored_probability_is_calibrated(draws):
    # The stored true probability must match the observed label frequency in bins.
    p = np.array([d.true_prob for d in draws])
    y = np.array([d.label for d in draws])
    for lo, hi in [(0.0, 0.2), (0.2, 0.5), (0.5, 0.8), (0.8, 1.0)]:
        sel = (p >= lo) & (p < hi)
        assert sel.sum() > 100
        assert abs(y[sel].mean() - p[sel].mean()) < 0.05


def test_true_probability_is_the_chance_that_the_noisy_latent_crosses_the_cut():
    # the generator's label: latent + N(0, LABEL_NOISE) noise above LABEL_CUT; counted by simulation
    rng = np.random.default_rng(5)
    z = np.linspace(-2, 2, 9)
    crossed = ((z[:, None] + rng.normal(0, LABEL_NOISE, (z.size, 40_000))) > LABEL_CUT).mean(axis=1)
    assert np.abs(true_probability(z) - crossed).max() < 0.01
    assert true_probability(np.array([LABEL_CUT]))[0] == pytest.approx(0.5)


def test_eosinophilic_cases_are_ethmoid_dominant_and_more_often_bilateral(draws):
    y = np.array([d.label for d in draws])
    eth = np.array([d.opacification["right_anterior_ethmoid"] + d.opacification["left_anterior_ethmoid"] for d in draws])
    mx = np.array([d.opacification["right_maxillary"] + d.opacification["left_maxillary"] for d in draws])
    bilateral = np.array([d.clinical["bilateral_disease"] for d in draws])
    assert roc_auc_score(y, eth - mx) > 0.7
    assert bilateral[y == 1].mean() > bilateral[y == 0].mean() + 0.1


def test_clinical_signals_point_the_documented_way(draws):
    y = np.array([d.label for d in draws])
    col = lambda k: np.array([d.clinical[k] for d in draws])  # noqa: E731
    assert roc_auc_score(y, col("blood_eos_pct")) > 0.75
    assert col("asthma")[y == 1].mean() > col("asthma")[y == 0].mean()
    assert col("smoking")[y == 1].mean() < col("smoking")[y == 0].mean()
    assert abs(roc_auc_score(y, col("bmi")) - 0.5) < 0.05  # a negative control


def test_ceiling_auc_beats_every_single_observable(draws):
    y = np.array([d.label for d in draws])
    ceiling = roc_auc_score(y, [d.true_prob for d in draws])
    assert 0.85 < ceiling < 0.95
    assert ceiling > roc_auc_score(y, [d.clinical["blood_eos_pct"] for d in draws])


def test_every_patient_has_visible_disease(draws):
    assert min(max(d.opacification.values()) for d in draws) >= 0.35


def test_lund_mackay_by_hand():
    fractions = {f"{s}_{n}": 0.0 for s in ("right", "left") for n in ("maxillary", "anterior_ethmoid", "posterior_ethmoid", "frontal", "sphenoid")}
    fractions.update({"right_maxillary": 0.95, "left_maxillary": 0.3, "right_anterior_ethmoid": 0.6, "left_frontal": 0.01})
    lm = lund_mackay(fractions)
    assert lm["lm_right_maxillary"] == 2 and lm["lm_left_maxillary"] == 1
    assert lm["lm_right_anterior_ethmoid"] == 1 and lm["lm_right_omc"] == 2
    assert lm["lm_left_frontal"] == 0 and lm["lm_left_omc"] == 0
    assert lm["lm_total"] == 2 + 1 + 1 + 2


def test_phantom_sinus_sizes_are_adult_sized():
    from ecrs_analysis.data.synth.anatomy import TYPICAL_ADULT_ML, phantom_volume_table

    t = phantom_volume_table(n=100, seed=1)
    for name, (lo, hi) in TYPICAL_ADULT_ML.items():
        assert lo <= t.loc[name, "phantom median mL"] <= hi, name
