"""Grad-CAM and Grad-CAM++ of one volume, with MONAI's ``monai.visualize`` doing the work.

MONAI's classes are used as they are; this module only avoids three traps (MONAI 1.6):

- the default ``postprocessing`` maps (min, max) to (1, 0), so the most important voxel
  becomes 0: :func:`unit_scale` maps it to (0, 1) instead;
- with ``class_idx=None`` the class is the argmax of every sample, and the score of a batch
  is indexed across samples; ``GradCAMpp`` fails for batches above one: so one volume at a
  time, with an explicit class;
- a multitask network returns a tuple: :class:`SingleLogit` hands MONAI one logits tensor.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from monai.transforms import ScaleIntensity
from monai.visualize import GradCAM, GradCAMpp
from numpy.typing import NDArray
from torch import nn

__all__ = ["unit_scale", "SingleLogit", "CamResult", "CamExplainer", "randomised_copy"]

_METHODS = {"gradcam": GradCAM, "gradcampp": GradCAMpp}


def unit_scale(x: torch.Tensor) -> torch.Tensor:
    """Scale each map of a batch (B, 1, ...) to [0, 1], the highest activation to 1; an all-zero map stays 0."""
    scaler = ScaleIntensity(minv=0.0, maxv=1.0)
    return torch.stack([torch.as_tensor(scaler(m)) for m in x]).to(x.device)


class SingleLogit(nn.Module):
    """A multitask network seen as a classifier: ``forward`` returns output ``index`` of the tuple.

    MTLNet returns ``(seg_logits, class_logits)``: ``SingleLogit(mtlnet, index=1)``.  The
    wrapped network is the attribute ``model``, so its layer ``"a.b"`` is ``"model.a.b"`` here
    (:meth:`layer`).
    """

    def __init__(self, model: nn.Module, *, index: int = 1) -> None:
        super().__init__()
        self.model = model
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        if not isinstance(out, (tuple, list)):
            raise TypeError(f"SingleLogit expects a network returning a tuple, got {type(out).__name__}")
        z = out[self.index]
        if z.shape[1] == 1:
            # one endotype logit z -> two class logits (-z/2, z/2): softmax gives sigmoid(z) for eCRS,
            # and class 0's map follows the evidence *against* eCRS (its gradient is -grad z / 2)
            z = torch.cat([-z / 2, z / 2], dim=1)
        return z

    @staticmethod
    def layer(name: str) -> str:
        return f"model.{name}"


@dataclass(frozen=True)
class CamResult:
    """The map of one volume and what the network said about it."""

    cam: NDArray[np.float32]
    """(X, Y, Z) on the network's input grid, scaled to [0, 1]; all zero when no voxel had positive weight."""
    class_idx: int
    prob: float
    """Softmax probability of class 1 (eCRS)."""

    @property
    def empty(self) -> bool:
        return not bool(self.cam.max() > 0)


class CamExplainer:
    """Grad-CAM (or ++) of one network at one layer; call it once per volume.

    Parameters
    ----------
    model : nn.Module
        A classifier returning logits (B, classes); wrap multitask networks in :class:`SingleLogit`.
        It is put in ``eval()`` mode (BatchNorm statistics, no dropout).
    layer : str
        Name of the layer in ``model.named_modules()``.
    method : {"gradcam", "gradcampp"}
    """

    def __init__(self, model: nn.Module, *, layer: str, method: str = "gradcam") -> None:
        if method not in _METHODS:
            raise ValueError(f"unknown CAM method {method!r}; valid: {sorted(_METHODS)}")
        names = dict(model.named_modules())
        if layer not in names:
            conv = [n for n, m in names.items() if isinstance(m, nn.Conv3d)][-5:]
            raise ValueError(f"layer {layer!r} is not in the network; its last convolutions are {conv} (see model.named_modules())")
        self.model = model.eval()
        self.layer = layer
        self.method = method
        self._cam = _METHODS[method](nn_module=self.model, target_layers=layer, postprocessing=unit_scale)

    def __call__(self, volume: NDArray | torch.Tensor, *, class_idx: int | None = None) -> CamResult:
        """Map of one volume (1, X, Y, Z) or (X, Y, Z) for ``class_idx`` (default: the predicted class)."""
        x = torch.as_tensor(np.asarray(volume, dtype=np.float32))
        x = x.reshape(1, 1, *x.shape[-3:])
        with torch.no_grad():
            prob = torch.softmax(self.model(x), dim=1)[0]
        k = int(prob.argmax()) if class_idx is None else int(class_idx)
        if not 0 <= k < prob.numel():
            raise ValueError(f"class_idx {class_idx} is outside the network's {prob.numel()} classes")
        with torch.enable_grad():
            cam = self._cam(x, class_idx=k)
        return CamResult(cam=cam[0, 0].detach().cpu().numpy().astype(np.float32), class_idx=k, prob=float(prob[1]) if prob.numel() > 1 else float(prob[0]))


def randomised_copy(model: nn.Module, *, seed: int) -> nn.Module:
    """The same architecture with every layer re-initialised (Adebayo et al. 2018's model randomisation test)."""
    fresh = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):  # leave the caller's random stream as it was
        torch.manual_seed(seed)
        for m in fresh.modules():
            reset = getattr(m, "reset_parameters", None)
            if callable(reset):
                reset()
    return fresh.eval()
