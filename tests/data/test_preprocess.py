import numpy as np
import pytest
import SimpleITK as sitk
import torch

from ecrs_analysis.data.imageio import write_image
from ecrs_analysis.data.manifest import validate_manifest
from ecrs_analysis.data.settings import PreprocessSettings
from ecrs_analysis.data.preprocess import load_preprocessed, preprocess_cohort, preprocess_patient, to_metatensor


def test_metatensor_affine_is_ras_of_the_lps_image():
    img = sitk.GetImageFromArray(np.zeros((3, 4, 5), dtype=np.int16))
    img.SetSpacing((0.5, 0.7, 2.0))
    img.SetOrigin((10.0, 20.0, 30.0))
    mt = to_metatensor(img)
    assert tuple(mt.shape) == (1, 5, 4, 3)  # channel, x, y, z
    aff = np.asarray(mt.affine)
    assert np.allclose(np.diag(aff)[:3], (-0.5, -0.7, 2.0))
    assert np.allclose(aff[:3, 3], (-10.0, -20.0, 30.0))


def test_crop_is_centred_on_the_mask_and_output_is_scaled(tmp_path):
    ct = np.full((40, 40, 40), -1000, dtype=np.int16)
    ct[10:30, 10:30, 10:30] = 40
    mask = np.zeros_like(ct, dtype=np.uint8)
    mask[18:22, 5:9, 30:34] = 1  # off-centre lesion
    ct[18:22, 5:9, 30:34] = 1000
    write_image(ct, tmp_path / "ct.nii.gz", spacing=(1, 1, 1), origin=(0, 0, 0))
    write_image(mask, tmp_path / "m.nii.gz", spacing=(1, 1, 1), origin=(0, 0, 0))
    p = PreprocessSettings(spacing_mm=[1, 1, 1], hu_window=[-1000, 1000], margin_mm=2, input_size=[16, 16, 16], crop_to="roi_mask")
    out = preprocess_patient(tmp_path / "ct.nii.gz", {"roi_mask": tmp_path / "m.nii.gz"}, p)
    assert out["image"].shape == (1, 16, 16, 16) and out["roi_mask"].shape == (1, 16, 16, 16)
    assert out["image"].min() >= 0 and out["image"].max() <= 1
    # 4 mm lesion + 2 mm margin each side = 8 mm crop per axis -> the lesion is (4/8)^3 of the volume.
    assert 0.09 < out["roi_mask"].mean() < 0.17
    assert out["spacing_mm"] == pytest.approx([0.5, 0.5, 0.5])  # the 8 mm crop resized to 16 voxels
    # the bright lesion stayed under the mask (trilinear resizing blurs its edge a little)
    assert out["image"][out["roi_mask"] == 1].mean() > 0.75 > out["image"][out["roi_mask"] == 0].mean()


def test_cohort_cache_is_reused_and_keyed_by_parameters(tmp_path, tiny_cohort):
    c = validate_manifest(tiny_cohort / "manifest.csv")
    p = PreprocessSettings(spacing_mm=[3, 3, 3], hu_window=[-1000, 1000], margin_mm=8, input_size=[16, 16, 16], crop_to="roi_mask")
    threads = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        first = preprocess_cohort(c.table.head(4), mask_columns=("roi_mask",), params=p, cache_dir=tmp_path)
        assert torch.get_num_threads() == 3  # not left at 1: training afterwards keeps every core it is given
    finally:
        torch.set_num_threads(threads)
    again = preprocess_cohort(c.table.head(4), mask_columns=("roi_mask",), params=p, cache_dir=tmp_path)
    assert not first["cached"].any() and again["cached"].all()
    assert list(first["path"]) == list(again["path"])
    other = preprocess_cohort(c.table.head(4), mask_columns=("roi_mask",), params=PreprocessSettings(spacing_mm=[3, 3, 3], hu_window=[-1000, 1000], margin_mm=8, input_size=[12, 12, 12], crop_to="roi_mask"), cache_dir=tmp_path)
    assert not other["cached"].any()
    arr = load_preprocessed(other["path"][0])
    assert arr["image"].shape == (1, 12, 12, 12) and arr["roi_mask"].any()
    assert len(list(tmp_path.glob("*.npz"))) == 8 and not list(tmp_path.glob(".*"))


