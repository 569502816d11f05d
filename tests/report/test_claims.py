"""The claims registry against the abstracts, the claims files chapters write, and the landing table."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ecrs_analysis.report import claims as C
from ecrs_analysis.stats import evaluate

# The abstracts' numbers, typed in from the abstracts (Li et al. 2025, doi 10.1002/alr.23595; MTLNet).
ABSTRACTS = {
    "li2025.patients": 1098, "li2025.hospitals": 2,
    "li2025.auc.internal_test": 0.851, "li2025.auc.external_test": 0.821,
    "li2025.proteomics.patients": 34, "li2025.proteomics.dysregulated": 594,
    "mtlnet2025.patients": 257, "mtlnet2025.patients.train": 172, "mtlnet2025.patients.validation": 41, "mtlnet2025.patients.external": 44,
    "mtlnet2025.dice.train": 0.913, "mtlnet2025.dice.validation": 0.887, "mtlnet2025.dice.external": 0.898,
    "mtlnet2025.auc.train": 0.871, "mtlnet2025.auc.validation": 0.770, "mtlnet2025.auc.external": 0.818,
    "mtlnet2025.sensitivity.external": 0.727, "mtlnet2025.specificity.external": 0.788,
}
BY_ID = {c.id: c for c in C.REPORTED}


def test_registry_holds_every_number_of_both_abstracts_and_nothing_invented():
    assert len(BY_ID) == len(C.REPORTED)
    for cid, value in ABSTRACTS.items():
        assert BY_ID[cid].reported == value, cid
    assert BY_ID["li2025.auc.internal_test"].reported_ci == (0.77, 0.93)
    assert BY_ID["li2025.auc.external_test"].reported_ci == (0.78, 0.86)
    # Li et al.'s abstract names sensitivity, specificity and accuracy as measures but states no value.
    unstated = [c.id for c in C.REPORTED if c.reported is None]
    assert sorted(unstated) == sorted(f"li2025.{m}.{s}" for m in ("sensitivity", "specificity", "accuracy") for s in ("internal_test", "external_test"))
    assert {c.chapter for c in C.REPORTED} == {"01_cohort", "04_integrated_model", "07_proteomics", "05_mtlnet"}
    # The MTLNet cohort sizes add up as the abstract says.
    assert sum(BY_ID[f"mtlnet2025.patients.{s}"].reported for s in ("train", "validation", "external")) == 257
    assert all(c.source for c in C.REPORTED)


def _write(tmp_path, chapter, rows, run="test"):
    C.write_claims(tmp_path, chapter, rows, run=run, profile="smoke")
    return pd.read_csv(C.claims_path(tmp_path, chapter))


def test_written_claims_carry_value_ci_set_profile_and_run(tmp_path, monkeypatch):
    t = _write(tmp_path, "04_integrated_model", [{"claim": "li2025.auc.internal_test", "value": 0.8, "ci_low": 0.7, "ci_high": 0.9, "ceiling": 0.95, "n": 30}], run="run-42")
    assert list(t.columns) == list(C.CLAIM_COLUMNS)
    r = t.iloc[0]
    assert (r["claim"], r["set"], r["profile"], r["run"], r["chapter"], r["n"]) == ("li2025.auc.internal_test", "internal_test", "smoke", "run-42", "04_integrated_model", 30)
    assert (r["value"], r["ci_low"], r["ci_high"], r["ceiling"]) == (0.8, 0.7, 0.9, 0.95)


def test_profile_defaults_to_the_run_record_of_the_results_folder(tmp_path):
    (tmp_path / "run.json").write_text('{"profile": "demo"}')
    C.write_claims(tmp_path, "07_proteomics", [], run="test")
    t = pd.read_csv(C.claims_path(tmp_path, "07_proteomics"))
    assert t.empty and list(t.columns) == list(C.CLAIM_COLUMNS)


@pytest.mark.parametrize("rows, match", [
    ([{"claim": "li2025.auc.nowhere", "value": 0.5}], "li2025.auc.nowhere"),
    ([{"claim": "mtlnet2025.dice.train", "value": 0.5}], "belongs to chapter '05_mtlnet'"),
    ([{"claim": "li2025.auc.internal_test", "value": 0.5}] * 2, "written twice"),
    ([{"claim": "li2025.auc.internal_test", "value": "high"}], "must be numbers"),
    ([{"claim": "li2025.auc.internal_test", "value": 0.5, "ci_low": 0.9, "ci_high": 0.1}], "above ci_high"),
    ([{"claim": "li2025.auc.internal_test", "value": 0.5, "auc": 1}], "unknown field"),
])
def test_bad_claim_rows_are_refused_with_the_reason(tmp_path, rows, match):
    with pytest.raises(C.ClaimError, match=match):
        C.write_claims(tmp_path, "04_integrated_model", rows, run="test", profile="smoke")
    assert not C.claims_path(tmp_path, "04_integrated_model").exists()


def test_a_claim_written_by_two_chapters_is_refused(tmp_path):
    _write(tmp_path, "01_cohort", [{"claim": "li2025.patients", "value": 120}])
    pd.read_csv(C.claims_path(tmp_path, "01_cohort")).assign(chapter="x").to_csv(C.claims_path(tmp_path, "x"), index=False)
    with pytest.raises(C.ClaimError, match="li2025.patients"):
        C.collect_claims(tmp_path)


@pytest.mark.parametrize("cid, row, expected", [
    ("li2025.auc.internal_test", {"value": 0.6, "ci_low": 0.851, "ci_high": 0.9}, "inside"),  # bound included
    ("li2025.auc.internal_test", {"value": 0.6, "ci_low": 0.5, "ci_high": 0.8509}, "outside"),
    ("li2025.auc.internal_test", {"value": 0.6, "ci_low": math.nan, "ci_high": math.nan}, "no CI"),
    ("li2025.patients", {"value": 1098}, "equal"),
    ("li2025.patients", {"value": 120}, "differs"),
    ("li2025.patients", {"value": 1098, "by_design": 1}, "by design"),  # a synthetic cohort's size matches by construction
    ("li2025.patients", {"value": 120, "by_design": 1}, "by design"),
    ("li2025.patients", {"value": 1098, "by_design": 0}, "equal"),  # a real cohort's is compared
    ("li2025.patients", {"value": 1098, "by_design": math.nan}, "equal"),  # a claims file written before the column existed
    ("li2025.proteomics.chemokine", {"value": 1.0}, "reproduced"),
    ("li2025.proteomics.chemokine", {"value": 0.0}, "not reproduced"),
    ("li2025.accuracy.external_test", {"value": 0.7, "ci_low": 0.6, "ci_high": 0.8}, "no reported value"),
    ("mtlnet2025.dice.train", None, "not run"),
])
def test_verdict(cid, row, expected):
    assert C.verdict(BY_ID[cid], row) == expected


def test_landing_table_has_every_claim_once_and_never_a_blank(tmp_path):
    _write(tmp_path, "01_cohort", [{"claim": "li2025.patients", "value": 120}])
    _write(tmp_path, "04_integrated_model", [])  # ran, computed nothing
    table = C.claims_table(C.collect_claims(tmp_path))
    assert list(table["claim"]) == [c.id for c in C.REPORTED]
    by = table.set_index("claim")
    assert by.loc["li2025.patients", "mark"] == "≠ differs"
    assert by.loc["li2025.auc.internal_test", "verdict"] == "not run" and by.loc["li2025.auc.internal_test", "note"] == "not computed in this run"
    assert by.loc["mtlnet2025.dice.train", "note"] == "chapter 05_mtlnet is not part of this run"
    assert not by.loc["mtlnet2025.dice.train", "chapter_ran"] and by.loc["li2025.auc.external_test", "chapter_ran"]
    assert table["mark"].str.len().min() > 0
    md = C.claims_markdown(table)
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| claim |")]
    assert len(rows) == len(C.REPORTED)
    assert md.startswith("```{container} claims-table") and md.rstrip().endswith("```")
    assert "{doc}`ch. 04 <04_integrated_model>`" in md and "05_mtlnet>" not in md and "ch. 05 (not in this run)" in md
    assert all(ln.count(" | ") == 6 for ln in rows)  # seven cells, none swallowed by a stray pipe
    assert C.verdict_counts(table).startswith(f"{len(C.REPORTED)} claims: ")


def _scores(seed=0, n=80):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return pd.DataFrame({"patient_id": [f"P{i}" for i in range(n)], "set": np.where(np.arange(n) < n // 2, "internal_test", "external_test"),
                         "label": y, "integrated": y + rng.normal(0, 1.2, n), "true_prob": y + rng.normal(0, 0.5, n)})


def test_integrated_claims_match_independent_auc_and_proportions():
    s = _scores()
    aucs = evaluate.auc_table(s, ["integrated", "true_prob"], n_resamples=50)
    s_train = pd.concat([s.assign(set="train"), s])
    ops = evaluate.operating_table(s_train, ["integrated"], threshold_set="train", sets=["internal_test", "external_test"])
    rows = {r["claim"]: r for r in C.integrated_claims(aucs, ops)}
    for st in ("internal_test", "external_test"):
        part = s[s["set"] == st]
        r = rows[f"li2025.auc.{st}"]
        assert r["value"] == pytest.approx(roc_auc_score(part["label"], part["integrated"]))
        assert r["ceiling"] == pytest.approx(roc_auc_score(part["label"], part["true_prob"]))
        assert r["ci_low"] < r["value"] < r["ci_high"]
        thr = ops.loc[("integrated", st), "threshold"]
        pred = part["integrated"] >= thr
        y = part["label"] == 1
        assert rows[f"li2025.sensitivity.{st}"]["value"] == pytest.approx((pred & y).sum() / y.sum())
        assert rows[f"li2025.specificity.{st}"]["value"] == pytest.approx((~pred & ~y).sum() / (~y).sum())
        assert rows[f"li2025.accuracy.{st}"]["value"] == pytest.approx((pred == y).mean())
    assert len(rows) == 8


def test_proteomics_claims_call_the_pathway_enriched_only_below_the_fdr():
    gsea = pd.DataFrame({"term": ["A", "Chemokine receptors bind chemokines", "B"], "fdr": [0.01, 0.04, 0.2]})
    rows = {r["claim"]: r for r in C.proteomics_claims(patients=34, dysregulated=12, gsea=gsea, pathway="Chemokine receptors bind chemokines", fdr=0.05)}
    assert rows["li2025.proteomics.chemokine"]["value"] == 1.0 and "ranked 2 of 3" in rows["li2025.proteomics.chemokine"]["note"]
    rows = {r["claim"]: r for r in C.proteomics_claims(patients=34, dysregulated=12, gsea=gsea, pathway="Chemokine receptors bind chemokines", fdr=0.01)}
    assert rows["li2025.proteomics.chemokine"]["value"] == 0.0
    rows = {r["claim"]: r for r in C.proteomics_claims(patients=34, dysregulated=12, gsea=gsea, pathway="missing", fdr=0.05)}
    assert rows["li2025.proteomics.chemokine"]["value"] == 0.0


def test_counts_of_a_synthetic_cohort_are_set_by_design_and_a_real_cohorts_compared(tmp_path):
    from types import SimpleNamespace

    table = pd.DataFrame({"set": ["train"] * 172 + ["validation"] * 41 + ["external"] * 44, "center": "hospital_C"})
    study = lambda truth: SimpleNamespace(table=table, cohort=SimpleNamespace(truth=truth), split=SimpleNamespace(names=("train", "validation", "external")))  # noqa: E731
    for truth, expected in ((pd.DataFrame(), "by design"), (None, "equal")):
        _write(tmp_path, "01_cohort", C.cohort_claims({"mtlnet2025": study(truth)}))
        by = C.claims_table(C.collect_claims(tmp_path)).set_index("claim")
        assert list(by.loc[["mtlnet2025.patients", "mtlnet2025.patients.train", "mtlnet2025.patients.external"], "verdict"]) == [expected] * 3
    rows = {r["claim"]: r for r in C.proteomics_claims(patients=34, dysregulated=12, gsea=pd.DataFrame({"term": [], "fdr": []}), pathway="x", fdr=0.05, synthetic=True)}
    assert C.verdict(BY_ID["li2025.proteomics.patients"], rows["li2025.proteomics.patients"]) == "by design"
    assert C.verdict(BY_ID["li2025.proteomics.dysregulated"], rows["li2025.proteomics.dysregulated"]) == "differs"


def test_forest_plot_has_one_row_per_reported_auc_and_dice():
    import matplotlib.pyplot as plt

    from ecrs_analysis.plotting.claims import plot_claims_forest

    table = C.claims_table(pd.DataFrame(columns=list(C.CLAIM_COLUMNS)))
    fig = plot_claims_forest(table, study_titles=C.STUDY_TITLES, set_labels={"external_test": "external test set"})
    expected = [c for c in C.REPORTED if c.kind == "estimate" and c.reported is not None and c.quantity.startswith(("AUC", "Dice"))]
    assert len(fig.axes[0].get_yticks()) == len(expected) == 8
    assert sum(t.get_text() == "not run" for t in fig.axes[0].texts) == len(expected)
    names = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "Li et al. 2025: AUC, external test set" in names and "Li et al. 2025: AUC, internal_test" in names  # the labels given
    plt.close(fig)


def test_a_headline_table_of_set_and_metric_becomes_the_claims_the_registry_knows(tmp_path):
    headline = pd.DataFrame(
        {"value": [0.9, 0.81, 0.7, 0.5], "CI low": [0.85, 0.7, 0.5, 0.3], "CI high": [0.95, 0.9, 0.85, 0.7]},
        index=pd.MultiIndex.from_tuples([("train", "Dice"), ("external", "AUC"), ("external", "sensitivity"), ("external", "ppv")], names=["set", "metric"]),
    )
    rows = C.metric_claims(headline, study="mtlnet2025", note="bootstrap 95% CI")
    assert [r["claim"] for r in rows] == ["mtlnet2025.dice.train", "mtlnet2025.auc.external", "mtlnet2025.sensitivity.external"]
    C.write_claims(tmp_path, "05_mtlnet", rows, run="test", profile="smoke")
    table = C.claims_table(C.collect_claims(tmp_path)).set_index("claim")
    assert table.loc["mtlnet2025.auc.external", "verdict"] == "inside"  # 0.818 in 0.7-0.9
    assert table.loc["mtlnet2025.sensitivity.external", "verdict"] == "inside"  # 0.727 in 0.5-0.85
    assert table.loc["mtlnet2025.dice.train", "verdict"] == "inside"
    assert table.loc["mtlnet2025.dice.validation", "note"] == "not computed in this run"


def test_the_ceiling_auc_of_each_set_reaches_the_auc_claims_only():
    headline = pd.DataFrame(
        {"value": [0.9, 0.81, 0.7], "CI low": [0.85, 0.7, 0.5], "CI high": [0.95, 0.9, 0.85]},
        index=pd.MultiIndex.from_tuples([("train", "Dice"), ("external", "AUC"), ("external", "sensitivity")], names=["set", "metric"]),
    )
    rows = {r["claim"]: r for r in C.metric_claims(headline, study="mtlnet2025", auc_ceiling=pd.Series({"external": 0.919, "train": 0.87}))}
    assert rows["mtlnet2025.auc.external"]["ceiling"] == 0.919
    assert rows["mtlnet2025.dice.train"]["ceiling"] is None and rows["mtlnet2025.sensitivity.external"]["ceiling"] is None


def test_claims_of_a_model_that_did_not_learn_carry_no_value_and_say_why(tmp_path):
    from ecrs_analysis.stats.learning import learning_check

    headline = pd.DataFrame(
        {"value": [0.9, 0.81, 0.7], "CI low": [0.85, 0.7, 0.5], "CI high": [0.95, 0.9, 0.85]},
        index=pd.MultiIndex.from_tuples([("train", "Dice"), ("external", "AUC"), ("external", "sensitivity")], names=["set", "metric"]),
    )
    constant = learning_check(np.full(40, 0.51) + np.linspace(0, 1e-4, 40))  # MTLNet's old head: 0.5100-0.5101
    assert not constant.learned
    C.write_claims(tmp_path, "05_mtlnet", C.metric_claims(headline, study="mtlnet2025", learning=constant), run="test", profile="smoke")
    written = pd.read_csv(C.claims_path(tmp_path, "05_mtlnet")).set_index("claim")
    assert math.isnan(written.loc["mtlnet2025.auc.external", "value"]) and math.isnan(written.loc["mtlnet2025.auc.external", "ci_low"])
    table = C.claims_table(C.collect_claims(tmp_path)).set_index("claim")
    for cid in ("mtlnet2025.auc.external", "mtlnet2025.sensitivity.external"):
        assert table.loc[cid, "verdict"] == "did not learn"
        assert "do not vary" in table.loc[cid, "note"]
    # the segmentation is not the classifier's: its Dice is still reported
    assert table.loc["mtlnet2025.dice.train", "verdict"] == "inside"
    md = C.claims_markdown(table.reset_index())
    assert md.count("did not learn — no value reported") == 2


def test_a_claim_of_a_model_that_did_not_learn_needs_its_reason(tmp_path):
    with pytest.raises(C.ClaimError, match="note must say why"):
        C.write_claims(tmp_path, "05_mtlnet", [{"claim": "mtlnet2025.auc.external", "value": 0.5, "learned": False}], run="test", profile="smoke")


def test_the_verdict_shows_our_ci_width_and_in_sample_claims_are_marked():
    from ecrs_analysis.report.claims import verdicts as V
    from ecrs_analysis.report.claims.registry import BY_ID

    assert V.verdict_mark("inside", ci_low=0.70, ci_high=0.95) == "✓ inside our CI (width 0.25)"
    assert V.verdict_mark("outside", ci_low=0.80, ci_high=0.85) == "✗ outside our CI (width 0.05)"
    assert V.verdict_mark("equal") == "= same"
    assert BY_ID["mtlnet2025.auc.train"].in_sample and not BY_ID["mtlnet2025.auc.external"].in_sample


def test_each_metric_claim_names_its_own_ci_method():
    """MTLNet's sensitivity and specificity CIs are Wilson, its AUC and Dice bootstrap: the note says which, per row."""
    headline = pd.DataFrame({"set": ["external"] * 3, "metric": ["Dice", "AUC", "sensitivity"], "value": [0.8, 0.7, 0.6], "CI low": [0.7, 0.5, 0.4],
                             "CI high": [0.9, 0.9, 0.8], "CI method": ["bootstrap", "stratified bootstrap", "Wilson"]}).set_index(["set", "metric"])
    rows = {r["claim"]: r for r in C.metric_claims(headline, study="mtlnet2025", note="bootstrap 95% CI; ceiling: the image-only ceiling")}
    assert rows["mtlnet2025.sensitivity.external"]["note"] == "Wilson 95% CI; ceiling: the image-only ceiling"
    assert rows["mtlnet2025.auc.external"]["note"] == "stratified bootstrap 95% CI; ceiling: the image-only ceiling"
    assert rows["mtlnet2025.dice.external"]["note"] == "bootstrap 95% CI; ceiling: the image-only ceiling"
