"""Depthwise 3D convolution on a CPU: ours (``models.depthwise``) against PyTorch's stock backward, in the same run.

Rows: single depthwise layers at the demo 3D-Xception's shapes (forward + backward), and the
whole 3D-Xception training step (demo width and input, channels-last, one thread) with its
depthwise layers swapped back to plain ``nn.Conv3d`` for the baseline.

    .venv/bin/python benchmarks/bench_depthwise.py [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

from ecrs_analysis.models import build_model
from ecrs_analysis.models.depthwise import DepthwiseConv3d

CL = torch.channels_last_3d


def _seconds(step, repeat: int = 10) -> float:
    for _ in range(2):
        step()
    t0 = time.perf_counter()
    for _ in range(repeat):
        step()
    return (time.perf_counter() - t0) / repeat


def _stock(model: nn.Module) -> nn.Module:
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, DepthwiseConv3d):
                plain = nn.Conv3d(child.in_channels, child.out_channels, child.kernel_size, padding=child.padding, groups=child.groups, bias=False)
                plain.weight = child.weight
                setattr(module, name, plain)
    return model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for c, s in ((32, 16), (64, 8), (182, 4), (182, 2)):
        x = torch.randn(16, c, s, s, s).contiguous(memory_format=CL).requires_grad_()
        ours = DepthwiseConv3d(c, 3).to(memory_format=CL)
        stock = lambda a, w=ours.weight, c=c: F.conv3d(a, w, padding=1, groups=c)  # noqa: E731
        rows.append((f"depthwise layer {c} ch, {s}^3, batch 16", _seconds(lambda: stock(x).sum().backward()), _seconds(lambda: ours(x).sum().backward())))
    x = torch.randn(16, 1, 32, 32, 32).contiguous(memory_format=CL)
    y = torch.randint(0, 2, (16,))

    def step(model: nn.Module) -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()

    model = build_model("xception3d", width=0.25).to(memory_format=CL)
    t_ours = _seconds(lambda: step(model))
    t_stock = _seconds(lambda: step(_stock(model)))
    rows.append(("xception3d training step (demo: width 0.25, 32^3, batch 16)", t_stock, t_ours))
    print(f"{'forward + backward':<58} {'stock ms':>9} {'ours ms':>8} {'x faster':>9}")
    for what, stock_s, ours_s in rows:
        print(f"{what:<58} {stock_s * 1e3:>9.1f} {ours_s * 1e3:>8.1f} {stock_s / ours_s:>9.1f}")


if __name__ == "__main__":
    main()
