"""The exhibit jobs: ROC tables checked against scikit-learn, and what the chapters read back is what the jobs wrote."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from ecrs_analysis.jobs.exhibits import ROC_COLUMNS, mtlnet_roc_job, roc_table


@pytest.fixture
def scores():
    rng = np.random.default_rng(3)
    parts = []
    for s, n in (("train", 60), ("test", 40)):
        y = np.arange(n) % 2
        parts.append(pd.DataFrame({"set": s, "label": y, "a": rng.normal(y, 1.0), "b": rng.normal(0.3 * y, 1.0)}))
    return pd.concat(parts, ignore_index=True)


def test_roc_table_curve_and_auc_match_scikit_learn(scores):
    table = roc_table(scores, ["a", "b"], sets=["train", "test"], n_resamples=50, seed=1)
    assert list(table.columns) == ROC_COLUMNS
    for (s, m), rows in table.groupby(["set", "model"]):
        part = scores[scores["set"] == s]
        fpr, tpr, _ = roc_curve(part["label"], part[m], drop_intermediate=False)
        curve = rows[rows["kind"] == "curve"]
        assert np.allclose(curve["fpr"], fpr) and np.allclose(curve["tpr"], tpr)
        assert rows["AUC"].iloc[0] == pytest.approx(roc_auc_score(part["label"], part[m]), abs=1e-12)
        assert (rows["CI low"] < rows["AUC"]).all() and (rows["AUC"] < rows["CI high"]).all()
        band = rows[rows["kind"] == "band"]
        assert len(band) > 10 and (band["low"] <= band["high"] + 1e-12).all() and band["fpr"].is_monotonic_increasing
        assert int(rows["n"].iloc[0]) == len(part)


def test_roc_table_is_seeded(scores):
    one = roc_table(scores, ["a"], sets=["test"], n_resamples=40, seed=5)
    assert one.equals(roc_table(scores, ["a"], sets=["test"], n_resamples=40, seed=5))
    other = roc_table(scores, ["a"], sets=["test"], n_resamples=40, seed=6)
    assert not one["low"].fillna(0).equals(other["low"].fillna(0))


def test_mtlnet_roc_is_empty_when_the_classifier_did_not_learn(scores, tmp_path):
    out = {"roc": tmp_path / "roc.csv"}
    mtlnet_roc_job(scores.rename(columns={"a": "prob"}), pd.DataFrame({"learned": [False], "why not": ["flat"]}), sets=["test"], n_resamples=20, seed=0, out=out)
    assert pd.read_csv(out["roc"]).empty
    mtlnet_roc_job(scores.rename(columns={"a": "prob"}), pd.DataFrame({"learned": [True]}), sets=["train", "test"], n_resamples=20, seed=0, out=out)
    assert set(pd.read_csv(out["roc"])["set"]) == {"train", "test"}


def test_a_drawn_roc_figure_shows_the_tables_auc(scores):
    import matplotlib

    matplotlib.use("Agg")
    from ecrs_analysis.plotting.roc import plot_roc_panels

    table = roc_table(scores, ["a", "b"], sets=["train", "test"], n_resamples=30, seed=0)
    fig = plot_roc_panels(table, ["a", "b"], sets=["train", "test"], labels={"a": "A"})
    texts = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    auc = roc_auc_score(scores.loc[scores["set"] == "test", "label"], scores.loc[scores["set"] == "test", "a"])
    assert texts[0].startswith("A: ") and float(texts[0][3:8]) == pytest.approx(auc, abs=6e-4)
    with pytest.raises(ValueError, match="no rows for 'c'"):
        plot_roc_panels(table, ["c"], sets=["test"])


def test_hu_tissues_read_back_as_chapter_01_reads_them(tmp_path):
    """The HU table (two sources side by side, a two-row header) comes back as the job computed it."""
    from types import SimpleNamespace

    import SimpleITK as sitk

    from ecrs_analysis.data import ctstats
    from ecrs_analysis.jobs.exhibits import hu_tissues_job

    rng = np.random.default_rng(0)
    files = []
    for name in ("phantom", "real"):
        img = sitk.GetImageFromArray(rng.choice([-1000, -100, 40, 700], size=(12, 12, 12)).astype(np.int16) + rng.integers(-20, 20, (12, 12, 12)).astype(np.int16))
        sitk.WriteImage(img, str(tmp_path / f"{name}.nii.gz"))
        files.append(tmp_path / f"{name}.nii.gz")
    study = SimpleNamespace(cohort=SimpleNamespace(table=pd.DataFrame({"image": [str(files[0])]})))
    out = {"tissues": tmp_path / "hu.csv"}
    hu_tissues_job(study, reference=files[1], out=out)
    back = pd.read_csv(out["tissues"], header=[0, 1], index_col=0)
    made = pd.concat([ctstats.tissue_summary(sitk.ReadImage(str(files[0])), name="synthetic"),
                      ctstats.tissue_summary(sitk.ReadImage(str(files[1])), name="real (InVesalius 0051)")]).pivot(index="tissue", columns="source")
    pd.testing.assert_frame_equal(back, made, check_dtype=False, check_names=False)
    hu_tissues_job(study, reference=None, out=out)  # no reference CT: an empty table, the chapter skips the comparison
    assert out["tissues"].read_text().strip() == ""
