"""The Table 1, clinical and integrated jobs on a small cohort with a known signal, checked against
counts and fits made here by hand, and against the rule that nothing of the test sets chooses a setting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ecrs_analysis.data.manifest import Cohort
from ecrs_analysis.data.splits import Split
from ecrs_analysis.data.study import LoadedStudy
from ecrs_analysis.jobs import analysis as J

SETS = ("train", "internal_test", "external_test")
LM = tuple(f"lm_{s}_{n}" for s in ("right", "left") for n in ("maxillary", "anterior_ethmoid", "posterior_ethmoid", "frontal", "sphenoid", "omc"))
CONTINUOUS = ("age", "blood_eos_pct", "total_ige")
BINARY = ("sex_male", "asthma", "nasal_polyps", "bilateral_disease")


def _cohort(seed: int = 0, n: int = 150) -> pd.DataFrame:
    """Patients with a latent eosinophilic burden that drives the label, blood eosinophils, asthma, polyps and
    the ethmoid scores; age, sex and IgE carry nothing. About 5% of age and blood eosinophils missing."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(0, 1, n)
    label = (rng.random(n) < 1 / (1 + np.exp(-1.8 * latent))).astype(int)
    t = pd.DataFrame({
        "patient_id": [f"P{i:03d}" for i in range(n)],
        "center": np.where(np.arange(n) < 115, "hospital_A", "hospital_B"),
        "label": label,
        "age": np.round(rng.normal(45, 12, n)),
        "sex_male": (rng.random(n) < 0.55).astype(float),
        "asthma": (rng.random(n) < 1 / (1 + np.exp(-latent))).astype(float),
        "nasal_polyps": (rng.random(n) < 1 / (1 + np.exp(-1 - latent))).astype(float),
        "bilateral_disease": (rng.random(n) < 0.8).astype(float),
        "blood_eos_pct": np.round(np.exp(1 + 0.6 * latent + rng.normal(0, 0.3, n)), 1),
        "total_ige": np.round(np.exp(rng.normal(4, 1, n)), 1),
    })
    for col in LM:
        ethmoid = "ethmoid" in col
        t[col] = np.clip(np.round(rng.normal(1 + (0.6 * latent if ethmoid else 0), 0.6)), 0, 2)
    t["lm_total"] = t[list(LM)].sum(axis=1)
    for col in ("age", "blood_eos_pct"):
        t.loc[rng.random(n) < 0.05, col] = np.nan
    return t


def _study(table: pd.DataFrame) -> LoadedStudy:
    columns = (*CONTINUOUS, *BINARY, *LM, "lm_total")
    types = {c: ("binary" if c in BINARY else "continuous") for c in columns}
    cohort = Cohort(table=table, manifest_path=Path("manifest.csv"), clinical_columns=columns, mask_columns=(), clinical_types=types)
    ids = table["patient_id"].tolist()
    split = Split({"train": tuple(ids[:80]), "internal_test": tuple(ids[80:115]), "external_test": tuple(ids[115:])}, mode="center")
    return LoadedStudy("li2025", cohort, split)


def _folds(study: LoadedStudy, k: int = 3) -> pd.DataFrame:
    train = list(study.split.sets["train"])
    return pd.DataFrame({"patient_id": train, "fold": np.arange(len(train)) % k})


def _with_test_labels_flipped(table: pd.DataFrame) -> pd.DataFrame:
    flipped = table.copy()
    test = flipped["patient_id"].isin(_study(table).split.sets["internal_test"] + _study(table).split.sets["external_test"])
    flipped.loc[test, "label"] = 1 - flipped.loc[test, "label"]
    return flipped


def _best_youden(y: np.ndarray, s: np.ndarray) -> float:
    """The largest sensitivity + specificity - 1 any cut-off reaches (cases: score >= cut-off), by trying every one."""
    best = -1.0
    for t in np.r_[np.unique(s), np.inf]:
        best = max(best, np.mean(s[y == 1] >= t) + np.mean(s[y == 0] < t) - 1)
    return best


# --- Table 1 ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table_one(tmp_path_factory):
    out = {k: tmp_path_factory.mktemp("table1") / f"{k}.csv" for k in ("by_set", "by_endotype")}
    study = _study(_cohort())
    J.table_one_job(study, out=out)
    return study, J.read_indexed(out["by_set"]), J.read_indexed(out["by_endotype"])


