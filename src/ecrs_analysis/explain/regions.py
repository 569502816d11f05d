"""The regions a map is measured against, in the CT's (z, y, x) array order: the lesion ROI and, on synthetic data, the class's evidence."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["patient_regions", "ensemble_map"]


def patient_regions(*, roi: NDArray | None, evidence: NDArray | None, labels: tuple[int, ...] | None) -> dict[str, NDArray[np.bool_]]:
    """``lesion ROI`` (where ``roi`` > 0) and ``evidence`` (the voxels of the evidence label map that carry ``labels``).

    Parameters
    ----------
    roi : array or None
        The lesion ROI mask on the CT's grid (None: the cohort has none).
    evidence : array or None
        The synthetic evidence label map on the CT's grid (None: a real cohort).
    labels : tuple of int or None
        The evidence-map labels that argue for the explained class
        (:func:`ecrs_analysis.explain.evidence.evidence_definition`); None: no evidence region.
    """
    out = {}
    if roi is not None:
        out["lesion ROI"] = np.asarray(roi) > 0
    if evidence is not None and labels is not None:
        out["evidence"] = np.isin(np.asarray(evidence), labels)
    return out


def ensemble_map(maps: list[np.ndarray]) -> np.ndarray:
    """Mean of the fold networks' maps (each on [0, 1]), scaled back to [0, 1]: the map of the fold ensemble."""
    m = np.mean(maps, axis=0)
    return (m / m.max()).astype(np.float32) if m.max() > 0 else m.astype(np.float32)
