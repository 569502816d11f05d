"""What the figures show: one explained patient's CT, map and regions, and the example of each outcome."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import SimpleITK as sitk
from numpy.typing import NDArray

from ecrs_analysis.explain.outcomes import OUTCOMES

__all__ = ["CaseView", "CaseSlices", "PLANES", "case_slices", "pick_examples"]

PLANES = ("axial", "coronal", "sagittal")


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


@dataclass(frozen=True)
class CaseSlices:
    """What an example panel shows of a :class:`CaseView`: the axial, coronal and sagittal slices of the CT, the map and
    each region through the map's maximum, in radiological display (LPS, superior up), with each plane's pixel aspect."""

    title: str
    aspects: dict[str, float]
    ct: dict[str, NDArray[np.float32]]
    cam: dict[str, NDArray[np.float32]]
    regions: dict[str, dict[str, NDArray[np.float32]]] = field(default_factory=dict)


def _lps(arr: np.ndarray, reference: sitk.Image) -> np.ndarray:
    img = sitk.GetImageFromArray(arr.astype(np.float32))
    img.CopyInformation(reference)
    return sitk.GetArrayFromImage(sitk.DICOMOrient(img, "LPS"))


def _slices(a: np.ndarray, at: tuple[int, int, int]) -> dict[str, NDArray[np.float32]]:
    z, y, x = at  # LPS array (z, y, x): radiological display needs no flip in-plane; superior up
    return {"axial": np.ascontiguousarray(a[z]), "coronal": np.ascontiguousarray(a[::-1, y, :]), "sagittal": np.ascontiguousarray(a[::-1, :, x])}


def case_slices(view: CaseView) -> CaseSlices:
    """The slices of ``view`` through its map's maximum (``plotting.explain.plot_case_overlays`` draws them)."""
    ref = view.image
    sx, sy, sz = sitk.DICOMOrient(ref, "LPS").GetSpacing()
    ct, cam = _lps(view.ct, ref), _lps(view.cam, ref)
    i0, i1, i2 = (int(i) for i in np.unravel_index(int(np.argmax(cam)), cam.shape))
    at = (i0, i1, i2)
    regions = {k: _slices(_lps(m.astype(np.float32), ref), at) for k, m in view.regions.items()}
    return CaseSlices(title=view.title, aspects={"axial": sy / sx, "coronal": sz / sx, "sagittal": sz / sy}, ct=_slices(ct, at), cam=_slices(cam, at), regions=regions)


def pick_examples(explained: pd.DataFrame, model: str) -> pd.DataFrame:
    """The most confident patient of each outcome of ``explained`` (the job's ``explained.csv``): highest score for TP and FP, lowest for FN and TN."""
    e = explained[explained["model"] == model].rename(columns={"fails randomisation": "fails_randomisation"})
    rows = []
    for outcome in OUTCOMES:
        g = e[e["outcome"] == outcome]
        if len(g):
            rows.append(g.loc[g["score"].idxmax() if outcome in ("TP", "FP") else g["score"].idxmin()])
    return pd.DataFrame(rows).reset_index(drop=True)
