"""3D classification networks of the first study behind one registry (``build_model``).

The names below load the registry (torch, MONAI) on first use; ``models.names`` stays light.
"""

from typing import Any

__all__ = ["MODEL_NAMES", "CAM_LAYERS", "build_model", "cam_layer", "count_flops", "count_parameters", "size_table"]


def __getattr__(name: str) -> Any:
    if name == "MODEL_NAMES":
        from ecrs_analysis.models.names import MODEL_NAMES  # lazy: a package attribute loaded on first use

        return MODEL_NAMES
    if name in __all__:
        from ecrs_analysis.models import registry  # lazy: loads monai, torch

        return getattr(registry, name)
    raise AttributeError(name)
