"""3D classification networks of the first study behind one registry (``build_model``)."""

from ecrs_analysis.models.registry import CAM_LAYERS, MODEL_NAMES, build_model, cam_layer, count_flops, count_parameters, size_table

__all__ = ["MODEL_NAMES", "CAM_LAYERS", "build_model", "cam_layer", "count_flops", "count_parameters", "size_table"]
