"""The deletion test against cases computed by hand: a linear "model" whose response to deletion is a sum of weights; the fill; per-class summaries."""

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.explain.deletion import POOLED, delete_top, deletion_curve, deletion_order, summarise_deletion, training_mean

W = np.arange(1.0, 9.0).reshape(2, 2, 2)  # weight of each voxel of a 2x2x2 volume: 1..8


def linear(batch):
    """score = sum of weight x voxel; with a volume of ones and fill 0, deleting voxels removes their weights."""
    return np.asarray(batch).reshape(len(batch), -1) @ W.ravel()


def test_deleting_the_top_of_a_map_matches_the_hand_computed_scores():
    volume = np.ones((2, 2, 2), np.float32)
    c = deletion_curve(linear, volume, W, fractions=(0.25, 0.5), fill=0.0, seed=3)
    m = c[c["order"] == "map"].set_index("fraction")
    # 36 in all; the top 25% of the map are the voxels of weight 8 and 7 (score 21), the top 50% 8, 7, 6, 5 (score 10)
    assert c.loc[c["order"] == "none", "score"].item() == 36.0
    assert m.loc[0.25, "score"] == 21.0 and m.loc[0.25, "drop"] == 15.0
    assert m.loc[0.5, "score"] == 10.0 and m.loc[0.5, "drop"] == 26.0
    r = c[c["order"] == "random"].set_index("fraction")
    # random deletion removes 2 and 4 voxels: some weights of 2 and 4 distinct voxels
    assert 1 + 2 <= r.loc[0.25, "drop"] <= 8 + 7 and 1 + 2 + 3 + 4 <= r.loc[0.5, "drop"] <= 26
    # a second map as the positive control, ranking the voxels the other way round: the lowest weights go first
    p = deletion_curve(linear, volume, W, control=9.0 - W, fractions=(0.25, 0.5), fill=0.0, seed=3).query("order == 'perfect map'").set_index("fraction")
    assert p.loc[0.25, "drop"] == 1 + 2 and p.loc[0.5, "drop"] == 1 + 2 + 3 + 4


def test_random_deletion_removes_the_mean_weight_on_average():
    volume = np.ones((2, 2, 2), np.float32)
    drops = [deletion_curve(linear, volume, W, fractions=(0.25,), fill=0.0, seed=s).query("order == 'random'")["drop"].item() for s in range(400)]
    assert np.mean(drops) == pytest.approx(2 * 4.5, abs=0.4)  # 2 voxels x mean weight 4.5


def test_fill_value_and_shares():
    v = np.full((4, 4, 4), 0.7, np.float32)
    order = deletion_order(np.random.default_rng(0).random((4, 4, 4)), seed=0)
    out = delete_top(v, order, 0.25, fill=0.1)
    assert (out == np.float32(0.1)).sum() == 16 and (out == np.float32(0.7)).sum() == 48 and (v == np.float32(0.7)).all()  # a copy
    fill = np.arange(64, dtype=np.float32).reshape(4, 4, 4)
    out = delete_top(v, order, 0.25, fill=fill).ravel()
    deleted = order[:16]
    assert np.array_equal(out[deleted], fill.ravel()[deleted])  # the fill volume's own values at the deleted voxels
    assert (np.delete(out, deleted) == np.float32(0.7)).all()  # and nothing else changes
    with pytest.raises(ValueError):
        delete_top(v, order, 1.5, fill=0.0)
    with pytest.raises(ValueError, match="differ in shape"):
        delete_top(v, order, 0.5, fill=np.zeros((2, 2, 2)))


def _cached(tmp_path, arrays):
    paths = []
    for i, a in enumerate(arrays):
        paths.append(tmp_path / f"p{i}.npz")
        np.savez(paths[-1], image=a[None].astype(np.float32))  # (1, X, Y, Z) as the preprocess stage caches it
    return paths


def test_training_mean_is_the_voxelwise_mean_of_the_cached_inputs(tmp_path):
    rng = np.random.default_rng(4)
    arrays = [rng.random((3, 4, 5)) for _ in range(5)]
    np.testing.assert_allclose(training_mean(_cached(tmp_path, arrays)), np.mean(arrays, axis=0), rtol=1e-6)
    odd = tmp_path / "odd"
    odd.mkdir()
    with pytest.raises(ValueError, match=r"p1\.npz has grid \(4, 4, 4\)"):
        training_mean(_cached(odd, [np.zeros((3, 4, 5)), np.zeros((4, 4, 4))]))
    with pytest.raises(ValueError, match="training set"):
        training_mean([])


