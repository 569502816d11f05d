"""The image-only ceiling: between what any rendered feature alone reaches and the latent ceiling."""

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ecrs_analysis.data.synth.ceiling import RENDERED_FEATURES, _simulate, fit_image_ceiling
from ecrs_analysis.data.synth.cohort import DESIGNS
from ecrs_analysis.data.synth.patients import lund_mackay


@pytest.fixture(scope="module")
def li_ceiling():
    d = DESIGNS["li2025"]
    return fit_image_ceiling(latent_means=[c.latent_mean for c in d.centers], weights=[c.fraction for c in d.centers], all_polyps=d.all_polyps, seed=5, n_draws=8000)


def test_image_ceiling_lies_below_the_latent_one_and_above_every_single_feature(li_ceiling):
    # the CT cannot show the tissue eosinophils: P(label | rendered) loses against P(label | latent)
    assert 0.75 < li_ceiling.population_auc < li_ceiling.latent_auc
    # ... but it uses every rendered quantity: it beats each of them alone, on independent draws
    x, y, _ = _simulate(4000, latent_means=[0.0], weights=[1.0], all_polyps=False, seed=99)
    single = {c: max(roc_auc_score(y, x[c]), 1 - roc_auc_score(y, x[c])) for c in RENDERED_FEATURES if x[c].nunique() > 1}
    assert li_ceiling.population_auc > max(single.values()) + 0.02
    # maxillary opacification alone carries (almost) no label information in this generator
    assert single["opac_right_maxillary"] < 0.6


def test_image_probability_needs_every_rendered_column(li_ceiling):
    with pytest.raises(KeyError, match="olfactory_cleft_left"):
        li_ceiling.probability(pd.DataFrame({c: [0.0] for c in RENDERED_FEATURES if c != "olfactory_cleft_left"}))


def test_too_few_draws_is_refused():
    with pytest.raises(ValueError, match="at least 1,000"):
        fit_image_ceiling(latent_means=[0.0], weights=[1.0], all_polyps=True, seed=0, n_draws=10)


def test_cohort_truth_carries_the_image_probability_and_measured_lund_mackay(tiny_cohort):
    truth = pd.read_csv(tiny_cohort / "truth.csv")
    manifest = pd.read_csv(tiny_cohort / "manifest.csv")
    assert truth["image_prob"].between(0, 1).all() and truth["image_prob"].nunique() > 1
    # the Lund-Mackay columns score what the CT shows (measured fractions), not the intended opacification
    measured = truth.set_index("patient_id").filter(like="measured_opac_").rename(columns=lambda c: c.removeprefix("measured_opac_"))
    for pid, row in manifest.set_index("patient_id").iterrows():
        expected = lund_mackay(measured.loc[pid].to_dict())
        assert {k: int(row[k]) for k in expected} == expected
