"""The ``explain`` section of the parameters (notebook 06), checked in one place."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ExplainSettings"]


class ExplainSettings(BaseModel):
    """How the networks' attention is computed, measured and drawn (no values of its own: every profile sets every key).

    Attributes
    ----------
    n_per_set : int or None
        Patients explained per test set, drawn (seeded) evenly from true positives, false
        positives, false negatives and true negatives; None = every test patient.
    method : {"gradcam", "gradcampp"}
        MONAI's Grad-CAM or Grad-CAM++.
    target_layers : dict
        Model name -> layer name, overriding the default layer of ``resolution``.
    resolution : {"1/4", "1/8"}
        Default layer: 1/4 of the input (``explain.control.FINE_CAM_LAYERS``) or 1/8
        (``models.registry.CAM_LAYERS``).  1/4 is the default because a perfect map pooled to
        its grid scores higher on the evidence (the positive control of chapter 06).
    deletion_fractions : list of float
        Shares of the input grid deleted in the faithfulness test, top of the map first and at
        random (two model calls per share and patient).
    sanity_max_spearman : float
        A map whose Spearman correlation with the map of the same network with random weights
        exceeds this fails the randomisation check and is marked in the chapter.
    pointing_tolerance_mm : float
        A map's maximum within this distance of the region counts as a hit (0 = strictly inside).
    iso_level : float
        Level (on the 0-1 scaled map) of the attention iso-surface in the 3D view.
    mesh_max_faces : int
        Upper bound on the triangles of one surface in the 3D view; the marching-cubes step
        grows until a surface is under it, which keeps a page of the book small.
    """

    model_config = ConfigDict(extra="forbid")

    n_per_set: int | None = Field(ge=1)
    method: Literal["gradcam", "gradcampp"]
    target_layers: dict[str, str]
    resolution: Literal["1/4", "1/8"]
    deletion_fractions: list[float] = Field(min_length=1)
    sanity_max_spearman: float = Field(gt=-1.0, le=1.0)
    pointing_tolerance_mm: float = Field(ge=0.0)
    iso_level: float = Field(gt=0.0, lt=1.0)
    mesh_max_faces: int = Field(ge=100)

    @field_validator("deletion_fractions")
    @classmethod
    def _shares(cls, v: list[float]) -> list[float]:
        if any(not 0.0 < f <= 1.0 for f in v) or sorted(set(v)) != v:
            raise ValueError(f"deletion_fractions must rise strictly within (0, 1], got {v}")
        return v

    def layer(self, model: str) -> str:
        """The layer explained for a model: ``target_layers``, else the default of ``resolution``."""
        from ecrs_analysis.models.registry import cam_layer  # lazy: loads monai, torch

        if model in self.target_layers:
            return self.target_layers[model]
        if self.resolution == "1/4":
            from ecrs_analysis.explain.control import FINE_CAM_LAYERS  # lazy: loads monai, torch

            if model in FINE_CAM_LAYERS:
                return FINE_CAM_LAYERS[model]
        return cam_layer(model)
