"""The resolution of an explained layer and the positive control: what a *perfect* map scores at it.

Grad-CAM weighs the activations of one layer and upsamples them to the input, so a map cannot
be sharper than that layer's grid (4×4×4 for a 1/8 layer at a 32³ input).  The positive
control is the region itself, average-pooled to the layer's grid and upsampled the way MONAI
upsamples a Grad-CAM (``monai.visualize.visualizer.default_upsampler``, then scaled to [0, 1]):
a reference for the pointing game, the energy share and the deletion test at that grid (not a
bound: a map that ignores the region's edges can score higher on the energy share).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.visualize.visualizer import default_upsampler
from numpy.typing import NDArray
from torch import nn

from ecrs_analysis.explain.cam import unit_scale
from ecrs_analysis.models import cam_layer

__all__ = ["layer_grid", "perfect_map", "FINE_CAM_LAYERS", "candidate_layers"]


def layer_grid(model: nn.Module, layer: str, input_shape: Sequence[int]) -> tuple[int, ...]:
    """Spatial shape of a layer's output for one input of ``input_shape`` (X, Y, Z), by one forward pass."""
    modules = dict(model.named_modules())
    if layer not in modules:
        raise ValueError(f"layer {layer!r} is not in the network (see model.named_modules())")
    seen: list[tuple[int, ...]] = []

    def hook(_m: nn.Module, _i: object, out: Any) -> None:
        t = out[0] if isinstance(out, (list, tuple)) else out
        seen.append(tuple(int(s) for s in t.shape[2:]))

    handle = modules[layer].register_forward_hook(hook)
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 1, *input_shape))
    finally:
        handle.remove()
    return seen[0]


def perfect_map(region: NDArray, grid: Sequence[int]) -> NDArray[np.float32]:
    """The region (X, Y, Z on the input grid) as the best map a layer of spatial ``grid`` can draw.

    Average-pooled to ``grid`` (``adaptive_avg_pool3d``: exact block means when the sizes divide),
    upsampled like a MONAI Grad-CAM, scaled to [0, 1]; all zero for an empty region.
    """
    r = torch.as_tensor(np.asarray(region, dtype=np.float32))[None, None]
    gx, gy, gz = (int(g) for g in grid)
    pooled = F.adaptive_avg_pool3d(r, (gx, gy, gz))
    up = default_upsampler(tuple(r.shape[2:]))(pooled)
    return unit_scale(up)[0, 0].numpy().astype(np.float32)


# A finer layer of each network than ``models.registry.CAM_LAYERS`` (1/8 of the input): 1/4 of the input.
# At the demo's 32³ input that is 8³ instead of 4³, where a perfect map of the evidence scores higher
# on both measures (the layers table of chapter 06 shows it); the book explains this layer by default.
FINE_CAM_LAYERS: dict[str, str] = {
    "resnet3d": "layer1",
    "resnet3d10": "layer1",
    "resnet3d34": "layer1",
    "xception3d": "entry.0",
    "hrnet3d": "stages.3.branches.1",  # the 1/4 branch of the last stage
    "mtlnet": "down_layers.2",
}


def candidate_layers(name: str) -> dict[str, str]:
    """The layers whose positive control the chapter reports: ``{"1/8": ..., "1/4": ...}``."""
    out = {"1/8": cam_layer(name)}
    if name in FINE_CAM_LAYERS:
        out["1/4"] = FINE_CAM_LAYERS[name]
    return out
