"""ecrs summary: the run's evidence table from its artefacts, each model beside the ceiling it could reach."""

import pandas as pd
import pytest

from ecrs_analysis.report.summary import evidence_summary
from ecrs_analysis.cli import main


def _write(root, name, frame, index=True):
    (root / "tables").mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / "tables" / name, index=index)


def _auc(rows):
    return pd.DataFrame(rows, columns=["set", "model", "n", "AUC", "DeLong low", "DeLong high"]).set_index(["set", "model"])


def test_each_model_is_set_against_its_own_ceiling(tmp_path):
    _write(tmp_path, "li2025_deep_learning.csv", pd.DataFrame({"model": ["resnet3d", "hrnet3d"], "learned": ["yes", "NO"]}).set_index("model"))
    _write(tmp_path, "li2025_deep_auc.csv", _auc([("test", "resnet3d", 50, 0.8, 0.7, 0.9), ("test", "image_prob", 50, 0.88, 0.8, 0.95), ("test", "true_prob", 50, 0.92, 0.85, 0.97)]))
    _write(tmp_path, "li2025_integrated_auc.csv", _auc([("test", "integrated", 50, 0.86, 0.8, 0.92), ("test", "true_prob", 50, 0.92, 0.85, 0.97)]))
    mt = pd.DataFrame({"set": ["external"] * 2, "metric": ["AUC", "Dice"], "reproduced": [0.75, 0.81], "95% CI": ["0.600–0.880", "0.800–0.820"], "image ceiling": [0.86, None]})
    _write(tmp_path, "mtlnet2025_mtlnet_reported_vs_reproduced.csv", mt, index=False)
    _write(tmp_path, "mtlnet2025_mtlnet_learning.csv", pd.DataFrame({"learned": [True]}), index=False)
    ceiling = pd.DataFrame([{"set": "test", "model": "resnet3d", "ΔAUC (model − ceiling)": -0.08, "ΔAUC low": -0.15, "ΔAUC high": -0.01,
                             "share of ceiling above chance": 0.3 / 0.38, "share low": 0.6, "share high": 0.95, "scores": "held-out"}])
    _write(tmp_path, "li2025_deep_ceiling.csv", ceiling, index=False)
    t = evidence_summary(tmp_path)
    r = t.loc[("resnet3d", "test")]
    assert r["ceiling"] == "image_prob" and r["share above chance"] == pytest.approx((0.8 - 0.5) / (0.88 - 0.5), abs=1e-3)
    assert (r["AUC − ceiling"], r["Δ low"], r["Δ high"]) == (-0.08, -0.15, -0.01) and (r["share low"], r["share high"]) == (0.6, 0.95)
    assert "share of ceiling" not in t.columns  # the ratio of AUCs is gone: it read 1.01 where the paired difference was -0.007
    assert pd.isna(t.loc[("integrated", "test"), "AUC − ceiling"])  # no ceiling table for it here: missing, not invented
    assert t.loc[("integrated", "test"), "ceiling"] == "true_prob" and t.loc[("integrated", "test"), "ceiling AUC"] == 0.92
    assert t.loc[("mtlnet", "external"), "CI low"] == 0.6 and t.loc[("mtlnet", "external"), "Dice"] == 0.81
    assert ("hrnet3d", "test") not in t.index  # a network that did not learn has no AUC row to show


def test_a_folder_without_a_run_is_one_clear_error(tmp_path, capsys):
    assert main(["summary", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ecrs: error: ") and "no finished run here" in err and "li2025_deep_auc.csv" in err


def test_deep_evaluation_of_networks_that_all_failed_writes_an_empty_table_with_its_columns(tmp_path):
    """A real cohort (no ceilings) whose networks did not learn: the chapter must still read the table."""
    from types import SimpleNamespace

    import numpy as np

    from ecrs_analysis.jobs.analysis import read_indexed
    from ecrs_analysis.jobs.deep_evaluation import deep_evaluation_job

    y = np.arange(20) % 2
    scores = pd.DataFrame({"patient_id": [f"P{i}" for i in range(20)], "set": "train", "label": y, "resnet3d": 0.5})
    hist = pd.DataFrame({"model": "resnet3d", "fold": 0, "epoch": [1], "train_loss": [0.8], "volumes_per_s": [3.0]})
    study = SimpleNamespace(split=SimpleNamespace(train_name="train", names=("train",)), cohort=SimpleNamespace(truth=None))
    out = {k: tmp_path / f"{k}.csv" for k in ("learning", "auc", "ceiling", "throughput", "sizes")}
    deep_evaluation_job(study, scores, hist, models=["resnet3d"], n_resamples=50, seed=0, width=0.25, input_size=(16, 16, 16), out=out)
    assert read_indexed(out["learning"]).loc["resnet3d", "learned"] == "NO"
    aucs = read_indexed(out["auc"], levels=2)
    assert aucs.empty and "AUC" in aucs.columns


def test_in_sample_rows_are_marked(tmp_path):
    _write(tmp_path, "li2025_deep_learning.csv", pd.DataFrame({"model": ["resnet3d"], "learned": ["yes"]}).set_index("model"))
    _write(tmp_path, "li2025_deep_auc.csv", _auc([("train", "resnet3d", 50, 0.8, 0.7, 0.9)]).assign(scores="out-of-fold"))
    _write(tmp_path, "li2025_integrated_auc.csv", _auc([("train", "integrated", 50, 0.95, 0.9, 0.99), ("train", "integrated (out-of-fold)", 50, 0.85, 0.8, 0.9)])
           .assign(scores=["in-sample", "out-of-fold"]))
    _write(tmp_path, "mtlnet2025_mtlnet_reported_vs_reproduced.csv", pd.DataFrame({"set": ["external"], "metric": ["Dice"], "reproduced": [0.8]}), index=False)
    _write(tmp_path, "mtlnet2025_mtlnet_learning.csv", pd.DataFrame({"learned": [True]}), index=False)
    t = evidence_summary(tmp_path)
    assert t.loc[("integrated", "train"), "scores"] == "in-sample" and t.loc[("integrated (out-of-fold)", "train"), "scores"] == "out-of-fold"
    assert t.loc[("resnet3d", "train"), "scores"] == "out-of-fold"
