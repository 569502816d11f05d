"""Xception (Chollet, CVPR 2017) in 3D.

No maintained library (MONAI, torchvision, timm) has a 3D Xception, so it is written here:
entry flow, middle flow and exit flow of depthwise-separable convolutions (a depthwise
``Conv3d`` with ``groups = channels`` followed by a 1×1×1 pointwise ``Conv3d``) with
residual connections, as in the paper; ``width`` scales every channel count.
"""

from __future__ import annotations

import torch
from torch import nn

from ecrs_analysis.models.depthwise import DepthwiseConv3d

__all__ = ["SeparableConv3d", "XceptionBlock", "Xception3D"]


class SeparableConv3d(nn.Module):
    """Depthwise 3×3×3 convolution, then pointwise 1×1×1."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.depthwise = DepthwiseConv3d(c_in, 3)  # an nn.Conv3d with a fast CPU backward
        self.pointwise = nn.Conv3d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class XceptionBlock(nn.Module):
    """``reps`` × (ReLU, separable conv, BN), optional stride-2 max-pool, 1×1×1 residual projection."""

    def __init__(self, c_in: int, c_out: int, *, reps: int, stride: int, relu_first: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = c_in
        for i in range(reps):
            if relu_first or i > 0:
                layers.append(nn.ReLU(inplace=False))
            layers += [SeparableConv3d(c, c_out), nn.BatchNorm3d(c_out)]
            c = c_out
        if stride > 1:
            layers.append(nn.MaxPool3d(3, stride=stride, padding=1))
        self.body = nn.Sequential(*layers)
        self.skip = None if (c_in == c_out and stride == 1) else nn.Sequential(nn.Conv3d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm3d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + (x if self.skip is None else self.skip(x))


class Xception3D(nn.Module):
    """3D Xception classifier.

    Parameters
    ----------
    in_channels, num_classes : int
        Input channels and output logits.
    width : float
        Multiplies every channel count (1.0 = the paper's 32-64-128-256-728-1024-1536-2048).
    middle_blocks : int
        Repetitions of the middle flow (8 in the paper).
    """

    def __init__(self, in_channels: int, num_classes: int, *, width: float = 1.0, middle_blocks: int = 8) -> None:
        super().__init__()
        c = lambda n: max(8, int(round(n * width)))  # noqa: E731
        self.stem = nn.Sequential(
            nn.Conv3d(in_channels, c(32), 3, stride=2, padding=1, bias=False), nn.BatchNorm3d(c(32)), nn.ReLU(inplace=True),
            nn.Conv3d(c(32), c(64), 3, padding=1, bias=False), nn.BatchNorm3d(c(64)), nn.ReLU(inplace=True),
        )
        self.entry = nn.Sequential(
            XceptionBlock(c(64), c(128), reps=2, stride=2, relu_first=False),
            XceptionBlock(c(128), c(256), reps=2, stride=2),
            XceptionBlock(c(256), c(728), reps=2, stride=2),
        )
        self.middle = nn.Sequential(*[XceptionBlock(c(728), c(728), reps=3, stride=1) for _ in range(middle_blocks)])
        self.exit = nn.Sequential(
            XceptionBlock(c(728), c(1024), reps=2, stride=2),
            SeparableConv3d(c(1024), c(1536)), nn.BatchNorm3d(c(1536)), nn.ReLU(inplace=True),
            SeparableConv3d(c(1536), c(2048)), nn.BatchNorm3d(c(2048)), nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(c(2048), num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.exit(self.middle(self.entry(self.stem(x)))))
