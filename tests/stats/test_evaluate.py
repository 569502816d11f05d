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


def test_unpaired_delong_table_compares_sets_of_different_patients(scores):
    from ecrs_analysis.stats.delong import delong_test_unpaired
    from ecrs_analysis.stats.evaluate import unpaired_delong_table

    t = unpaired_delong_table(scores, ["good", "weak"], pairs=[("internal_test", "external_test")])
    a, b = scores[scores.set == "internal_test"], scores[scores.set == "external_test"]
    row = t.loc[("good", "internal_test vs external_test")]
    assert row["AUC internal_test"] == pytest.approx(roc_auc_score(a.label, a.good))
    assert row["AUC external_test"] == pytest.approx(roc_auc_score(b.label, b.good))
    assert row["p"] == pytest.approx(delong_test_unpaired(a.label, a.good, b.label, b.good).p_value)
    assert 0 < row["p"] <= 1 and row["df"] > 0


def test_headline_metrics_per_set_at_the_training_threshold(scores):
    from sklearn.metrics import roc_curve

    from ecrs_analysis.stats.evaluate import headline_metrics

    s = scores.rename(columns={"good": "prob"}).assign(dice=np.linspace(0.8, 0.95, len(scores)))
    h = headline_metrics(s, threshold_set="train", n_resamples=200)
    assert list(h.index.get_level_values("metric")[:5]) == ["Dice", "AUC", "sensitivity", "specificity", "accuracy"]
    train = s[s.set == "train"]
    fpr, tpr, thr = roc_curve(train.label, train.prob)
    cut = thr[np.argmax(tpr - fpr)]  # Youden on training, by hand
    for name in ("train", "internal_test", "external_test"):
        part = s[s.set == name]
        call = part.prob >= cut
        assert h.loc[(name, "AUC"), "value"] == pytest.approx(roc_auc_score(part.label, part.prob))
        assert h.loc[(name, "sensitivity"), "value"] == pytest.approx(call[part.label == 1].mean())
        assert h.loc[(name, "specificity"), "value"] == pytest.approx((~call[part.label == 0]).mean())
        assert h.loc[(name, "Dice"), "value"] == pytest.approx(part.dice.mean())
        assert (h.loc[name, "CI low"] <= h.loc[name, "value"]).all() and (h.loc[name, "value"] <= h.loc[name, "CI high"]).all()
    with pytest.raises(ValueError, match="neither"):
        headline_metrics(scores, threshold_set="train")


def test_reported_vs_reproduced_lines_up_paper_ours_and_ceiling():
    from ecrs_analysis.report.paper import MTLNET_REPORTED, reported_vs_reproduced

    ours = pd.DataFrame(
        {"set": ["external", "external", "external"], "metric": ["AUC", "sensitivity", "Dice"], "value": [0.8, 0.7, 0.9], "CI low": [0.7, 0.5, 0.88], "CI high": [0.9, 0.85, 0.92]}
    ).set_index(["set", "metric"])
    ceiling = pd.DataFrame({"ceiling AUC": [0.86], "image ceiling AUC": [0.83]}, index=pd.Index(["external"], name="set"))
    t = reported_vs_reproduced(MTLNET_REPORTED, ours, ceiling=ceiling)
    assert t.loc[("external", "AUC"), "reported"] == 0.818 and t.loc[("external", "AUC"), "reproduced"] == 0.8
    assert t.loc[("external", "AUC"), "latent ceiling"] == 0.86 and t.loc[("external", "AUC"), "image ceiling"] == 0.83
    assert t.loc[("external", "AUC"), "difference"] == pytest.approx(0.8 - 0.818)
    assert t.loc[("external", "AUC"), "95% CI"] == "0.700–0.900"
    assert np.isnan(t.loc[("external", "Dice"), "latent ceiling"]) and np.isnan(t.loc[("train", "AUC"), "reproduced"])
    # a classifier that did not learn: its AUC and sensitivity are withheld, its segmentation is not
    withheld = reported_vs_reproduced(MTLNET_REPORTED, ours, ceiling=ceiling, learned=False)
    assert np.isnan(withheld.loc[("external", "AUC"), "reproduced"]) and withheld.loc[("external", "AUC"), "95% CI"] == "did not learn"
    assert np.isnan(withheld.loc[("external", "sensitivity"), "reproduced"]) and withheld.loc[("external", "Dice"), "reproduced"] == 0.9


def _ceiling_scores(n=90, seed=11):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    z = y + rng.normal(0, 0.9, n)
    return pd.DataFrame({"set": "test", "label": y, "ceiling": z, "model": z + rng.normal(0, 0.8, n), "lucky": z + rng.normal(0, 0.05, n)})