def test_table_one_counts_every_patient_and_every_binary_value_like_a_row_by_row_count(table_one):
    study, by_set, by_endotype = table_one
    set_of = {pid: name for name, ids in study.split.sets.items() for pid in ids}
    rows = list(study.cohort.table.itertuples(index=False))
    for name in SETS:
        mine = [r for r in rows if set_of[r.patient_id] == name]
        assert int(by_set.loc["n", name]) == len(mine)
        for v in BINARY:
            k = sum(getattr(r, v) == 1 for r in mine)
            assert by_set.loc[f"{v}, n (%)", name] == f"{k} ({100 * k / len(mine):.1f}%)"
    for label, name in ((1, "eosinophilic"), (0, "non-eosinophilic")):
        mine = [r for r in rows if r.label == label]
        assert int(by_endotype.loc["n", name]) == len(mine)
        k = sum(r.asthma == 1 for r in mine)
        assert by_endotype.loc["asthma, n (%)", name] == f"{k} ({100 * k / len(mine):.1f}%)"
    assert list(by_set.columns[:3]) == list(SETS) and list(by_endotype.columns[:2]) == ["eosinophilic", "non-eosinophilic"]


def test_table_one_summarises_continuous_values_of_each_set_and_counts_the_missing(table_one):
    study, by_set, _ = table_one
    t = study.table
    for v in CONTINUOUS:
        for name in SETS:
            x = t.loc[t["set"] == name, v].dropna().to_numpy()
            as_mean = f"{x.mean():.1f} ± {x.std(ddof=1):.1f}"
            as_median = f"{np.median(x):.1f} [{np.percentile(x, 25):.1f}, {np.percentile(x, 75):.1f}]"
            assert by_set.loc[v, name] in (as_mean, as_median), (v, name)
        missing = int(t[v].isna().sum())
        shown = by_set.loc[v, "missing"]
        assert (int(shown) if pd.notna(shown) else 0) == missing, v  # age and blood eosinophils have missing values, IgE none
    # the per-sinus Lund-Mackay scores are summed in lm_total, not shown one by one
    assert "lm_total" in by_set.index and not any(i.startswith(("lm_right", "lm_left")) for i in by_set.index)


# --- clinical ---------------------------------------------------------------------------------------

CLINICAL_OUT = ("scores", "univariable", "signature", "imputed", "auc", "operating_points")


def _clinical(table: pd.DataFrame, folder: Path) -> dict[str, Path]:
    out = {k: folder / f"{k}.csv" for k in CLINICAL_OUT}
    folder.mkdir(parents=True, exist_ok=True)
    study = _study(table)
    J.clinical_job(study, alpha=0.05, n_resamples=50, seed=1, rule="youden", target=None, out=out, folds=_folds(study))
    return out


@pytest.fixture(scope="module")
def clinical(tmp_path_factory):
    root = tmp_path_factory.mktemp("clinical")
    table = _cohort()
    return table, _clinical(table, root / "a"), _clinical(_with_test_labels_flipped(table), root / "flipped")


def test_clinical_job_writes_its_files_and_scores_every_patient_once(clinical):
    table, out, _ = clinical
    assert sorted(p.name for p in out["scores"].parent.iterdir()) == sorted(f"{k}.csv" for k in CLINICAL_OUT)
    scores = pd.read_csv(out["scores"])
    assert scores["patient_id"].tolist() == table["patient_id"].tolist() and scores["label"].tolist() == table["label"].tolist()
    imputed = J.read_indexed(out["imputed"])["values imputed"]
    train = table.iloc[:80]
    for v in ("age", "blood_eos_pct"):
        assert imputed[v] == train[v].isna().sum()  # filled in the training set, where the signature is fitted
    # the signature found the planted signal: blood eosinophils in, age / sex / IgE out
    signature = J.read_indexed(out["signature"])
    assert any("blood_eos" in str(v) for v in signature.index)
    assert not any(str(v) in ("age", "sex_male", "total_ige") for v in signature.index)


