"""The ``mtlnet`` section of the parameters (light: the schema imports it without torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["MTLNetSettings", "MULTITASK", "CLASSIFICATION", "SEGMENTATION", "VARIANT_FOLDERS", "variant_of_folder"]

# The one place MTLNet's variants are named: variant -> its job's folder under results/<profile>/mtlnet2025/
# (the training code, the workflow rules, the explanation jobs and the chapters all read it from here).
MULTITASK, CLASSIFICATION, SEGMENTATION = "multitask", "classification", "segmentation"
VARIANT_FOLDERS: dict[str, str] = {MULTITASK: "mtlnet", CLASSIFICATION: "mtlnet_cls", SEGMENTATION: "mtlnet_seg"}


def variant_of_folder(folder: str) -> str:
    """The variant whose job writes ``folder`` (``mtlnet_cls`` -> ``classification``)."""
    for variant, name in VARIANT_FOLDERS.items():
        if name == folder:
            return variant
    raise ValueError(f"no MTLNet variant writes the folder {folder!r}; folders: {', '.join(VARIANT_FOLDERS.values())}")


class MTLNetSettings(BaseModel):
    """The ``mtlnet`` section of ``params/<profile>.yaml``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    width: float = Field(default=0.25, gt=0, description="channel multiplier: 1.0 = 32 initial filters")
    epochs: int = Field(default=10, ge=1)
    batch_size: int = Field(default=8, ge=1)
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    warmup_epochs: int = Field(default=1, ge=0, description="linear warm-up of the learning rate, then cosine decay")
    patience: int = Field(default=5, ge=1, description="epochs without a fall of the validation loss before stopping")
    seg_weight: float = Field(default=1.0, ge=0, description="loss = BCE_cls + seg_weight * DiceCE_seg")
    deep_supervision: bool = False
    ablation: bool = Field(default=False, description="also train the classification-only and segmentation-only variants")
    mask: Literal["sinus_mask", "roi_mask"] = Field(default="sinus_mask", description="segmentation target (a mask of the preprocessed files)")
    surface_tolerance_mm: float = Field(default=2.0, gt=0, description="tolerance of the surface Dice")
    augment: bool = True

    @model_validator(mode="after")
    def _warmup_inside_training(self) -> MTLNetSettings:
        if self.warmup_epochs > self.epochs:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) must not exceed epochs ({self.epochs})")
        return self