def test_real_reference_ct_loads_and_preprocesses(reference_ct):
    out = preprocess_patient(reference_ct, {}, PreprocessSettings(spacing_mm=[2, 2, 2], hu_window=[-1000, 1000], margin_mm=8, crop_to=None, input_size=[48, 48, 40]))
    img = out["image"]
    assert img.shape == (1, 48, 48, 40)
    # cropped to the head: a large share is tissue or bone (> -100 HU), bone reaches the top of the window
    assert 0.25 < (img > 0.45).mean() < 0.9 and img.max() > 0.9


def test_head_box_cuts_its_fractions_of_the_heads_bounding_box():
    from ecrs_analysis.data.preprocess import HeadBox

    img = torch.full((1, 20, 10, 40), -1000.0)
    img[0, 2:12, 0:10, 10:30] = 40.0  # the head: x 2..11, y 0..9, z 10..29
    box = HeadBox([[0.1, 0.0, 0.25], [0.9, 0.5, 1.0]])(img)
    idx = [torch.nonzero(box[0].any(dim=tuple(a for a in range(3) if a != k))).flatten() for k in range(3)]
    # by hand: x 2 + floor(1.0) = 3 .. 2 + ceil(9.0) = 11 (exclusive); y 0 .. 5; z 10 + 5 = 15 .. 30
    assert [(int(i[0]), int(i[-1]) + 1) for i in idx] == [(3, 11), (0, 5), (15, 30)]
    assert int(box.sum()) == 8 * 5 * 15
    with pytest.raises(ValueError, match="lower < upper"):
        HeadBox([[0.5, 0.0, 0.0], [0.4, 1.0, 1.0]])
    with pytest.raises(ValueError, match="no head"):
        HeadBox([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])(torch.full((1, 4, 4, 4), -1000.0))


def test_a_head_box_crop_is_the_same_whatever_the_mask(tmp_path):
    """MTLNet's input must not depend on the mask it segments: two different masks, one image."""
    ct = np.full((40, 40, 40), -1000, dtype=np.int16)
    ct[4:36, 6:34, 8:32] = 40
    ct[18:22, 15:20, 20:25] = 600
    write_image(ct, tmp_path / "ct.nii.gz", spacing=(1, 1, 1), origin=(0, 0, 0))
    for name, where in (("a", np.s_[18:22, 15:20, 20:25]), ("b", np.s_[5:9, 7:12, 9:14])):
        mask = np.zeros_like(ct, dtype=np.uint8)
        mask[where] = 1
        write_image(mask, tmp_path / f"{name}.nii.gz", spacing=(1, 1, 1), origin=(0, 0, 0))
    p = PreprocessSettings(spacing_mm=[2, 2, 2], hu_window=[-1000, 1000], margin_mm=2, input_size=[8, 8, 8], crop_to="head_box",
                           head_box=[[0.1, 0.1, 0.1], [0.9, 0.9, 0.9]])
    a = preprocess_patient(tmp_path / "ct.nii.gz", {"sinus_mask": tmp_path / "a.nii.gz"}, p)
    b = preprocess_patient(tmp_path / "ct.nii.gz", {"sinus_mask": tmp_path / "b.nii.gz"}, p)
    assert np.array_equal(a["image"], b["image"]) and np.array_equal(a["spacing_mm"], b["spacing_mm"])
    assert not np.array_equal(a["sinus_mask"], b["sinus_mask"])
    with pytest.raises(Exception, match="head_box"):
        PreprocessSettings(spacing_mm=[2, 2, 2], hu_window=[-1000, 1000], margin_mm=2, input_size=[8, 8, 8], crop_to="head_box")