def test_clinical_aucs_are_those_of_the_scores_it_wrote(clinical):
    _, out, _ = clinical
    scores, aucs = pd.read_csv(out["scores"]), J.read_indexed(out["auc"], levels=2)
    for s in SETS:
        part = scores[scores["set"] == s]
        for model in ("clinical_signature", "jesrec", "blood_eos_pct"):
            assert aucs.loc[(s, model), "AUC"] == pytest.approx(roc_auc_score(part["label"], part[model]), abs=1e-9), (s, model)
    train = scores[scores["set"] == "train"]
    oof = aucs.loc[("train", "clinical_signature (out-of-fold)")]
    assert oof["AUC"] == pytest.approx(roc_auc_score(train["label"], train["clinical_signature_held_out"]), abs=1e-9) and oof["scores"] == "out-of-fold"
    assert aucs.loc[("train", "clinical_signature"), "scores"] == "in-sample" and aucs.loc[("internal_test", "clinical_signature"), "scores"] == "held-out"


def test_clinical_threshold_is_the_best_youden_cut_off_of_the_out_of_fold_training_scores(clinical):
    _, out, _ = clinical
    scores, ops = pd.read_csv(out["scores"]), J.read_indexed(out["operating_points"], levels=2)
    train = scores[scores["set"] == "train"]
    y, s = train["label"].to_numpy(), train["clinical_signature_held_out"].to_numpy()
    t = ops.loc[("clinical_signature", "internal_test"), "threshold"]
    assert np.mean(s[y == 1] >= t) + np.mean(s[y == 0] < t) - 1 == pytest.approx(_best_youden(y, s))
    assert (ops.xs("clinical_signature", level=0)["threshold"] == t).all()  # one threshold, applied unchanged to every set
    assert (ops.xs("jesrec ≥ 11", level=0)["threshold"] == 11.0).all() and (ops.xs("jesrec ≥ 11", level=0)["rule"] == "published cut-off").all()
    for model in ("jesrec", "blood_eos_pct"):  # the comparators' own thresholds: the best cut-off of their training scores
        y, s = train["label"].to_numpy(), train[model].to_numpy()
        t = ops.loc[(model, "external_test"), "threshold"]
        assert np.mean(s[y == 1] >= t) + np.mean(s[y == 0] < t) - 1 == pytest.approx(_best_youden(y, s)), model


def test_nothing_the_clinical_job_chooses_depends_on_the_test_labels(clinical):
    _, out, flipped = clinical
    for name in ("signature", "univariable", "imputed"):
        pd.testing.assert_frame_equal(pd.read_csv(out[name]), pd.read_csv(flipped[name]))
    a, b = pd.read_csv(out["scores"]), pd.read_csv(flipped["scores"])
    pd.testing.assert_frame_equal(a.drop(columns="label"), b.drop(columns="label"))
    ops_a, ops_b = J.read_indexed(out["operating_points"], levels=2), J.read_indexed(flipped["operating_points"], levels=2)
    pd.testing.assert_series_equal(ops_a["threshold"], ops_b["threshold"])
    aucs_a, aucs_b = J.read_indexed(out["auc"], levels=2), J.read_indexed(flipped["auc"], levels=2)
    assert aucs_a.loc[("internal_test", "clinical_signature"), "AUC"] == pytest.approx(1 - aucs_b.loc[("internal_test", "clinical_signature"), "AUC"])


# --- integrated -------------------------------------------------------------------------------------


