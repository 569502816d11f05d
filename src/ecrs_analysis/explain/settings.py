"""The ``explain`` section of the parameters (notebook 06), checked in one place."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ExplainSettings"]


class ExplainSettings(BaseModel):
    """How the networks' attention is computed, measured and drawn.

    Attributes
    ----------
    n_per_set : int or None
        Patients explained per test set, drawn (seeded) evenly from true positives, false
        positives, false negatives and true negatives; None = every test patient.
    method : {"gradcam", "gradcampp"}
        MONAI's Grad-CAM or Grad-CAM++.
    target_layers : dict
        Model name -> layer name, overriding the registry's default (``models.registry.CAM_LAYERS``).
    pointing_tolerance_mm : float
        A map's maximum within this distance of the region counts as a hit (0 = strictly inside).
    iso_level : float
        Level (on the 0-1 scaled map) of the attention iso-surface in the 3D view.
    mesh_max_faces : int
        Upper bound on the triangles of one surface in the 3D view; the marching-cubes step
        grows until a surface is under it, which keeps a page of the book small.
    """

    model_config = ConfigDict(extra="forbid")

    n_per_set: int | None = Field(8, ge=1)
    method: Literal["gradcam", "gradcampp"] = "gradcam"
    target_layers: dict[str, str] = Field(default_factory=dict)
    pointing_tolerance_mm: float = Field(0.0, ge=0.0)
    iso_level: float = Field(0.5, gt=0.0, lt=1.0)
    mesh_max_faces: int = Field(20_000, ge=100)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "ExplainSettings":
        """The validated ``explain`` section of a profile's parameters."""
        return cls.model_validate(params.get("explain", {}))
