"""Which test patients are explained: outcomes at the training operating point, a seeded pick per outcome, the scoring fold(s)."""

import pandas as pd
import pytest

from ecrs_analysis.explain.outcomes import choose_patients, label_outcomes, scoring_folds


def test_outcomes_follow_the_training_operating_point():
    s = pd.DataFrame({"patient_id": list("abcdefgh"), "set": ["train"] * 4 + ["test"] * 4, "label": [0, 0, 1, 1, 1, 1, 0, 0], "score": [0.1, 0.4, 0.6, 0.9, 0.8, 0.3, 0.7, 0.2]})
    out, thr = label_outcomes(s, train_set="train", rule="youden", target=None)
    assert 0.4 < thr <= 0.6
    assert list(out["outcome"].iloc[4:]) == ["TP", "FN", "FP", "TN"]


def test_chosen_patients_spread_over_outcomes():
    s = pd.DataFrame({"patient_id": [f"p{i}" for i in range(40)], "set": "test", "outcome": ["TP"] * 25 + ["FP"] * 10 + ["FN"] * 4 + ["TN"] * 1})
    c = choose_patients(s, sets=["test"], n_per_set=8, seed=0)
    assert c["outcome"].value_counts().to_dict() == {"TP": 3, "FP": 2, "FN": 2, "TN": 1}
    assert c.equals(choose_patients(s, sets=["test"], n_per_set=8, seed=0))
    assert len(choose_patients(s, sets=["test"], n_per_set=None, seed=0)) == 40


def test_scoring_folds():
    assert scoring_folds((0, 1, 2), 2, test_scoring="single", network="resnet3d") == (2,)
    assert scoring_folds((0, 1, 2), 2, test_scoring="ensemble", network="resnet3d") == (0, 1, 2)
    with pytest.raises(ValueError, match="resnet3d: .*folds.csv"):
        scoring_folds((0, 1, 2), 5, test_scoring="single", network="resnet3d")
    assert scoring_folds((0,), None, test_scoring="single", network="mtlnet") == (0,)
