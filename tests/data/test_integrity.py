"""Image integrity checks on real and synthetic CTs: what SimpleITK alone lets through."""

import numpy as np
import pytest
import SimpleITK as sitk

from ecrs_analysis.data.imageio import Geometry, write_image
from ecrs_analysis.data.integrity import ct_problems, geometry_problems, hu_problems, mask_problems, read_checked, sample_voxels


@pytest.fixture(scope="module")
def real_ct(reference_ct):
    image, problems = read_checked(reference_ct)
    assert problems == []
    return image


def test_real_head_ct_is_accepted_with_padding_and_metal(real_ct):
    assert ct_problems(real_ct) == []
    v = sample_voxels(real_ct)
    padded = np.where(np.arange(v.size) % 5 == 0, -3024.0, v)  # a fifth of the volume outside the field of view
    padded[:50] = 12000.0  # a dental filling
    assert hu_problems(padded) == []


def test_real_head_ct_without_its_intercept_is_refused(real_ct):
    v = sample_voxels(real_ct) + 1024.0  # stored values, RescaleIntercept -1024 not applied
    (msg,) = hu_problems(v)
    assert "does not look calibrated in Hounsfield units" in msg and "rescale slope/intercept" in msg


def test_slope_applied_twice_moves_air_away_from_minus_1000(real_ct):
    v = sample_voxels(real_ct) * 0.8
    (msg,) = hu_problems(v)
    assert "air lies at -8" in msg or "no air" in msg


def test_truncated_and_nan_nifti_are_refused_where_simpleitk_reads_zeros(tmp_path):
    arr = np.random.default_rng(0).normal(0, 200, (12, 16, 16)).astype(np.int16)
    p = write_image(arr, tmp_path / "ct.nii.gz", spacing=(1, 1, 2), origin=(0, 0, 0))
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    assert sitk.ReadImage(str(p)).GetSize() == (16, 16, 12)  # the trap: ITK reads it
    image, problems = read_checked(p)
    assert image is None and "truncated or damaged" in problems[0]
    f = arr.astype(np.float32)
    f[3, 3, 3] = np.nan
    q = write_image(f, tmp_path / "nan.nii", spacing=(1, 1, 2), origin=(0, 0, 0), compress=False)
    assert np.isfinite(sitk.GetArrayFromImage(sitk.ReadImage(str(q)))).all()  # the trap: ITK reads NaN as 0
    image, problems = read_checked(q)
    assert problems == ["1 voxel(s) are NaN or infinite (a reader would silently turn them into 0); fix or re-export the image"]


def test_geometry_sanity():
    good = Geometry((10, 10, 10), (0.5, 0.5, 1.0), (0, 0, 0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    assert geometry_problems(good) == []
    assert "implausible voxel spacing 5 x 5 x 100 mm" in geometry_problems(Geometry((10,) * 3, (5, 5, 100), (0, 0, 0), good.direction))[0]
    assert "not a rotation" in geometry_problems(Geometry((10,) * 3, (1, 1, 1), (0, 0, 0), (1, 0, 0, 1, 0, 0, 0, 0, 1)))[0]


def test_masks_constant_or_not_binary():
    ct = sitk.GetImageFromArray(np.zeros((8, 8, 8), np.int16))
    geom = Geometry.of(ct)
    ones = sitk.GetImageFromArray(np.ones((8, 8, 8), np.uint8))
    assert "whole image" in mask_problems(ones, geom)[0]
    half = np.zeros((8, 8, 8), np.uint8)
    half[:4] = 1
    assert mask_problems(sitk.GetImageFromArray(half), geom) == []
    assert "divide by 255" in mask_problems(sitk.GetImageFromArray(half * 255), geom)[0]


def test_dicom_series_with_a_missing_slice_is_refused(tmp_path, write_dicom_series):
    arr = np.random.default_rng(1).integers(-1000, 1000, size=(10, 16, 16)).astype(np.int16)
    folder = write_dicom_series(arr, tmp_path / "series", spacing=(0.5, 0.5, 2.5), skip=(4,))  # the slice lost on the way from PACS
    image, problems = read_checked(folder)
    assert any("not evenly spaced (slice spacing 2.5 to 5 mm)" in p and "a slice is missing" in p for p in problems), problems


@pytest.mark.parametrize("thickness", [0.6, 0.7, 1.25])
def test_thin_dicom_series_with_positions_rounded_to_six_decimals_is_whole(tmp_path, thickness):
    """ITK marks 0.6 mm gaps as uneven at the 1e-14 mm rounding of written positions; that is not a missing slice."""
    from .dicom_writer import head_phantom, write_ct_series

    write_ct_series(tmp_path / "series", head_phantom(spacing=(1.0, 1.0, thickness), coverage_mm=20.0))
    image, problems = read_checked(tmp_path / "series")
    assert image is not None and not [p for p in problems if "evenly" in p], problems
