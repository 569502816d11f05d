"""The example of each outcome the figures show: the most confident of each, read from the explained table."""

import pandas as pd

from ecrs_analysis.explain.views import pick_examples


def test_the_most_confident_patient_of_each_outcome_is_picked():
    e = pd.DataFrame({
        "model": ["m"] * 7 + ["other"],
        "patient_id": list("abcdefgh"),
        "outcome": ["TP", "TP", "FP", "FN", "FN", "TN", "TN", "TP"],
        "score": [0.7, 0.9, 0.6, 0.3, 0.1, 0.2, 0.05, 0.99],
        "fails randomisation": [False] * 8,
    })
    p = pick_examples(e, "m")
    assert list(p["outcome"]) == ["TP", "FP", "FN", "TN"]
    assert list(p["patient_id"]) == ["b", "c", "e", "g"]  # highest score for TP and FP, lowest for FN and TN; never another model's row
    assert "fails_randomisation" in p
    assert pick_examples(e[e["outcome"] != "FP"], "m")["outcome"].tolist() == ["TP", "FN", "TN"]  # an outcome nobody had is left out
