"""Pointing game and energy share against brute-force counts; baselines; Spearman; summaries."""

import itertools

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.explain.metrics import centre_map, distance_to, energy_share, pointing_hit, random_map, spearman_maps, summarise_attention, summarise_sanity


def _brute_pointing(cam, region):
    best, hits, ties = -1.0, 0, 0
    for idx in itertools.product(*(range(n) for n in cam.shape)):  # visit every voxel
        v = cam[idx]
        if v > best:
            best, hits, ties = v, int(region[idx]), 1
        elif v == best:
            hits, ties = hits + int(region[idx]), ties + 1
    return hits / ties


def _brute_energy(cam, region):
    inside = total = 0.0
    for idx in itertools.product(*(range(n) for n in cam.shape)):
        total += cam[idx]
        inside += cam[idx] * bool(region[idx])
    return inside / total


@pytest.mark.parametrize("seed", range(6))
def test_pointing_and_energy_match_a_voxel_by_voxel_count(seed):
    rng = np.random.default_rng(seed)
    cam = np.round(rng.random((6, 5, 4)), 1)  # rounding makes ties at the maximum
    region = rng.random((6, 5, 4)) < 0.3
    assert pointing_hit(cam, region) == pytest.approx(_brute_pointing(cam, region))
    assert energy_share(cam, region) == pytest.approx(_brute_energy(cam, region))


def _brute_min_distance(idx, region, spacing):
    return min(np.sqrt(sum(((a - b) * s) ** 2 for a, b, s in zip(idx, r, spacing))) for r in zip(*np.nonzero(region)))


@pytest.mark.parametrize("seed", range(4))
def test_pointing_with_a_tolerance_matches_a_brute_force_distance(seed):
    rng = np.random.default_rng(seed)
    cam = rng.random((6, 7, 5))
    region = rng.random((6, 7, 5)) < 0.05
    region[0, 0, 0] = True
    spacing = (2.0, 0.7, 1.1)
    top = np.unravel_index(np.argmax(cam), cam.shape)
    d = _brute_min_distance(top, region, spacing)
    dist = distance_to(region, spacing=spacing)
    assert dist[top] == pytest.approx(d)
    for tol in (0.5 * d, 1.01 * d):
        assert pointing_hit(cam, region, distance=dist, tolerance_mm=tol) == float(d <= tol)
    with pytest.raises(ValueError, match="distance map"):
        pointing_hit(cam, region, tolerance_mm=1.0)


def test_hand_cases():
    cam = np.zeros((3, 3, 3))
    region = np.zeros((3, 3, 3), bool)
    region[0, 0, 0] = True
    assert np.isnan(pointing_hit(cam, region)) and np.isnan(energy_share(cam, region))  # an empty map points nowhere
    cam[0, 0, 0], cam[2, 2, 2] = 1.0, 3.0
    assert pointing_hit(cam, region) == 0.0 and energy_share(cam, region) == pytest.approx(0.25)
    cam[0, 0, 0] = 3.0
    assert pointing_hit(cam, region) == 0.5  # a tie shares the credit
    with pytest.raises(ValueError, match="shape"):
        pointing_hit(cam, region[:2])


def test_baselines():
    c = centre_map((7, 9, 5))
    assert np.unravel_index(np.argmax(c), c.shape) == (3, 4, 2) and c.max() == pytest.approx(1.0)
    assert np.array_equal(random_map((4, 4, 4), seed=1), random_map((4, 4, 4), seed=1))
    assert not np.array_equal(random_map((4, 4, 4), seed=1), random_map((4, 4, 4), seed=2))


def test_spearman_of_maps_against_a_hand_computed_case():
    # ranks 1 2 3 4 against 1 3 2 4: sum of squared rank differences 2, rho = 1 - 6*2 / (4 * 15) = 0.8
    a = np.array([[0.1, 0.2], [0.3, 0.4]])
    b = np.array([[5.0, 9.0], [7.0, 11.0]])
    assert spearman_maps(a, b) == pytest.approx(0.8)
    assert spearman_maps(a, -a**3) == pytest.approx(-1.0)  # any decreasing transform
    assert np.isnan(spearman_maps(a, np.zeros_like(a)))


def test_summary_means_counts_and_intervals():
    m = pd.DataFrame({"model": "m", "map": ["cam"] * 5 + ["random"] * 5, "region": "r", "pointing": [1, 1, 0, 1, np.nan, 0, 0, 0, 0, 0], "energy": [0.5, 0.7, 0.1, 0.9, np.nan, 0.2, 0.2, 0.2, 0.2, 0.2]})
    s = summarise_attention(m, by=["model", "region", "map"], n_resamples=500, seed=0)
    cam = s.loc[("m", "r", "cam")]
    assert cam["pointing game"] == pytest.approx(0.75) and cam["energy share"] == pytest.approx(0.55)
    assert cam["patients"] == 4 and cam["empty maps"] == 1
    assert cam["pointing game low"] <= 0.75 <= cam["pointing game high"] and cam["pointing game high"] <= 1.0
    rnd = s.loc[("m", "r", "random")]
    assert rnd["energy share low"] == rnd["energy share high"] == pytest.approx(0.2)  # no spread, no interval


def test_sanity_summary_counts_constant_maps():
    s = pd.DataFrame({"model": "m", "comparison": "c", "spearman": [0.1, 0.3, np.nan]})
    out = summarise_sanity(s)
    assert out.loc[("m", "c"), "median ρ"] == pytest.approx(0.2) and out.loc[("m", "c"), "constant maps"] == 1
