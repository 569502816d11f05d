"""3D classification networks of the first study behind one registry (``build_model``)."""

from ecrs_analysis.models.registry import MODEL_NAMES, build_model, count_flops, count_parameters, size_table

__all__ = ["MODEL_NAMES", "build_model", "count_flops", "count_parameters", "size_table"]
