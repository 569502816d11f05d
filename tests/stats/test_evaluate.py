import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ecrs_analysis.stats.evaluate import auc_table, operating_table, paired_delong_table
from ecrs_analysis.stats.roc import roc_band


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    rows = []
    for s, n in (("train", 200), ("internal_test", 80), ("external_test", 90)):
        y = (rng.random(n) < 0.45).astype(int)
        rows.append(pd.DataFrame({"set": s, "label": y, "good": rng.normal(y * 1.5, 1), "weak": rng.normal(y * 0.3, 1)}))
    return pd.concat(rows, ignore_index=True)


def test_auc_table_agrees_with_sklearn_per_set(scores):
    t = auc_table(scores, ["good", "weak"], n_resamples=200)
    for s in ("train", "internal_test", "external_test"):
        part = scores[scores.set == s]
        assert t.loc[(s, "good"), "AUC"] == pytest.approx(roc_auc_score(part.label, part.good))
        assert t.loc[(s, "good"), "DeLong low"] < t.loc[(s, "good"), "AUC"] < t.loc[(s, "good"), "DeLong high"]


def test_paired_tests_find_the_better_model(scores):
    t = paired_delong_table(scores, "good", ["weak"])
    assert (t["ΔAUC"] > 0).all() and t.loc[("train", "good vs weak"), "p"] < 0.001


def test_threshold_comes_from_training_only(scores):
    ops = operating_table(scores, ["good"], threshold_set="train")
    thresholds = ops["threshold"].unique()
    assert len(thresholds) == 1
    shifted = scores.copy()
    shifted.loc[shifted.set == "external_test", "good"] += 5  # test-set scores must not move the threshold
    assert operating_table(shifted, ["good"], threshold_set="train")["threshold"].unique()[0] == thresholds[0]
    ext = ops.loc[("good", "external_test")]
    assert ext["TP"] + ext["FN"] == scores[(scores.set == "external_test")].label.sum()


def test_roc_band_contains_the_curve():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 150)
    s = rng.normal(y, 1)
    b = roc_band(y, s, n_resamples=100, seed=0)
    assert np.all(b.low <= b.tpr + 1e-9) and np.all(b.tpr <= b.high + 1e-9)
    assert b.tpr[0] >= 0 and b.tpr[-1] == 1


def test_published_cut_off_is_applied_as_given(scores):
    scores = scores.assign(points=np.round(scores["good"] * 3 + 8).clip(0, 17))
    ops = operating_table(scores, ["points"], threshold_set="train", fixed={"points": 11.0})
    fixed = ops.xs("points ≥ 11", level="model")
    assert (fixed["threshold"] == 11.0).all() and (fixed["rule"] == "published cut-off").all()
    for s, row in fixed.iterrows():
        part = scores[scores.set == s]
        assert row["TP"] == ((part.points >= 11) & (part.label == 1)).sum() and row["TN"] == ((part.points < 11) & (part.label == 0)).sum()
    # chosen on no set: moving the training scores moves the Youden row, not the published one
    moved = scores.assign(points=np.where(scores.set == "train", scores.points + 3, scores.points))
    again = operating_table(moved, ["points"], threshold_set="train", fixed={"points": 11.0})
    assert again.loc[("points", "train"), "threshold"] != ops.loc[("points", "train"), "threshold"]
    assert again.xs("points ≥ 11", level="model")["threshold"].eq(11.0).all()
    with pytest.raises(ValueError, match="nope"):
        operating_table(scores, ["good"], threshold_set="train", fixed={"nope": 1.0})
