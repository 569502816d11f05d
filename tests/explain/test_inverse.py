"""Maps go back onto the CT: the preprocessed mask, sent back, lands on the original mask (a real generated case)."""

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import torch
from monai.data import MetaTensor
from monai.transforms import Invertd

from ecrs_analysis.data.settings import PreprocessSettings
from ecrs_analysis.data.preprocess import preprocess_patient
from ecrs_analysis.explain.inverse import InputGrid
from ecrs_analysis.stats.segmentation import dice_scores


def dice(a, b) -> float:
    return float(dice_scores(np.asarray(a, dtype=np.uint8)[None], np.asarray(b, dtype=np.uint8)[None])[0])

PARAMS = PreprocessSettings(spacing_mm=[2.0, 2.0, 2.0], hu_window=[-1000.0, 1000.0], margin_mm=6.0, input_size=[48, 48, 32], crop_to="sinus_mask")


@pytest.fixture(scope="module")
def case(tiny_cohort):
    m = pd.read_csv(tiny_cohort / "manifest.csv").iloc[0]
    files = {"sinus_mask": str(tiny_cohort / m["sinus_mask"]), "roi_mask": str(tiny_cohort / m["roi_mask"])}
    return str(tiny_cohort / m["image"]), files


def _centroid_mm(mask, image):
    idx = np.argwhere(mask)[:, ::-1].mean(0)
    return np.asarray(image.TransformContinuousIndexToPhysicalPoint(tuple(float(v) for v in idx)))


def test_a_map_made_of_the_mask_comes_back_onto_the_mask(case):
    image, files = case
    grid = InputGrid(image, files, PARAMS)
    cached = preprocess_patient(image, files, PARAMS)
    grid.check(cached["image"], patient="case")
    for key, min_dice in (("sinus_mask", 0.8), ("roi_mask", 0.6)):
        truth = sitk.GetArrayFromImage(sitk.ReadImage(files[key])) > 0
        back_img = grid.to_ct(cached[key][0].astype(np.float32))
        assert back_img.GetSize() == grid.reference.GetSize() and back_img.GetSpacing() == grid.reference.GetSpacing()
        back = sitk.GetArrayFromImage(back_img) > 0.5
        assert dice(back, truth) > min_dice
        assert dice(back[:, :, ::-1], truth) < dice(back, truth) - 0.2  # a left-right mix-up would be caught
        spacing = max(grid.reference.GetSpacing())
        assert np.linalg.norm(_centroid_mm(back, grid.reference) - _centroid_mm(truth, grid.reference)) < spacing
        nearest = sitk.GetArrayFromImage(grid.to_ct(cached[key][0], nearest=True))
        assert set(np.unique(nearest)) <= {0.0, 1.0}


def test_agrees_with_monai_invertd_on_a_smooth_map(case):
    image, files = case
    grid = InputGrid(image, files, PARAMS)
    x, y, z = np.meshgrid(*(np.linspace(-1, 1, n) for n in PARAMS.input_size), indexing="ij")
    blob = np.exp(-((x - 0.3) ** 2 + y**2 + (z + 0.2) ** 2) / 0.2).astype(np.float32)
    ours = sitk.GetArrayFromImage(grid.to_ct(blob))
    inv = Invertd(keys="map", transform=grid.transform, orig_keys="image", nearest_interp=False)
    monai = np.asarray(inv({"map": MetaTensor(torch.from_numpy(blob[None])), "image": grid.out["image"]})["map"][0]).transpose(2, 1, 0)
    assert np.corrcoef(ours.ravel(), monai.ravel())[0, 1] > 0.97
    assert np.abs(np.argwhere(ours == ours.max())[0] - np.argwhere(monai == monai.max())[0]).max() <= 1


def test_a_stale_cache_is_refused(case):
    image, files = case
    grid = InputGrid(image, files, PARAMS)
    with pytest.raises(ValueError, match="run the preprocessing stage again"):
        grid.check(np.zeros((24, 24, 24), np.float32), patient="P1")
    with pytest.raises(ValueError, match="input grid"):
        grid.to_ct(np.zeros((3, 3, 3)))
