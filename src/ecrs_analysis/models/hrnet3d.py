"""HRNet (Wang et al., TPAMI 2019) in 3D, as a classifier.

MONAI's ``HighResNet`` is a different, single-resolution network, and no maintained
library has a 3D HRNet, so it is written here: parallel branches at 1/1, 1/2, 1/4 and 1/8
of the stem resolution are kept throughout; each stage adds a lower-resolution branch and
ends with a multi-resolution fusion in which every branch receives the sum of all others
(strided convolutions downwards, 1×1×1 convolutions and trilinear upsampling upwards).
The classification head (as in HRNet's ImageNet model) brings every branch to the lowest
resolution and merges them before global pooling.
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["HRNet3D"]


def _conv_bn(c_in: int, c_out: int, *, stride: int = 1, kernel: int = 3, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv3d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False), nn.BatchNorm3d(c_out)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _Basic(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.a = _conv_bn(c, c)
        self.b = _conv_bn(c, c, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.b(self.a(x)))


class _Fusion(nn.Module):
    """Exchange information between all resolutions: out_i = ReLU(sum_j f_ij(x_j))."""

    def __init__(self, channels: list[int]) -> None:
        super().__init__()
        self.paths = nn.ModuleList()
        for i, ci in enumerate(channels):
            row = nn.ModuleList()
            for j, cj in enumerate(channels):
                if j == i:
                    row.append(nn.Identity())
                elif j > i:  # lower resolution -> project channels, upsample in forward
                    row.append(_conv_bn(cj, ci, kernel=1, relu=False))
                else:  # higher resolution -> (i - j) stride-2 convolutions
                    steps = [_conv_bn(cj, cj, stride=2) for _ in range(i - j - 1)] + [_conv_bn(cj, ci, stride=2, relu=False)]
                    row.append(nn.Sequential(*steps))
            self.paths.append(row)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        out = []
        for i, row in enumerate(self.paths):
            total = xs[i]
            for j, path in enumerate(cast(nn.ModuleList, row)):
                if j == i:
                    continue
                y = path(xs[j])
                if j > i:
                    y = F.interpolate(y, size=xs[i].shape[2:], mode="trilinear", align_corners=False)
                total = total + y
            out.append(F.relu(total))
        return out


class _Stage(nn.Module):
    def __init__(self, channels: list[int], blocks: int) -> None:
        super().__init__()
        self.branches = nn.ModuleList(nn.Sequential(*[_Basic(c) for _ in range(blocks)]) for c in channels)
        self.fuse = _Fusion(channels)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        return self.fuse([b(x) for b, x in zip(self.branches, xs)])


class HRNet3D(nn.Module):
    """3D HRNet classifier with ``branches`` parallel resolutions (4 in HRNet-W32).

    Parameters
    ----------
    width : int
        Channels of the highest-resolution branch (32 in HRNet-W32); branch k has ``width·2^k``.
    blocks : int
        Residual blocks per branch in every stage (4 in HRNet-W32; :func:`ecrs_analysis.models.build_model`
        scales it with the width).
    """

    def __init__(self, in_channels: int, num_classes: int, *, width: int = 32, branches: int = 4, blocks: int = 2) -> None:
        super().__init__()
        chans = [width * 2**k for k in range(branches)]
        self.stem = nn.Sequential(_conv_bn(in_channels, width, stride=2), _conv_bn(width, width))
        self.transitions = nn.ModuleList(_conv_bn(chans[k - 1], chans[k], stride=2) for k in range(1, branches))
        self.stages = nn.ModuleList(_Stage(chans[: k + 1], blocks) for k in range(branches))
        self.merge = nn.ModuleList(_conv_bn(chans[k], chans[-1], stride=2 ** (branches - 1 - k)) if k < branches - 1 else nn.Identity() for k in range(branches))
        self.head = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(chans[-1], num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xs = [self.stem(x)]
        for k, stage in enumerate(self.stages):
            if k > 0:
                xs = xs + [self.transitions[k - 1](xs[-1])]  # a new, lower-resolution branch
            xs = stage(xs)
        size = xs[-1].shape[2:]
        merged = torch.zeros_like(xs[-1])
        for m, xk in zip(self.merge, xs):
            y = m(xk)  # strided convolutions bring each branch to the lowest resolution
            merged = merged + (y if y.shape[2:] == size else F.interpolate(y, size=size, mode="trilinear", align_corners=False))
        return self.head(merged)
