"""The evidence definition from the generator's conditional dependence, against an independent fit and the generator's own structure."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from ecrs_analysis.data.synth.anatomy import AERATED_OFFSET, OPACIFIED_LABELS
from ecrs_analysis.data.synth.evidence import simulate_burden
from ecrs_analysis.explain.evidence import NEITHER, conditional_evidence, evidence_labels

N = 1500  # fewer simulated patients than the book's 4,000: the tests stay fast, the directions are the same


@pytest.mark.parametrize("design", ["li2025", "mtlnet2025"])
def test_the_maxillary_sinus_argues_against_ecrs_given_the_rest_though_its_auc_alone_is_near_half(design):
    """The generator's maxillary opacification falls with the latent inflammation at a given severity (the ethmoid/maxillary ratio)."""
    t = conditional_evidence(design, n=N).set_index("compartment")
    assert abs(t.loc["maxillary", "AUC of its opacification alone"] - 0.5) < 0.05  # a marginal definition would leave it out
    assert t.loc["maxillary", "high"] < 0
    assert t.loc["maxillary", "opacified argues for"] == "non-eCRS" and t.loc["maxillary", "aerated argues for"] == "eCRS"
    assert t.loc["ethmoid", "low"] > 0 and t.loc["ethmoid", "opacified argues for"] == "eCRS" and t.loc["ethmoid", "aerated argues for"] == "non-eCRS"
    assert t.loc["nasal polyp", "aerated argues for"] == "–"


def test_coefficients_match_an_independent_unpenalised_fit():
    burden, y = simulate_burden("li2025", n=N)
    z = (burden - burden.mean()) / burden.std()
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(z, y)  # unpenalised, converged tightly
    t = conditional_evidence("li2025", n=N).set_index("compartment")
    for name, coef in zip(burden.columns, ref.coef_[0]):
        assert t.loc[name.replace("_", " "), "log-odds per SD given the others"] == pytest.approx(coef, abs=1e-3)


def test_a_compartment_whose_ci_includes_zero_argues_for_neither(monkeypatch):
    import ecrs_analysis.explain.evidence as E

    burden, y = simulate_burden("li2025", n=N)
    noise = burden.assign(sphenoid=np.random.default_rng(0).random(len(burden)))  # a sphenoid unrelated to anything
    monkeypatch.setattr(E, "simulate_burden", lambda design, n, seed: (noise, y))
    t = E.conditional_evidence("li2025", n=N).set_index("compartment")
    assert t.loc["sphenoid", "low"] < 0 < t.loc["sphenoid", "high"]
    assert t.loc["sphenoid", "opacified argues for"] == NEITHER == t.loc["sphenoid", "aerated argues for"]
    labels = evidence_labels(t.reset_index())
    assert 4 not in labels[0] + labels[1] and 4 + AERATED_OFFSET not in labels[0] + labels[1]


def test_labels_read_back_from_the_table():
    t = conditional_evidence("li2025", n=N)
    labels = evidence_labels(pd.read_csv(pd.io.common.StringIO(t.to_csv(index=False))))  # as the chapter reads the job's csv
    by_name = {name: k for k, name in OPACIFIED_LABELS.items()}
    assert by_name["maxillary"] in labels[0] and by_name["maxillary"] + AERATED_OFFSET in labels[1]
    assert by_name["ethmoid"] in labels[1] and by_name["ethmoid"] + AERATED_OFFSET in labels[0]
    assert not set(labels[0]) & set(labels[1])
    with pytest.raises(ValueError, match="explain_summaries"):
        evidence_labels(t.drop(columns="opacified label"))