def test_the_fill_changes_no_score_of_a_model_that_ignores_the_region(tmp_path):
    """The deletion fill touches the deleted voxels only: a model reading only voxels outside a region does not move when the region goes."""
    rng = np.random.default_rng(5)
    shape = (6, 6, 6)
    region = np.zeros(shape, bool)
    region[1:4, 2:5, 0:3] = True  # 27 of 216 voxels: 12.5%
    weights = rng.normal(size=shape) * ~region  # reads only outside the region

    def outside(batch):
        return 1.0 / (1.0 + np.exp(-np.asarray(batch).reshape(len(batch), -1) @ weights.ravel()))  # a non-linear score

    fill = training_mean(_cached(tmp_path, [rng.random(shape) for _ in range(4)]))
    volume = rng.random(shape).astype(np.float32)
    c = deletion_curve(outside, volume, region.astype(np.float32), control=region.astype(np.float32), fractions=(0.05, 0.1, 0.125), fill=fill, seed=0)
    inside = c[c["order"].isin(["map", "perfect map"])]
    assert len(inside) == 6 and (inside["drop"] == 0.0).all()
    assert (c.loc[c["order"] == "random", "drop"] != 0.0).all()  # deleting outside the region does move it: the model is not constant


def test_ties_are_broken_at_random_but_reproducibly():
    cam = np.zeros((3, 3, 3))
    cam[1, 1, 1] = 1.0
    a, b = deletion_order(cam, seed=1), deletion_order(cam, seed=2)
    assert a[0] == b[0] == 13  # the one maximum first
    assert not np.array_equal(a[1:], b[1:]) and np.array_equal(a, deletion_order(cam, seed=1))


def test_area_over_the_curve_is_the_mean_drop_and_the_difference_is_paired():
    rows = []
    for pid, (map_drops, rnd_drops) in {"a": ((15.0, 26.0), (9.0, 18.0)), "b": ((1.0, 3.0), (1.0, 1.0))}.items():
        for f, dm, dr in zip((0.25, 0.5), map_drops, rnd_drops):
            rows += [{"model": "m", "patient_id": pid, "order": "map", "fraction": f, "drop": dm}, {"model": "m", "patient_id": pid, "order": "random", "fraction": f, "drop": dr}]
        rows.append({"model": "m", "patient_id": pid, "order": "none", "fraction": 0.0, "drop": 0.0})
    curve, area = summarise_deletion(pd.DataFrame(rows).assign(**{"explained class": "eCRS"}), n_resamples=200, seed=0)
    assert list(area["explained class"]) == [POOLED, "eCRS"]
    a = area.iloc[0]
    assert a["AOPC map"] == pytest.approx((20.5 + 2.0) / 2) and a["AOPC random"] == pytest.approx((13.5 + 1.0) / 2)
    assert a["AOPC map - random"] == pytest.approx(((20.5 - 13.5) + (2.0 - 1.0)) / 2) and a["patients"] == 2
    assert "AOPC perfect map" not in area  # no positive control given
    c = curve[curve["explained class"] == POOLED].set_index(["order", "fraction"])
    assert c.loc[("map", 0.25), "drop"] == pytest.approx(8.0) and c.loc[("random", 0.5), "drop"] == pytest.approx(9.5)
    assert (curve["low"] <= curve["drop"]).all() and (curve["drop"] <= curve["high"]).all()


def test_each_explained_class_has_its_own_rows_and_the_positive_control_its_difference():
    """Two classes whose map effects have opposite signs: the pooled area hides both, the per-class rows show them."""
    rows = []
    drops = {  # patient: class, (map, random, perfect map) drop at both fractions
        "a": ("eCRS", (0.4, 0.1, 0.5)), "b": ("eCRS", (0.2, 0.1, 0.3)),
        "c": ("non-eCRS", (-0.2, 0.1, 0.4)), "d": ("non-eCRS", (-0.4, 0.1, 0.2)),
    }
    for pid, (cls, (dm, dr, dp)) in drops.items():
        for f in (0.1, 0.2):
            for order, d in (("map", dm), ("random", dr), ("perfect map", dp)):
                rows.append({"model": "m", "patient_id": pid, "explained class": cls, "order": order, "fraction": f, "drop": d})
    curve, area = summarise_deletion(pd.DataFrame(rows), n_resamples=200, seed=0)
    a = area.set_index("explained class")
    assert list(a.index) == [POOLED, "eCRS", "non-eCRS"] and list(a["patients"]) == [4, 2, 2]
    assert a.loc["eCRS", "AOPC map - random"] == pytest.approx(0.2) and a.loc["non-eCRS", "AOPC map - random"] == pytest.approx(-0.4)
    assert a.loc[POOLED, "AOPC map - random"] == pytest.approx(-0.1)
    assert a.loc["eCRS", "AOPC perfect map"] == pytest.approx(0.4) and a.loc["non-eCRS", "AOPC perfect map - random"] == pytest.approx(0.2)
    assert a.loc["eCRS", "AOPC map - random low"] > 0 and a.loc["non-eCRS", "AOPC map - random high"] < 0
    assert set(curve["explained class"]) == {POOLED, "eCRS", "non-eCRS"} and set(curve["order"]) == {"map", "random", "perfect map"}


def test_a_score_function_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="returned"):
        deletion_curve(lambda b: np.zeros(2), np.ones((2, 2, 2)), W, fractions=(0.5,), fill=0.0, seed=0)
