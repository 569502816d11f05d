import numpy as np
import pytest
import SimpleITK as sitk

from ecrs_analysis.data.imageio import Geometry, ImageReadError, read_header, read_image, write_image


def _ct(shape=(6, 10, 12)):
    rng = np.random.default_rng(0)
    return rng.integers(-1000, 1500, size=shape).astype(np.int16)


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".nrrd", ".mha"])
def test_round_trip_keeps_voxels_and_geometry(tmp_path, suffix):
    arr = _ct()
    p = write_image(arr, tmp_path / f"ct{suffix}", spacing=(0.5, 0.6, 2.0), origin=(-10.0, 5.0, 3.0))
    img = read_image(p)
    assert np.array_equal(sitk.GetArrayFromImage(img), arr)
    assert np.allclose(img.GetSpacing(), (0.5, 0.6, 2.0))
    assert read_header(p) == Geometry.of(img)


def test_dicom_series_folder_is_read_as_one_volume(tmp_path, write_dicom_series):
    arr = _ct((5, 16, 16))
    folder = write_dicom_series(arr, tmp_path / "series", spacing=(0.5, 0.5, 2.5))
    vol = read_image(folder)
    assert vol.GetSize() == (16, 16, 5)
    assert np.allclose(vol.GetSpacing(), (0.5, 0.5, 2.5), atol=1e-3)
    assert np.array_equal(sitk.GetArrayFromImage(vol), arr)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(ImageReadError, match="nope.nii.gz: file not found"):
        read_image(tmp_path / "nope.nii.gz")


def test_garbage_file_is_a_clear_error(tmp_path):
    p = tmp_path / "ct.nii.gz"
    p.write_bytes(b"this is not an image")
    with pytest.raises(ImageReadError, match="ct.nii.gz: cannot be read as an image"):
        read_image(p)


def test_empty_folder_is_not_a_dicom_series(tmp_path):
    with pytest.raises(ImageReadError, match="no DICOM series"):
        read_image(tmp_path)


def test_geometry_mismatch_lists_the_fields():
    a = Geometry((4, 4, 4), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    b = Geometry((4, 4, 5), (1.0, 1.0, 2.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    out = a.mismatch(b)
    assert any(s.startswith("size") for s in out) and any(s.startswith("spacing") for s in out)
    assert not any(s.startswith("origin") for s in out)


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "ct.nii.gz"
    write_image(_ct(), target, spacing=(1, 1, 1), origin=(0, 0, 0))
    before = target.read_bytes()

    def half_write(image, path, useCompression=True):
        open(path, "wb").write(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(sitk, "WriteImage", half_write)
    with pytest.raises(RuntimeError, match="disk full"):
        write_image(np.zeros((2, 2, 2), dtype=np.int16), target, spacing=(1, 1, 1), origin=(0, 0, 0))
    assert target.read_bytes() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["ct.nii.gz"]  # no temporary left behind
