"""``build_model(name, ...)``: one entry point over the studies' 3D networks.

The first study's three classifiers return ``(batch, num_classes)`` logits; ``mtlnet`` (the
second study) returns ``(segmentation_logits, class_logits)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from monai.networks.nets import ResNet
from torch import nn

from ecrs_analysis.models.hrnet3d import HRNet3D
from ecrs_analysis.models.mtlnet import MTLNet, filters_for_width
from ecrs_analysis.models.names import MODEL_NAMES
from ecrs_analysis.models.xception3d import Xception3D

if TYPE_CHECKING:  # pandas is imported by size_table only
    import pandas as pd

__all__ = ["MODEL_NAMES", "CAM_LAYERS", "cam_layer", "build_model", "count_parameters", "count_flops", "size_table"]

_RESNET_LAYERS = {10: [1, 1, 1, 1], 18: [2, 2, 2, 2], 34: [3, 4, 6, 3]}


def _resnet(depth: int) -> Callable[..., nn.Module]:
    def make(*, in_channels: int, num_classes: int, width: float) -> nn.Module:
        planes = [max(8, int(round(c * width))) for c in (64, 128, 256, 512)]
        return ResNet("basic", _RESNET_LAYERS[depth], planes, spatial_dims=3, n_input_channels=in_channels, num_classes=num_classes, conv1_t_stride=2)

    return make


def _depth(published: int, width: float) -> int:
    """Repeated blocks at a width: the published count at 1.0 (and above), scaled down with it, at least 1."""
    return max(1, int(round(published * min(width, 1.0))))


_REGISTRY: dict[str, Callable[..., nn.Module]] = {
    "resnet3d": _resnet(18),
    "resnet3d10": _resnet(10),
    "resnet3d34": _resnet(34),
    "xception3d": lambda *, in_channels, num_classes, width: Xception3D(in_channels, num_classes, width=width, middle_blocks=_depth(8, width)),
    # HRNet-W32 has 4 residual blocks per branch in a stage; like Xception's middle flow, the depth
    # scales with the width: 4 at 1.0 (full), 1 at the demo's 0.25.  Chosen on the demo's training
    # folds only (out-of-fold AUC 0.774 with 1 block vs 0.786 with 2, within noise; 0.6x the time).
    "hrnet3d": lambda *, in_channels, num_classes, width: HRNet3D(in_channels, num_classes, width=max(4, int(round(32 * width))), blocks=_depth(4, width)),
    # A binary endotype (num_classes=2) gets one logit for a (class-balanced) BCE loss.
    "mtlnet": lambda *, in_channels, num_classes, width: MTLNet(in_channels, 1 if num_classes == 2 else num_classes, init_filters=filters_for_width(width)),
}
if tuple(_REGISTRY) != MODEL_NAMES:  # the schema validates deep.models against names.py, without torch
    raise ImportError(f"models/names.py lists {MODEL_NAMES}, the registry builds {tuple(_REGISTRY)}: make them agree")

# Default Grad-CAM layer of each network (a name of ``model.named_modules()``).  Not the last
# convolution: at the book's input sizes (24-64 voxels) the last stages are 1-2 voxels wide and
# their map only says "somewhere in the crop".  These layers sit at 1/8 of the input resolution
# (3-8 voxels a side), the deepest place where a map can still point at a sinus.
CAM_LAYERS: dict[str, str] = {
    "resnet3d": "layer2",
    "resnet3d10": "layer2",
    "resnet3d34": "layer2",
    "xception3d": "entry.1",
    "hrnet3d": "stages.3.branches.2",  # the 1/8 branch of the last stage (stage outputs are lists)
    "mtlnet": "down_layers.3",  # the deepest encoder level (1/8), which the classification head pools
}


def cam_layer(name: str) -> str:
    """The default Grad-CAM target layer of a registered model."""
    if name not in CAM_LAYERS:
        raise ValueError(f"no default Grad-CAM layer for model {name!r}; add one to CAM_LAYERS in models/registry.py (see model.named_modules()), or set explain.target_layers.{name}")
    return CAM_LAYERS[name]


def build_model(name: str, *, in_channels: int = 1, num_classes: int = 2, width: float = 1.0) -> nn.Module:
    """Build a 3D network by name.

    Parameters
    ----------
    name : str
        One of :data:`MODEL_NAMES` (``resnet3d`` = MONAI ResNet-18; ``resnet3d10``, ``resnet3d34``;
        ``xception3d``; ``hrnet3d``; ``mtlnet``, segmentation + classification).
    in_channels, num_classes : int
        Input channels and number of classes (``mtlnet``: one logit when ``num_classes`` is 2).
    width : float
        Channel multiplier: 1.0 is the published size; 0.125-0.25 runs on a CPU.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODEL_NAMES)}")
    if width <= 0:
        raise ValueError(f"width must be > 0, got {width}")
    return _REGISTRY[name](in_channels=in_channels, num_classes=num_classes, width=width)


def count_flops(model: nn.Module, input_size: tuple[int, int, int], *, in_channels: int = 1) -> int:
    """Floating-point operations of one forward pass on one volume (PyTorch's FlopCounterMode)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, in_channels, *input_size))
    model.train(was_training)
    return int(counter.get_total_flops())


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def size_table(names: tuple[str, ...], *, widths: tuple[float, ...], input_size: tuple[int, int, int]) -> pd.DataFrame:
    """Parameters and GFLOPs per forward pass of each model at each width, for one input size."""
    import pandas as pd

    rows = []
    for name in names:
        for w in widths:
            m = build_model(name, width=w)
            rows.append({"model": name, "width": w, "parameters (M)": count_parameters(m) / 1e6, f"GFLOPs at {'×'.join(map(str, input_size))}": count_flops(m, input_size) / 1e9})
    return pd.DataFrame(rows).set_index(["model", "width"])
