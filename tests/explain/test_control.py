"""Layer grids and the positive control (a perfect map at a layer's resolution)."""

import numpy as np
import pytest
from torch import nn

from ecrs_analysis.explain.control import FINE_CAM_LAYERS, candidate_layers, layer_grid, perfect_map
from ecrs_analysis.explain.metrics import energy_share, pointing_hit
from ecrs_analysis.models import build_model


def test_layer_grid_is_the_layers_output_shape():
    net = nn.Sequential(nn.Conv3d(1, 2, 3, stride=2, padding=1), nn.Conv3d(2, 2, 3, stride=2, padding=1))
    assert layer_grid(net, "0", (16, 16, 8)) == (8, 8, 4) and layer_grid(net, "1", (16, 16, 8)) == (4, 4, 2)
    with pytest.raises(ValueError, match="not in the network"):
        layer_grid(net, "9", (8, 8, 8))


@pytest.mark.parametrize("name", sorted(FINE_CAM_LAYERS))
def test_candidate_layers_are_at_one_eighth_and_one_quarter(name):
    model = build_model(name, width=0.125)
    grids = {k: layer_grid(model, v, (32, 32, 32)) for k, v in candidate_layers(name).items()}
    assert grids == {"1/8": (4, 4, 4), "1/4": (8, 8, 8)}


def test_a_perfect_map_at_full_resolution_is_the_region():
    r = np.zeros((8, 8, 8), bool)
    r[2:5, 1:3, 4:8] = True
    np.testing.assert_allclose(perfect_map(r, (8, 8, 8)), r.astype(np.float32), atol=1e-6)


def test_a_perfect_map_on_a_coarse_grid_points_at_the_densest_block():
    r = np.zeros((8, 8, 8), bool)
    r[4:8, 0:4, 0:4] = True  # one full block of a 2x2x2 grid
    r[0, 7, 7] = True  # and one voxel elsewhere
    m = perfect_map(r, (2, 2, 2))
    assert m.max() == pytest.approx(1.0) and m.min() >= 0.0
    assert pointing_hit(m, r) == 1.0
    # the block means (64/64 and 1/64) survive as the ratio of the map's values at the two block corners
    assert m[7, 0, 0] == pytest.approx(1.0) and m[0, 7, 7] == pytest.approx(1 / 64, abs=1e-6)
    assert 0.5 < energy_share(m, r) < 1.0  # upsampling spreads the block's mass beyond it
    assert (perfect_map(np.zeros((8, 8, 8)), (2, 2, 2)) == 0).all()
