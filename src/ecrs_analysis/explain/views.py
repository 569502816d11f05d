"""What the figures show: the chosen example of each outcome, on the CT, with its regions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import SimpleITK as sitk
import torch
from numpy.typing import NDArray

from ecrs_analysis.data.preprocess import load_preprocessed
from ecrs_analysis.explain.inverse import InputGrid
from ecrs_analysis.explain.run import OUTCOMES, Explanation, ensemble_map, load_network, patient_regions

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


def pick_examples(expl: Explanation, model: str) -> pd.DataFrame:
    """The most confident patient of each outcome: highest score for TP and FP, lowest for FN and TN."""
    e = expl.explained[expl.explained["model"] == model]
    rows = []
    for outcome in OUTCOMES:
        g = e[e["outcome"] == outcome]
        if len(g):
            rows.append(g.loc[g["score"].idxmax() if outcome in ("TP", "FP") else g["score"].idxmin()])
    return pd.DataFrame(rows).reset_index(drop=True)


def _fold_maps(expl: Explanation, model: str, patient_id: str) -> list[NDArray]:
    net = next(n for n in expl.networks if n.name == model)
    maps = []
    for fold, _ in net.checkpoints:
        with np.load(expl.folder / model / f"fold{fold}" / f"{patient_id}.npz") as z:
            maps.append(z["cam"])
    return maps


def predicted_segmentation(expl: Explanation, model: str, volume: NDArray) -> NDArray[np.uint8] | None:
    """A multitask network's segmentation of one input volume (foreground = any class above background), else None."""
    net = next(n for n in expl.networks if n.name == model)
    if not net.multitask:
        return None
    wrapped = load_network(net, net.checkpoints[0][1])
    with torch.no_grad():
        seg = wrapped.model(torch.from_numpy(np.asarray(volume, np.float32)).reshape(1, 1, *volume.shape[-3:]))[0][0]
    fg = seg.argmax(0) > 0 if seg.shape[0] > 1 else torch.sigmoid(seg[0]) > 0.5
    return fg.numpy().astype(np.uint8)


def case_view(expl: Explanation, model: str, patient_id: str, *, title: str) -> CaseView:
    """The CT, the fold-ensemble map and the regions of one explained patient, on the CT's grid."""
    ctx = expl.context
    row = ctx["table"].loc[ctx["table"]["patient_id"] == patient_id].iloc[0]
    npz = ctx["index"].loc[ctx["index"]["patient_id"] == patient_id, "path"].iloc[0]
    volume = load_preprocessed(npz)["image"]
    grid = InputGrid(row["image"], {c: row[c] for c in ctx["mask_cols"]}, ctx["pre"])
    cam = sitk.GetArrayFromImage(grid.to_ct(ensemble_map(_fold_maps(expl, model, patient_id))))
    e = expl.explained
    class_idx = int(e.loc[(e["model"] == model) & (e["patient_id"] == patient_id), "class_idx"].iloc[0])
    regions = patient_regions(row, ctx["evidence"].get(patient_id), class_idx)
    surfaces: dict[str, NDArray] = {}
    if isinstance(row.get("sinus_mask"), str):
        surfaces["sinuses (ground truth)"] = sitk.GetArrayFromImage(sitk.ReadImage(row["sinus_mask"])) > 0
    pred = predicted_segmentation(expl, model, volume)
    if pred is not None:
        surfaces[f"sinuses ({model})"] = sitk.GetArrayFromImage(grid.to_ct(pred, nearest=True)) > 0
    if "lesion ROI" in regions:
        surfaces["lesion ROI"] = regions["lesion ROI"]
    return CaseView(title=title, image=grid.reference, cam=np.clip(cam, 0.0, 1.0).astype(np.float32), regions=regions, surfaces=surfaces)


def mean_maps(expl: Explanation) -> dict[tuple[str, int], NDArray[np.float32]]:
    """Mean fold-ensemble map on the network's input grid per (model, true label)."""
    out = {}
    e = expl.explained
    for net in expl.networks:
        for label, g in e[e["model"] == net.name].groupby("label"):
            out[(net.name, int(label))] = np.mean([ensemble_map(_fold_maps(expl, net.name, pid)) for pid in g["patient_id"]], axis=0).astype(np.float32)
    return out
