"""The computations behind chapters 01, 02, 04 and 07: each writes exactly the files it is handed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.jobs import analysis as J


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_dysregulated_definitions_count_like_a_row_by_row_reference():
    rng = np.random.default_rng(3)
    n = 400
    table = pd.DataFrame({"gene": [f"G{i}" for i in range(n)], "p_value": rng.uniform(0, 0.2, n), "log_fc": rng.normal(0, 0.8, n)})
    table["fdr"] = np.minimum(1, table["p_value"] * 4)
    planted = pd.DataFrame({"gene": [f"G{i}" for i in range(0, n, 7)]})
    got = J.dysregulated_definitions(table, planted=planted)
    assert len(got) == 6
    for p_col, p_name in (("p_value", "unadjusted p < 0.05"), ("fdr", "FDR < 0.05")):
        for fc, fc_name in ((0.0, ""), (math.log2(1.2), " and |log2 FC| >= log2 1.2"), (1.0, " and |log2 FC| >= 1")):
            called = [r for r in table.itertuples() if getattr(r, p_col) < 0.05 and abs(r.log_fc) >= fc]
            assert got.loc[p_name + fc_name, "proteins"] == len(called)
            assert got.loc[p_name + fc_name, "of them planted"] == sum(int(r.gene[1:]) % 7 == 0 for r in called)
    assert "of them planted" not in J.dysregulated_definitions(table, planted=None)


def test_a_chapter_without_a_claims_job_is_refused():
    with pytest.raises(ValueError, match="no claims job for chapter '02_clinical'"):
        J.chapter_claims("02_clinical", inputs={}, config={}, studies={})


def _scores(tmp: Path):
    from ecrs_analysis.config.params import load_params
    from ecrs_analysis.data import study as S

    cfg = load_params("smoke")
    cfg["studies"]["li2025"]["synthetic"].update(n_patients=40, spacing_scale=8.0)
    cfg["n_jobs"] = 1
    cfg["omics"].update(permutations=50)
    paths = S.ResultPaths(tmp / "smoke")
    study = S.prepare_study(cfg, "li2025", paths)
    t = study.table.merge(study.cohort.truth[["patient_id", "true_prob"]], on="patient_id")
    noisy = np.clip(t["true_prob"] + np.random.default_rng(0).normal(0, 0.15, len(t)), 0, 1)
    return cfg, paths, study, pd.DataFrame({"patient_id": t["patient_id"], "set": t["set"], "label": t["label"], "integrated": noisy})


def _omics_out(paths, study: str = "li2025") -> dict[str, Path]:
    names = ("samples", "log2_raw", "normalized", "steps", "definitions", "limma_welch", "planted", "planted_pathways")
    out = {n: paths.omics_table(study, n) for n in names}
    out.update({f"{t}_{c}": paths.omics_table(study, t, c) for c in ("predicted", "label") for t in ("de", "ora", "gsea", "running")})
    return {**out, "summary": paths.omics_summary(study), "synthetic": paths.omics(study) / "synthetic"}


@pytest.mark.slow
def test_proteomics_job_writes_exactly_its_outputs_on_synthetic_and_on_user_files(tmp_path):
    from ecrs_analysis.omics.settings import OmicsSettings

    cfg, paths, study, scores = _scores(tmp_path)
    out = _omics_out(paths)
    before = _files(paths.root)
    settings = OmicsSettings.model_validate(cfg["omics"])
    J.proteomics_job(study, scores, settings=settings, seed=1, rule="youden", target=None, out=out, comparisons=("predicted", "label"))
    written = _files(paths.root) - before
    files = {p for p in written if out["synthetic"] not in p.parents}
    assert files == {p for n, p in out.items() if n != "synthetic"}
    assert {p.name for p in written - files} >= {"proteins.csv", "samples.csv", "planted.csv"}
    de = pd.read_csv(out["de_predicted"])
    assert {"protein", "gene", "log_fc", "ave_expr", "t", "p_value", "fdr", "b", "welch_p_value"} <= set(de.columns)
    summary = json.loads(out["summary"].read_text())
    assert summary["samples"] == 34 and summary["recovery"]["recall"] > 0.2
    assert summary["dysregulated"]["predicted"] == int(de["dysregulated"].sum())
    running = pd.read_csv(out["running_predicted"])
    assert set(running["term"]) == set(pd.read_csv(out["gsea_predicted"])["term"].head(3))

    # A user's matrix + sample sheet (here the synthetic files under another name): no planted truth.
    user = tmp_path / "user"
    user.mkdir()
    (user / "matrix.tsv").write_text(pd.read_csv(out["synthetic"] / "proteins.csv").to_csv(sep="\t", index=False))
    pd.read_csv(out["synthetic"] / "samples.csv").to_csv(user / "sheet.csv", index=False)
    settings = OmicsSettings.model_validate({**cfg["omics"], "proteins": str(user / "matrix.tsv"), "sample_sheet": str(user / "sheet.csv")})
    J.proteomics_job(study, scores, settings=settings, seed=1, rule="youden", target=None, out=out, comparisons=("predicted", "label"))
    summary = json.loads(out["summary"].read_text())
    assert summary["recovery"] is None and summary["synthetic"] is False


def test_proteomics_job_without_data_writes_its_reason_and_empty_tables(tmp_path):
    from types import SimpleNamespace

    from ecrs_analysis.config.params import load_params
    from ecrs_analysis.data.study import ResultPaths
    from ecrs_analysis.omics.settings import OmicsSettings

    ids = [f"p{i}" for i in range(20)]
    scores = pd.DataFrame({"patient_id": ids, "set": "train", "label": [0, 1] * 10, "integrated": np.linspace(0, 1, 20)})
    real_cohort = SimpleNamespace(table=scores[["patient_id"]], split=SimpleNamespace(train_name="train"), cohort=SimpleNamespace(truth=None))
    out = _omics_out(ResultPaths(tmp_path))
    J.proteomics_job(real_cohort, scores, settings=OmicsSettings.model_validate(load_params("smoke")["omics"]), seed=1, rule="youden", target=None, out=out, comparisons=("predicted", "label"))
    assert "no proteomics" in json.loads(out["summary"].read_text())["skipped"]
    assert all(p.exists() for p in out.values())


def test_integrated_evaluation_writes_held_out_thresholds_ceiling_paired_and_calibration(tmp_path):
    """On a small synthetic score table: every declared output, out-of-fold thresholds, in-sample rows marked."""
    from ecrs_analysis.jobs.analysis import INTEGRATED_EVALUATION_TABLES, integrated_evaluation_job, read_indexed
    from ecrs_analysis.stats.threshold import choose_threshold

    rng = np.random.default_rng(0)
    n = 150
    y = np.arange(n) % 2
    z = y + rng.normal(0, 0.8, n)
    sets = np.array(["train"] * 90 + ["internal_test"] * 30 + ["external_test"] * 30)
    scores = pd.DataFrame({"patient_id": [f"P{i}" for i in range(n)], "set": sets, "label": y, "clinical_signature": z + rng.normal(0, 1, n),
                           "clinical_signature_held_out": z + rng.normal(0, 1.1, n), "resnet3d": 1 / (1 + np.exp(-(z + rng.normal(0, 1, n)))),
                           "true_prob": 1 / (1 + np.exp(-2 * z)), "image_prob": 1 / (1 + np.exp(-1.5 * z))})
    scores["integrated"] = 1 / (1 + np.exp(-(scores["clinical_signature"] + z) / 2))
    folds = pd.DataFrame({"patient_id": scores["patient_id"][:90], "fold": np.arange(90) % 3})
    out = {t: tmp_path / f"{t}.csv" for t in INTEGRATED_EVALUATION_TABLES}
    integrated_evaluation_job(scores, folds, models=["resnet3d"], sets=["train", "internal_test", "external_test"], train_set="train", seed=0, svm_folds=3,
                              n_resamples=200, rule="youden", target=None, out=out)
    assert all(p.exists() for p in out.values())
    held = pd.read_csv(out["held_out_scores"])
    ops = read_indexed(out["operating_points"], levels=2)
    train = held[held["set"] == "train"]
    assert ops.loc[("integrated", "internal_test"), "threshold"] == choose_threshold(train["label"], train["integrated_held_out"])
    assert ops.loc[("integrated", "internal_test"), "rule"] == "youden on train (out-of-fold)"
    assert ops.loc[("integrated", "train"), "scores"] == "in-sample" and ops.loc[("resnet3d", "train"), "scores"] == "out-of-fold"
    aucs = read_indexed(out["auc"], levels=2)
    assert aucs.loc[("train", "integrated"), "scores"] == "in-sample" and aucs.loc[("train", "integrated (out-of-fold)"), "scores"] == "out-of-fold"
    ceiling = read_indexed(out["ceiling"], levels=2)
    assert set(ceiling["ceiling"]) == {"true_prob"} and ("train", "integrated (out-of-fold)") in ceiling.index
    assert ceiling.loc[("train", "integrated"), "scores"] == "in-sample" and ceiling.loc[("train", "integrated (out-of-fold)"), "scores"] == "out-of-fold"
    paired = read_indexed(out["paired"], levels=2)
    assert (paired["p (Holm)"] >= paired["p"]).all() and (paired["tests"] == len(paired)).all()
    cal = read_indexed(out["calibration"])
    assert list(cal.index) == ["train", "internal_test", "external_test"] and cal.loc["train", "scores"] == "out-of-fold"
    assert set(pd.read_csv(out["decision_curve"])["set"]) == set(cal.index)


def test_mtlnet_is_tested_against_its_image_ceiling_with_training_rows_in_sample():
    from types import SimpleNamespace

    from ecrs_analysis.jobs.mtlnet_evaluation import mtlnet_ceiling_test
    from ecrs_analysis.stats.delong import delong_test

    rng = np.random.default_rng(1)
    n = 120
    y = np.arange(n) % 2
    z = y + rng.normal(0, 1, n)
    ids = [f"M{i}" for i in range(n)]
    scores = pd.DataFrame({"patient_id": ids, "set": np.repeat(["train", "validation", "external"], n // 3), "label": y, "prob": 1 / (1 + np.exp(-z - rng.normal(0, 1, n)))})
    truth = pd.DataFrame({"patient_id": ids, "image_prob": 1 / (1 + np.exp(-z))})
    study = SimpleNamespace(split=SimpleNamespace(names=("train", "validation", "external")), cohort=SimpleNamespace(truth=truth))
    t = mtlnet_ceiling_test(study, scores, train_set="train", learned=True, n_resamples=200, seed=0)
    part = scores[scores["set"] == "external"].merge(truth)
    d = delong_test(part["label"], part["prob"], part["image_prob"])
    assert t.loc[("external", "mtlnet"), "ΔAUC (model − ceiling)"] == pytest.approx(d.difference)
    assert t.loc[("train", "mtlnet"), "scores"] == "in-sample" and t.loc[("external", "mtlnet"), "scores"] == "held-out"
    assert "note" in mtlnet_ceiling_test(study, scores, train_set="train", learned=False, n_resamples=10, seed=0)
    assert "note" in mtlnet_ceiling_test(SimpleNamespace(split=study.split, cohort=SimpleNamespace(truth=None)), scores, train_set="train", learned=True, n_resamples=10, seed=0)
