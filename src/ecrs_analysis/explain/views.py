"""What the figures show: the chosen example of each outcome, on the CT, with its regions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import SimpleITK as sitk
from numpy.typing import NDArray

from ecrs_analysis.explain.inverse import InputGrid
from ecrs_analysis.explain.run import OUTCOMES, load_map, patient_regions

if TYPE_CHECKING:
    from ecrs_analysis.explain.chapter import StudyExplanation

__all__ = ["CaseView", "pick_examples", "case_view", "mean_maps", "predicted_segmentation"]


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


def pick_examples(expl: "StudyExplanation", model: str) -> pd.DataFrame:
    """The most confident patient of each outcome: highest score for TP and FP, lowest for FN and TN."""
    e = expl["explained"]
    e = e[e["model"] == model].rename(columns={"fails randomisation": "fails_randomisation"})
    rows = []
    for outcome in OUTCOMES:
        g = e[e["outcome"] == outcome]
        if len(g):
            rows.append(g.loc[g["score"].idxmax() if outcome in ("TP", "FP") else g["score"].idxmin()])
    return pd.DataFrame(rows).reset_index(drop=True)


def predicted_segmentation(expl: "StudyExplanation", patient_id: str) -> NDArray[np.uint8] | None:
    """MTLNet's predicted sinus mask of a patient on the input grid, as its training job wrote it (``masks.npz``), else None."""
    path = expl.context.get("masks_npz")
    if path is None or not Path(path).exists():
        return None
    with np.load(path) as z:
        ids = z["patient_id"].tolist()
        return z["masks"][ids.index(patient_id)].astype(np.uint8) if patient_id in ids else None


def case_view(expl: "StudyExplanation", model: str, patient_id: str, *, title: str) -> CaseView:
    """The CT, the map of the model that scored the patient and the regions of one explained patient, on the CT's grid."""
    ctx = expl.context
    row = ctx["table"].loc[ctx["table"]["patient_id"] == patient_id].iloc[0]
    grid = InputGrid(row["image"], {c: row[c] for c in ctx["mask_cols"]}, ctx["pre"])
    cam = sitk.GetArrayFromImage(grid.to_ct(load_map(expl.model_folder(model), patient_id)))
    e = expl["explained"]
    class_idx = int(e.loc[(e["model"] == model) & (e["patient_id"] == patient_id), "class_idx"].iloc[0])
    definition = ctx["definition"]
    regions = patient_regions(row, ctx["evidence"].get(patient_id), definition[class_idx] if definition else None)
    surfaces: dict[str, NDArray] = {}
    if isinstance(row.get("sinus_mask"), str):
        surfaces["sinuses (ground truth)"] = sitk.GetArrayFromImage(sitk.ReadImage(row["sinus_mask"])) > 0
    pred = predicted_segmentation(expl, patient_id) if model == "mtlnet" else None
    if pred is not None and pred.shape == grid.image.shape:
        surfaces[f"sinuses ({model})"] = sitk.GetArrayFromImage(grid.to_ct(pred, nearest=True)) > 0
    if "lesion ROI" in regions:
        surfaces["lesion ROI"] = regions["lesion ROI"]
    return CaseView(title=title, image=grid.reference, cam=np.clip(cam, 0.0, 1.0).astype(np.float32), regions=regions, surfaces=surfaces)


def mean_maps(expl: "StudyExplanation") -> dict[tuple[str, int], NDArray[np.float32]]:
    """Mean map on the network's input grid per (model, true label)."""
    out = {}
    e = expl["explained"]
    for model in expl.models:
        for label, g in e[e["model"] == model].groupby("label"):
            out[(model, int(label))] = np.mean([load_map(expl.model_folder(model), pid) for pid in g["patient_id"]], axis=0).astype(np.float32)
    return out
