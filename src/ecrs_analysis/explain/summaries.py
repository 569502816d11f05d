"""What simple image summaries predict, beside the networks: a reading aid for the explanation chapter.

A crop made around the lesion (``preprocess.crop_to``) carries the lesion's extent in its size:
the bigger the disease, the bigger the crop, before any network looks inside it.  This table
shows how well such summaries separate the endotypes on each test set, and how closely each
network's score follows the crop's volume (Spearman), so that a reader of the maps knows how
much of a network's signal could be "how much disease" rather than "where".

Everything comes from the cached model inputs (``<study>/preprocessed.csv`` -> .npz: the
resized crop, its voxel size, the preprocessed masks) and the networks' score tables; the
workflow job that reads and writes them is :func:`ecrs_analysis.jobs.explain_summaries.write_image_summaries`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score

from ecrs_analysis.data.imageio import load_preprocessed

__all__ = ["image_summaries", "summary_table", "SUMMARIES"]

SUMMARIES = ("crop volume (mL)", "lesion ROI volume (mL)", "mean HU of the crop", "opacified fraction of the crop")


def image_summaries(index: pd.DataFrame, *, hu_window: Sequence[float]) -> pd.DataFrame:
    """One row per patient of ``index`` (patient_id, path): the :data:`SUMMARIES` of its cached model input."""
    lo, hi = float(hu_window[0]), float(hu_window[1])
    rows = []
    for pid, path in zip(index["patient_id"], index["path"]):
        a = load_preprocessed(path)
        voxel_ml = float(np.prod(a["spacing_mm"])) / 1000.0
        image = np.asarray(a["image"], dtype=np.float64)
        roi = a.get("roi_mask")
        row = {
            "patient_id": pid,
            SUMMARIES[0]: image.size * voxel_ml,
            SUMMARIES[2]: float(image.mean()) * (hi - lo) + lo,  # back through ScaleIntensityRange (clipped at the window)
        }
        if roi is not None:
            row[SUMMARIES[1]] = float(roi.sum()) * voxel_ml
            row[SUMMARIES[3]] = float(roi.mean())
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(features: pd.DataFrame, scores: pd.DataFrame, *, networks: Sequence[str], sets: Sequence[str]) -> pd.DataFrame:
    """AUC of every summary and network per set, and Spearman ρ of each with the crop volume.

    Parameters
    ----------
    features : DataFrame
        :func:`image_summaries`.
    scores : DataFrame
        ``patient_id, set, label`` and one score column per network.
    """
    t = scores.merge(features, on="patient_id", how="inner")
    rows = []
    for s in sets:
        g = t[t["set"] == s]
        y = g["label"].astype(int).to_numpy()
        for kind, cols in (("image summary", [c for c in SUMMARIES if c in g]), ("network", list(networks))):
            for c in cols:
                x = g[c].to_numpy(dtype=float)
                ok = np.isfinite(x)
                auc = float(roc_auc_score(y[ok], x[ok])) if len(np.unique(y[ok])) == 2 else float("nan")
                rho = float(stats.spearmanr(x[ok], g[SUMMARIES[0]].to_numpy()[ok]).statistic) if ok.sum() > 2 and np.ptp(x[ok]) > 0 else float("nan")
                rows.append({"set": s, "kind": kind, "predictor": c, "AUC": auc, "Spearman ρ with crop volume": rho, "patients": int(ok.sum())})
    return pd.DataFrame(rows)