def _deep_scores(table: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    study = _study(table)
    latent_proxy = table["label"] + rng.normal(0, 1.0, len(table))
    return pd.DataFrame({"patient_id": table["patient_id"], "set": study.table["set"], "label": table["label"],
                         "resnet3d": 1 / (1 + np.exp(-latent_proxy)), "hrnet3d": rng.random(len(table))})


def _integrated(clinical_scores: pd.DataFrame, deep: pd.DataFrame, folder: Path, *, truth=None) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {"scores": folder / "scores_integrated.csv", "model": folder / "model.json"}
    J.integrated_job(clinical_scores, deep, models=["resnet3d", "hrnet3d"], train_set="train", seed=0, svm_folds=3, truth=truth, out=out)
    return out


@pytest.fixture(scope="module")
def integrated(clinical, tmp_path_factory):
    table, out, _ = clinical
    root = tmp_path_factory.mktemp("integrated")
    clin, deep = pd.read_csv(out["scores"]), _deep_scores(table)
    truth = pd.DataFrame({"patient_id": table["patient_id"], "true_prob": np.linspace(0.01, 0.99, len(table)), "image_prob": 0.5, "latent": 0.0})
    a = _integrated(clin, deep, root / "a", truth=truth)
    # the test sets' labels flipped and one test patient's scores changed: the model must not move
    test = clin["set"] != "train"
    clin_b, deep_b = clin.copy(), deep.copy()
    clin_b.loc[test, "label"] = 1 - clin_b.loc[test, "label"]
    deep_b.loc[test, "label"] = 1 - deep_b.loc[test, "label"]
    changed = clin.index[test][0]
    deep_b.loc[changed, "resnet3d"] = 1 - deep_b.loc[changed, "resnet3d"]
    b = _integrated(clin_b, deep_b, root / "b")
    return clin, a, b, changed


def test_integrated_job_keeps_every_patient_and_adds_the_ceilings_of_a_synthetic_cohort(integrated):
    clin, a, b, _ = integrated
    sa, sb = pd.read_csv(a["scores"]), pd.read_csv(b["scores"])
    assert sa["patient_id"].tolist() == clin["patient_id"].tolist()
    assert {"clinical_signature", "resnet3d", "hrnet3d", "integrated", "true_prob", "image_prob"} <= set(sa.columns)
    assert "true_prob" not in sb and "latent" not in sa  # no truth, no ceiling; only the ceilings are taken from the truth
    model = json.loads(a["model"].read_text())
    assert model["features"] == ["clinical_signature", "resnet3d", "hrnet3d"] and model["train_set"] == "train" and model["svm_folds"] == 3
    # the informative CNN score is kept: the integrated score ranks the training patients better than noise
    train = sa[sa["set"] == "train"]
    assert roc_auc_score(train["label"], train["integrated"]) > 0.7


def test_the_integrated_model_is_fitted_on_training_rows_only(integrated):
    clin, a, b, changed = integrated
    sa, sb = pd.read_csv(a["scores"]), pd.read_csv(b["scores"])
    assert json.loads(a["model"].read_text())["best_params"] == json.loads(b["model"].read_text())["best_params"]
    same = sa.index != changed
    np.testing.assert_allclose(sa.loc[same, "integrated"], sb.loc[same, "integrated"], rtol=0, atol=1e-12)
    assert sa.loc[changed, "integrated"] != sb.loc[changed, "integrated"]  # that patient's own score follows its input


# --- integrated evaluation --------------------------------------------------------------------------


def _evaluation(scores: pd.DataFrame, folds: pd.DataFrame, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {t: folder / f"{t}.csv" for t in J.INTEGRATED_EVALUATION_TABLES}
    J.integrated_evaluation_job(scores, folds, models=["resnet3d", "hrnet3d"], sets=SETS, train_set="train", seed=0, svm_folds=2,
                                n_resamples=50, rule="youden", target=None, out=out)
    return out


def test_held_out_thresholds_are_chosen_on_out_of_fold_scores_whatever_the_test_labels(integrated, clinical, tmp_path):
    table, _, _ = clinical
    _, a, _, _ = integrated
    scores = pd.read_csv(a["scores"])
    folds = _folds(_study(table))
    flipped = scores.assign(label=np.where(scores["set"] == "train", scores["label"], 1 - scores["label"]))
    ea, eb = _evaluation(scores, folds, tmp_path / "a"), _evaluation(flipped, folds, tmp_path / "b")
    ops_a, ops_b = J.read_indexed(ea["operating_points"], levels=2), J.read_indexed(eb["operating_points"], levels=2)
    pd.testing.assert_series_equal(ops_a["threshold"], ops_b["threshold"])
    pd.testing.assert_frame_equal(pd.read_csv(ea["threshold_held_out"]), pd.read_csv(eb["threshold_held_out"]))
    held_a, held_b = pd.read_csv(ea["held_out_scores"]), pd.read_csv(eb["held_out_scores"])
    pd.testing.assert_frame_equal(held_a.drop(columns="label"), held_b.drop(columns="label"))
    # ... and the threshold is the best Youden cut-off of the out-of-fold integrated scores of the training set
    train = held_a[held_a["set"] == "train"]
    y, s = train["label"].to_numpy(), train["integrated_held_out"].to_numpy()
    t = ops_a.loc[("integrated", "external_test"), "threshold"]
    assert np.mean(s[y == 1] >= t) + np.mean(s[y == 0] < t) - 1 == pytest.approx(_best_youden(y, s))
    # the out-of-fold scores are not the in-sample ones (a model scoring its own training rows)
    assert not np.allclose(s, scores.loc[scores["set"] == "train", "integrated"])
