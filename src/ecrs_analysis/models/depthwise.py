"""A depthwise 3D convolution whose backward pass is fast on a CPU.

PyTorch's CPU backward of a depthwise ``Conv3d`` (``groups = channels``) is 25-80x slower than
its forward (oneDNN has no fast depthwise 3D backward; measured in
``benchmarks/bench_depthwise.py``): in the demo's 3D-Xception it was over half of every
training step.  :class:`DepthwiseConv3d` is an ``nn.Conv3d`` (same parameters, same
checkpoints, same forward) whose gradients on a CPU come from fast forward convolutions:

- the input gradient of a stride-1 convolution with "same" padding is the convolution of the
  output gradient with the spatially flipped kernel (a depthwise forward convolution);
- the kernel gradient of channel ``c`` is the correlation of its input with its output
  gradient, summed over the batch: for small volumes one grouped forward convolution with the
  batch folded into the channels (one group per sample and channel), for larger ones PyTorch's
  own kernel-gradient routine, which is the faster of the two there.

No library provides this, hence the lines here; on CUDA (cuDNN) the stock backward is used.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DepthwiseConv3d", "SMALL_VOLUME"]

SMALL_VOLUME = 512
"""Voxels per channel (8³) up to which the kernel gradient is one grouped convolution."""


class _DepthwiseConv3dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, padding: tuple[int, int, int]) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.padding = padding
        return F.conv3d(x, weight, padding=padding, groups=weight.shape[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None]:
        x, weight = ctx.saved_tensors
        channels, padding = weight.shape[0], ctx.padding
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = F.conv3d(grad, weight.flip(2, 3, 4), padding=padding, groups=channels)
        if ctx.needs_input_grad[1]:
            n, size = x.shape[0], x.shape[2:]
            if size.numel() <= SMALL_VOLUME:
                stacked = x.transpose(0, 1).reshape(1, channels * n, *size)
                kernels = grad.transpose(0, 1).reshape(channels * n, 1, *size)
                grad_w = F.conv3d(stacked, kernels, padding=padding, groups=channels * n).view(channels, n, *weight.shape[2:]).sum(1, keepdim=True)
            else:
                grad_w = torch.ops.aten.convolution_backward(
                    grad, x, weight, None, (1, 1, 1), padding, (1, 1, 1), False, (0, 0, 0), channels, (False, True, False)
                )[1]
        return grad_x, grad_w, None


class DepthwiseConv3d(nn.Conv3d):
    """Depthwise ``Conv3d`` (odd kernel, stride 1, "same" padding, no bias) with a fast CPU backward.

    Parameters
    ----------
    channels : int
        Input and output channels (one kernel per channel).
    kernel_size : int
        Odd edge length of the cubic kernel.
    """

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd for 'same' padding, got {kernel_size}")
        super().__init__(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type == "cpu" and torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad):
            return _DepthwiseConv3dFunction.apply(x, self.weight, self.padding)
        return super().forward(x)
