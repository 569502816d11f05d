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
    """The ``mtlnet`` section of ``params/<profile>.yaml``: no values of its own (every profile sets every key)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    width: float = Field(gt=0, description="channel multiplier: 1.0 = 32 initial filters")
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    weight_decay: float = Field(ge=0)
    warmup_epochs: int = Field(ge=0, description="linear warm-up of the learning rate, then cosine decay")
    patience: int = Field(ge=1, description="epochs without a fall of the early-stopping criterion before stopping")
    early_stopping: Literal["classification_loss", "loss"] = Field(
        description="the validation criterion that keeps an epoch: the validation classification loss (BCE of the endotype), "
        "or the whole validation loss (dominated by the segmentation term); the segmentation-only ablation always uses its loss")
    seg_weight: float = Field(ge=0, description="loss = BCE_cls + seg_weight * DiceCE_seg")
    deep_supervision: bool
    ablation: bool = Field(description="also train the classification-only and segmentation-only variants")
    mask: Literal["sinus_mask", "roi_mask"] = Field(description="segmentation target (a mask of the preprocessed files)")
    surface_tolerance_mm: float = Field(gt=0, description="tolerance of the surface Dice")
    augment: bool

    @model_validator(mode="after")
    def _warmup_inside_training(self) -> MTLNetSettings:
        if self.warmup_epochs > self.epochs:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) must not exceed epochs ({self.epochs})")
        return self
