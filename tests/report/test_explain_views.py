"""Chapter 06 reads back exactly the mean maps and meshes the explanation views job wrote."""

import numpy as np
import pytest

from ecrs_analysis.explain.mesh import Surface
from ecrs_analysis.jobs.explain_views import _mean_map_arrays, _surface_arrays, write_npz
from ecrs_analysis.report.explain_views import read_mean_maps, read_surfaces


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