def test_ceiling_table_is_a_paired_comparison_with_a_normalised_share():
    from scipy.stats import rankdata
    from sklearn.metrics import roc_auc_score

    from ecrs_analysis.stats.delong import delong_test
    from ecrs_analysis.stats.evaluate import CEILING_COLUMNS, ceiling_table

    s = _ceiling_scores()
    t = ceiling_table(s, ["model", "lucky"], ceiling="ceiling", n_resamples=2000, seed=0)
    assert list(t.columns) == list(CEILING_COLUMNS)
    r = t.loc[("test", "model")]
    a, c = roc_auc_score(s.label, s.model), roc_auc_score(s.label, s.ceiling)
    d = delong_test(s.label, s.model, s.ceiling)
    assert r["AUC"] == pytest.approx(a) and r["ceiling AUC"] == pytest.approx(c)
    assert (r["ΔAUC (model − ceiling)"], r["ΔAUC low"], r["ΔAUC high"], r["p (DeLong)"]) == pytest.approx((a - c, d.ci_low, d.ci_high, d.p_value))
    assert r["share of ceiling above chance"] == pytest.approx((a - 0.5) / (c - 0.5))
    # the bootstrap CI, against a brute-force loop of stratified resamples scored by scikit-learn (another RNG: agreement within Monte-Carlo error)
    # (each resample's AUC from the Mann-Whitney rank sum, checked against scikit-learn on the first one: the loop is 10x faster)
    rng = np.random.default_rng(99)
    cases, controls = np.flatnonzero(s.label == 1), np.flatnonzero(s.label == 0)
    y, model, ceiling = s.label.to_numpy(), s.model.to_numpy(), s.ceiling.to_numpy()

    def rank_auc(x: np.ndarray) -> float:
        r = rankdata(x)[: cases.size]  # the cases come first in each resample
        return (r.sum() - cases.size * (cases.size + 1) / 2) / (cases.size * controls.size)

    shares = []
    for k in range(1500):
        i = np.concatenate([rng.choice(cases, cases.size), rng.choice(controls, controls.size)])
        ai, ci = rank_auc(model[i]), rank_auc(ceiling[i])
        if k == 0:
            assert (ai, ci) == pytest.approx((roc_auc_score(y[i], model[i]), roc_auc_score(y[i], ceiling[i])))
        if ci > 0.5:
            shares.append((ai - 0.5) / (ci - 0.5))
    lo, hi = np.quantile(shares, [0.025, 0.975])
    assert r["share low"] == pytest.approx(lo, abs=0.05) and r["share high"] == pytest.approx(hi, abs=0.05)
    assert r["share low"] < r["share of ceiling above chance"] < r["share high"]
    # a model at the ceiling's level can lie above the ceiling's estimate on a finite set: flagged, not hidden
    lucky = t.loc[("test", "lucky")]
    assert lucky["AUC above ceiling"] == (lucky["AUC"] > lucky["ceiling AUC"])


def test_adjust_p_matches_holm_and_bonferroni_by_hand():
    from ecrs_analysis.stats.evaluate import adjust_p

    t = pd.DataFrame({"p": [0.01, 0.04, 0.03, 0.20]})
    out = adjust_p(t)
    # Holm by hand: sorted 0.01, 0.03, 0.04, 0.20 times 4, 3, 2, 1, running maximum
    assert list(out["p (Holm)"]) == pytest.approx([0.04, 0.09, 0.09, 0.20])
    assert list(out["p (Bonferroni)"]) == pytest.approx([0.04, 0.16, 0.12, 0.80])
    assert out.attrs["tests"] == 4


def test_operating_thresholds_come_from_the_out_of_fold_scores_when_given():
    from ecrs_analysis.stats.evaluate import operating_table
    from ecrs_analysis.stats.threshold import choose_threshold

    rng = np.random.default_rng(2)
    y = np.arange(80) % 2
    s = pd.DataFrame({"set": ["train"] * 40 + ["test"] * 40, "label": y, "m": y + rng.normal(0, 1, 80)})
    oof = s[s.set == "train"].assign(m=lambda d: d["m"] + rng.normal(0, 1, 40))  # noisier held-out training scores
    ops = operating_table(s, ["m"], threshold_set="train", threshold_scores=oof[["label", "m"]])
    assert ops.loc[("m", "test"), "threshold"] == choose_threshold(oof.label, oof.m)
    assert ops.loc[("m", "test"), "rule"] == "youden on train (out-of-fold)"
    assert operating_table(s, ["m"], threshold_set="train").loc[("m", "test"), "threshold"] == choose_threshold(s.label[:40], s.m[:40])
