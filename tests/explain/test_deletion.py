"""The deletion test against cases computed by hand: a linear "model" whose response to deletion is a sum of weights."""

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.explain.deletion import air_value, delete_top, deletion_curve, deletion_order, summarise_deletion

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


def test_random_deletion_removes_the_mean_weight_on_average():
    volume = np.ones((2, 2, 2), np.float32)
    drops = [deletion_curve(linear, volume, W, fractions=(0.25,), fill=0.0, seed=s).query("order == 'random'")["drop"].item() for s in range(400)]
    assert np.mean(drops) == pytest.approx(2 * 4.5, abs=0.4)  # 2 voxels x mean weight 4.5


def test_fill_value_and_shares():
    v = np.full((4, 4, 4), 0.7, np.float32)
    order = deletion_order(np.random.default_rng(0).random((4, 4, 4)), seed=0)
    out = delete_top(v, order, 0.25, fill=0.1)
    assert (out == 0.1).sum() == 16 and (out == np.float32(0.7)).sum() == 48 and (v == np.float32(0.7)).all()  # a copy
    assert air_value([-1000, 1000]) == 0.0 and air_value([-1500, 500]) == pytest.approx(0.25) and air_value([-200, 800]) == 0.0
    with pytest.raises(ValueError):
        delete_top(v, order, 1.5, fill=0.0)
    with pytest.raises(ValueError, match="HU window"):
        air_value([100, -100])


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
    curve, area = summarise_deletion(pd.DataFrame(rows), n_resamples=200, seed=0)
    a = area.iloc[0]
    assert a["AOPC map"] == pytest.approx((20.5 + 2.0) / 2) and a["AOPC random"] == pytest.approx((13.5 + 1.0) / 2)
    assert a["AOPC map - random"] == pytest.approx(((20.5 - 13.5) + (2.0 - 1.0)) / 2) and a["patients"] == 2
    c = curve.set_index(["order", "fraction"])
    assert c.loc[("map", 0.25), "drop"] == pytest.approx(8.0) and c.loc[("random", 0.5), "drop"] == pytest.approx(9.5)
    assert (curve["low"] <= curve["drop"]).all() and (curve["drop"] <= curve["high"]).all()


def test_a_score_function_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="returned"):
        deletion_curve(lambda b: np.zeros(2), np.ones((2, 2, 2)), W, fractions=(0.5,), fill=0.0, seed=0)
