"""MTLNet's segmentation scored on the CT's own grid, the grid's upper bound and the crop's coverage (jobs.mtlnet_evaluation)."""

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from ecrs_analysis.data.settings import PreprocessSettings
from ecrs_analysis.data.manifest import validate_manifest
from ecrs_analysis.data.preprocess import load_preprocessed, preprocess_cohort
from ecrs_analysis.explain.inverse import InputGrid
from ecrs_analysis.jobs.mtlnet_evaluation import coverage_table, grid_table, native_segmentation_scores

PARAMS = PreprocessSettings(spacing_mm=[3.0, 3.0, 3.0], hu_window=[-1000.0, 1000.0], margin_mm=6.0, input_size=[16, 16, 16], crop_to="head_box",
                            head_box=[[0.10, 0.14, 0.05], [0.93, 1.0, 1.0]])
MASKS = ("sinus_mask", "roi_mask")


@pytest.fixture(scope="module")
def four(tiny_cohort, tmp_path_factory):
    c = validate_manifest(tiny_cohort / "manifest.csv", mask_columns=MASKS)
    table = c.table.head(4).copy()
    table["set"] = ["train", "train", "validation", "external"]
    index = preprocess_cohort(table, mask_columns=MASKS, params=PARAMS, cache_dir=tmp_path_factory.mktemp("cache"), n_jobs=1)
    return table, index


def _predicted(folder, table, masks):
    path = folder / "masks.npz"
    np.savez(path, masks=np.stack(masks).astype(np.uint8), patient_id=table["patient_id"].to_numpy(dtype=str))
    return path


def test_the_resized_truth_as_prediction_scores_the_grids_upper_bound(four, tmp_path):
    table, index = four
    truth = [load_preprocessed(p)["sinus_mask"][0] for p in index["path"]]
    out = native_segmentation_scores(table, index, _predicted(tmp_path, table, truth), preprocess=PARAMS, mask_columns=MASKS, target="sinus_mask", tolerance_mm=3.0)
    assert out["patient_id"].tolist() == table["patient_id"].tolist() and out["set"].tolist() == table["set"].tolist()
    assert np.allclose(out["dice"], out["grid bound dice"])
    assert (out["grid bound dice"] < 1).all() and (out["grid bound dice"] > 0.3).all()  # a coarse grid loses boundary voxels
    assert out["crop coverage"].between(0.95, 1.0).all()  # the image-only box holds the sinuses
    # an independent Dice, by hand with numpy, on the CT grid for the first patient
    row = table.iloc[0]
    grid = InputGrid(row["image"], {m: row[m] for m in MASKS}, PARAMS)
    back = sitk.GetArrayFromImage(grid.to_ct(truth[0], nearest=True)) > 0.5
    orig = sitk.GetArrayFromImage(sitk.ReadImage(str(row["sinus_mask"]))) > 0.5
    assert out.loc[0, "dice"] == pytest.approx(2 * (back & orig).sum() / (back.sum() + orig.sum()), abs=1e-6)


def test_an_empty_prediction_is_a_failure_and_the_tables_summarise_per_set(four, tmp_path):
    table, index = four
    empty = [np.zeros(PARAMS.input_size, np.uint8) for _ in range(len(table))]
    out = native_segmentation_scores(table, index, _predicted(tmp_path, table, empty), preprocess=PARAMS, mask_columns=MASKS, target="sinus_mask", tolerance_mm=3.0)
    assert (out["dice"] == 0).all() and np.isinf(out["hd95"]).all()
    out["grid dice"] = 0.0
    g = grid_table(out, sets=["train", "validation", "external"], n_resamples=200, seed=0)
    assert g.loc[("train", "native Dice"), "mean"] == 0 and g.loc[("train", "grid upper bound Dice"), "n"] == 2
    cov = coverage_table(out, sets=["train", "validation", "external"])
    assert cov.loc["train", "patients"] == 2 and cov.loc["train", "mean share inside"] == pytest.approx(out.loc[:1, "crop coverage"].mean())


def test_a_patient_without_a_predicted_mask_is_named(four, tmp_path):
    table, index = four
    path = tmp_path / "masks.npz"
    np.savez(path, masks=np.zeros((1, 16, 16, 16), np.uint8), patient_id=np.array(["nobody"]))
    with pytest.raises(ValueError, match="no predicted mask"):
        native_segmentation_scores(table, index, path, preprocess=PARAMS, mask_columns=MASKS, target="sinus_mask", tolerance_mm=3.0)
