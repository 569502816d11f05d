"""What the figures show: one explained patient's CT, map and regions, and the example of each outcome."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import SimpleITK as sitk
from numpy.typing import NDArray

from ecrs_analysis.explain.outcomes import OUTCOMES

__all__ = ["CaseView", "pick_examples"]


@dataclass(frozen=True)
class CaseView:
    """One patient's CT, attention map and regions on the CT's grid, arrays in (z, y, x) order."""

    title: str
    image: sitk.Image
    cam: NDArray[np.float32]
    regions: dict[str, NDArray[np.bool_]] = field(default_factory=dict)
    surfaces: dict[str, NDArray[np.bool_]] = field(default_factory=dict)
    """Segmentations for the 3D view (sinus ground truth, MTLNet's prediction, lesion ROI)."""

    @property
    def ct(self) -> NDArray:
        return sitk.GetArrayFromImage(self.image)


def pick_examples(explained: pd.DataFrame, model: str) -> pd.DataFrame:
    """The most confident patient of each outcome of ``explained`` (the job's ``explained.csv``): highest score for TP and FP, lowest for FN and TN."""
    e = explained[explained["model"] == model].rename(columns={"fails randomisation": "fails_randomisation"})
    rows = []
    for outcome in OUTCOMES:
        g = e[e["outcome"] == outcome]
        if len(g):
            rows.append(g.loc[g["score"].idxmax() if outcome in ("TP", "FP") else g["score"].idxmin()])
    return pd.DataFrame(rows).reset_index(drop=True)
