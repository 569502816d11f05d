"""MTLNet: one U-shaped 3D network that segments the sinuses and classifies the endotype.

The body is MONAI's :class:`~monai.networks.nets.SegResNet` (residual encoder, decoder with
additive skip connections), used through its ``encode`` and ``decode`` steps.  Two heads:

- segmentation: SegResNet's final 1×1×1 convolution, one channel of logits (sinus region);
- classification: global average pooling of the *deepest* encoder features, batch-normalised
  (:class:`PooledNorm`), then an MLP (Linear → LeakyReLU → Dropout → Linear) to the endotype
  logit(s).  The normalisation is what lets the head learn: SegResNet's deepest features are
  not normalised, and their pooled means differ between patients by ~2% of their size, a
  difference the MLP cannot amplify in a few hundred steps (the head then outputs a constant,
  as it did before this layer existed); standardised per channel across patients, the same
  features separate the endotypes (a linear probe on them reaches training AUC ~0.8).  Leaky,
  because a plain ReLU layer can die on a weak class signal and leave a constant output.

``forward`` returns ``(segmentation_logits, class_logits)``.  With ``deep_supervision`` the
decoder's coarser levels get their own 1×1×1 heads and, in training mode only, the first
element is a list ``[full resolution, ½, ¼ ...]`` (finest first) for MONAI's
``DeepSupervisionLoss``; in evaluation mode it is always the full-resolution tensor.

The ablation variants are the same network with one head: ``heads=("classification",)``
builds no decoder at all, ``heads=("segmentation",)`` no classifier; the missing output is None.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from monai.networks.nets import SegResNet
from torch import nn

__all__ = ["MTLNet", "HEADS", "PooledNorm", "filters_for_width"]

HEADS = ("segmentation", "classification")


def filters_for_width(width: float) -> int:
    """Initial filters for a width multiplier: 32 at 1.0, a multiple of 4 (GroupNorm with 4 groups), at least 4."""
    return max(4, 4 * int(round(8 * width)))


class PooledNorm(nn.BatchNorm1d):
    """``BatchNorm1d`` over pooled features that also accepts a training batch of one volume.

    A batch of one has no spread to standardise with (``BatchNorm1d`` raises); it is then
    normalised with the running statistics, as in evaluation, and they are left unchanged.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.shape[0] == 1:
            return nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
        return super().forward(x)


class MTLNet(SegResNet):
    """Multitask U-shaped 3D network (segmentation + classification).

    Parameters
    ----------
    in_channels : int
        Image channels.
    num_classes : int
        Class logits of the classification head (1 for a binary endotype with BCE).
    init_filters : int
        Channels of the first level; level k has ``init_filters * 2**k`` (multiple of 4).
    blocks_down, blocks_up : sequence of int
        Residual blocks per encoder / decoder level (SegResNet's defaults). The input size
        must be divisible by ``2 ** (len(blocks_down) - 1)``.
    dropout : float
        Dropout before the classifier's last layer.
    deep_supervision : bool
        Extra segmentation heads on the coarser decoder levels (training mode only).
    heads : sequence of {"segmentation", "classification"}
        Which heads to build (both: the multitask network; one: an ablation variant).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 1,
        *,
        init_filters: int = 32,
        blocks_down: Sequence[int] = (1, 2, 2, 4),
        blocks_up: Sequence[int] = (1, 1, 1),
        dropout: float = 0.2,
        deep_supervision: bool = False,
        heads: Sequence[str] = HEADS,
    ) -> None:
        unknown = sorted(set(heads) - set(HEADS))
        if unknown or not heads:
            raise ValueError(f"heads must be a non-empty subset of {HEADS}, got {tuple(heads)}")
        if init_filters % 4:
            raise ValueError(f"init_filters must be a multiple of 4 (GroupNorm with 4 groups), got {init_filters}")
        if len(blocks_up) != len(blocks_down) - 1:
            raise ValueError(f"blocks_up needs one entry fewer than blocks_down, got {tuple(blocks_up)} and {tuple(blocks_down)}")
        super().__init__(
            spatial_dims=3, init_filters=init_filters, in_channels=in_channels, out_channels=1, norm=("GROUP", {"num_groups": 4}),
            blocks_down=tuple(blocks_down), blocks_up=tuple(blocks_up), upsample_mode="deconv",  # deconv: deterministic on CUDA
        )
        self.heads = tuple(h for h in HEADS if h in heads)
        self.deep_supervision = deep_supervision and "segmentation" in self.heads
        deepest = init_filters * 2 ** (len(blocks_down) - 1)
        if "segmentation" not in self.heads:  # classification-only: the encoder alone
            self.up_layers, self.up_samples, self.conv_final = nn.ModuleList(), nn.ModuleList(), None
        hidden = max(8, deepest // 2)
        self.classifier = (
            nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), PooledNorm(deepest), nn.Linear(deepest, hidden), nn.LeakyReLU(0.1, inplace=True), nn.Dropout(dropout), nn.Linear(hidden, num_classes))
            if "classification" in self.heads
            else None
        )
        n_up = len(blocks_up)
        # after decoder level i the features have init_filters * 2**(n_up - 1 - i) channels; the last level is conv_final's
        self.aux_heads = nn.ModuleList(nn.Conv3d(init_filters * 2 ** (n_up - 1 - i), 1, kernel_size=1) for i in range(n_up - 1)) if self.deep_supervision else None

    @property
    def levels(self) -> int:
        """Resolution levels; inputs must be divisible by ``2 ** (levels - 1)``."""
        return len(self.blocks_down)

    def _decode_all(self, x: torch.Tensor, skips: list[torch.Tensor]) -> list[torch.Tensor]:
        """SegResNet's ``decode`` keeping each level's output for deep supervision (coarse levels first)."""
        levels = []
        for i, (up, upl) in enumerate(zip(self.up_samples, self.up_layers)):
            x = upl(up(x) + skips[i + 1])
            levels.append(x)
        return levels

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor | list[torch.Tensor] | None, torch.Tensor | None]:  # type: ignore[override]
        deepest, skips = self.encode(x)
        skips.reverse()
        class_logits = self.classifier(deepest) if self.classifier is not None else None
        if "segmentation" not in self.heads:
            return None, class_logits
        if not (self.deep_supervision and self.training):
            return self.decode(deepest, skips), class_logits
        levels = self._decode_all(deepest, skips)
        full = self.conv_final(levels[-1])
        assert self.aux_heads is not None
        coarse = [head(feat) for head, feat in zip(self.aux_heads, levels[:-1])]
        return [full, *reversed(coarse)], class_logits
