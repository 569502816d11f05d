"""The networks the registry builds, by name, without importing torch or MONAI.

The parameter schema checks ``deep.models`` against these names; ``models.registry`` builds
exactly these networks (it raises at import when the two disagree).
"""

from __future__ import annotations

__all__ = ["MODEL_NAMES"]

MODEL_NAMES: tuple[str, ...] = ("resnet3d", "resnet3d10", "resnet3d34", "xception3d", "hrnet3d", "mtlnet")
