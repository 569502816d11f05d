"""Chapter 06 reads back exactly the mean maps, meshes and example slices the explanation views job wrote."""

import numpy as np
import pytest
import SimpleITK as sitk

from ecrs_analysis.explain.mesh import Surface
from ecrs_analysis.explain.views import CaseView, case_slices
from ecrs_analysis.jobs.explain_views import _example_arrays, _mean_map_arrays, _surface_arrays, write_npz
from ecrs_analysis.report.explain_views import read_examples, read_mean_maps, read_surfaces


def test_mean_maps_round_trip_in_order(tmp_path):
    rng = np.random.default_rng(0)
    maps = {("resnet3d", 1): rng.random((4, 5, 6), dtype=np.float32), ("resnet3d", 0): rng.random((4, 5, 6), dtype=np.float32),
            ("hrnet3d", 0): rng.random((2, 3, 4), dtype=np.float32)}
    write_npz(_mean_map_arrays(maps), tmp_path / "m.npz")
    back = read_mean_maps(tmp_path / "m.npz")
    assert list(back) == list(maps)
    assert all(np.array_equal(back[k], maps[k]) and back[k].dtype == np.float32 for k in maps)


def test_surfaces_round_trip(tmp_path):
    s = [Surface("sinus", np.arange(12, dtype=np.float32).reshape(4, 3), np.array([[0, 1, 2], [1, 2, 3]], dtype=np.int32), "#ff0000", 0.3),
         Surface("attention ≥ 0.5", np.ones((3, 3), dtype=np.float32), np.array([[0, 1, 2]], dtype=np.int32), "#00ff00", 0.45)]
    write_npz(_surface_arrays(s, "li2025: resnet3d, TP (P = 0.91)"), tmp_path / "s.npz")
    back, title = read_surfaces(tmp_path / "s.npz")
    assert title == "li2025: resnet3d, TP (P = 0.91)"
    assert [(b.name, b.colour, b.opacity) for b in back] == [(a.name, a.colour, a.opacity) for a in s]
    assert all(np.array_equal(a.vertices, b.vertices) and np.array_equal(a.faces, b.faces) for a, b in zip(s, back))


def test_an_empty_archive_says_the_explanation_did_not_run(tmp_path):
    write_npz({}, tmp_path / "e.npz")
    with pytest.raises(ValueError, match="did not run"):
        read_mean_maps(tmp_path / "e.npz")
    with pytest.raises(ValueError, match="did not run"):
        read_surfaces(tmp_path / "e.npz")
    with pytest.raises(ValueError, match="did not run"):
        read_examples(tmp_path / "e.npz")


def _view(title: str, *, peak: tuple[int, int, int], direction: tuple[float, ...] = (1, 0, 0, 0, 1, 0, 0, 0, 1)) -> CaseView:
    """A (z, y, x) = (5, 6, 7) CT whose every voxel holds its own index, a map peaking at ``peak`` and one region."""
    ct = np.arange(5 * 6 * 7, dtype=np.int16).reshape(5, 6, 7)
    image = sitk.GetImageFromArray(ct)
    image.SetSpacing((0.5, 0.8, 2.0))
    image.SetDirection(direction)
    cam = np.zeros(ct.shape, np.float32)
    cam[peak] = 1.0
    region = np.zeros(ct.shape, bool)
    region[1:3, 2:4, 3:5] = True
    return CaseView(title=title, image=image, cam=cam, regions={"lesion ROI": region})


def test_case_slices_cut_through_the_maps_maximum_in_radiological_display():
    """Checked by hand, independently of SimpleITK's reorientation: an LPS CT is shown as stored (axial: row y, column x;
    coronal and sagittal: superior up, i.e. z reversed), through the map's maximum; a CT stored right-to-left (x axis
    pointing to -x) is flipped back to LPS, so both show the same picture."""
    v = _view("TP (P = 0.91)", peak=(3, 2, 4))
    ct = v.ct.astype(np.float32)
    s = case_slices(v)
    assert s.title == "TP (P = 0.91)"
    assert s.aspects == pytest.approx({"axial": 0.8 / 0.5, "coronal": 2.0 / 0.5, "sagittal": 2.0 / 0.8})
    np.testing.assert_array_equal(s.ct["axial"], ct[3])
    np.testing.assert_array_equal(s.ct["coronal"], ct[::-1, 2, :])
    np.testing.assert_array_equal(s.ct["sagittal"], ct[::-1, :, 4])
    assert s.cam["axial"][2, 4] == 1.0 and s.cam["coronal"][5 - 1 - 3, 4] == 1.0
    np.testing.assert_array_equal(s.regions["lesion ROI"]["axial"], np.zeros((6, 7)))  # slice 3 lies outside the region (1:3)
    flipped = _view("TP", peak=(3, 2, 2), direction=(-1, 0, 0, 0, 1, 0, 0, 0, 1))  # index x runs to -x: LPS x = 6 - index
    np.testing.assert_array_equal(case_slices(flipped).ct["axial"], ct[3][:, ::-1])


def test_example_slices_round_trip_per_network_in_order(tmp_path):
    examples = {"resnet3d": [case_slices(_view("TP (P = 0.91)", peak=(1, 2, 3))), case_slices(_view("FN (P = 0.12) — fails randomisation check", peak=(2, 3, 4)))],
                "hrnet3d": [case_slices(CaseView(title="TN (P = 0.05)", image=_view("x", peak=(0, 0, 0)).image, cam=np.full((5, 6, 7), 0.5, np.float32)))]}
    write_npz(_example_arrays(examples), tmp_path / "x.npz")
    back = read_examples(tmp_path / "x.npz")
    assert list(back) == ["resnet3d", "hrnet3d"]
    for model, views in examples.items():
        assert [b.title for b in back[model]] == [v.title for v in views]
        for a, b in zip(views, back[model]):
            assert b.aspects == a.aspects and list(b.regions) == list(a.regions)
            for p in ("axial", "coronal", "sagittal"):
                assert np.array_equal(a.ct[p], b.ct[p]) and np.array_equal(a.cam[p], b.cam[p])
                assert all(np.array_equal(a.regions[r][p], b.regions[r][p]) for r in a.regions)
