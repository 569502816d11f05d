"""What simple image summaries predict, beside the networks: a reading aid for the explanation chapter.

A crop made around the lesion (``preprocess.crop_to``) carries the lesion's extent in its size:
the bigger the disease, the bigger the crop, before any network looks inside it.  This table
shows how well such summaries separate the endotypes on each test set, and how closely each
network's score follows the crop's volume (Spearman), so that a reader of the maps knows how
much of a network's signal could be "how much disease" rather than "where".

Everything comes from the cached model inputs (``<study>/preprocessed.csv`` -> .npz: the
resized crop, its voxel size, the preprocessed masks) and the networks' score tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score

from ecrs_analysis.atomic import write_csv
from ecrs_analysis.data.preprocess import load_preprocessed
from ecrs_analysis.data.study import ResultPaths, load_study
from ecrs_analysis.explain.jobs import MTLNET
from ecrs_analysis.explain.evidence import COLUMNS, conditional_evidence

__all__ = ["image_summaries", "summary_table", "write_image_summaries", "SUMMARIES"]

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


def write_image_summaries(cfg: Any, paths: ResultPaths, study_name: str) -> pd.DataFrame:
    """The workflow job: ``<study>/explain/image_summaries.csv`` for a study's test sets and networks, and ``evidence_definition.csv``."""
    study = load_study(cfg, study_name, paths)
    index = pd.read_csv(paths.preprocessed_index(study_name), dtype={"patient_id": str})
    if study_name == "li2025":
        networks = list(cfg.deep.models)
        scores = pd.read_csv(paths.scores(study_name, "deep"), dtype={"patient_id": str})
    else:
        networks = [MTLNET]
        sc = pd.read_csv(paths.job_scores(paths.mtlnet_job(study_name, MTLNET)), dtype={"patient_id": str})
        scores = sc[["patient_id", "set", "label", "prob"]].rename(columns={"prob": MTLNET})
    test_sets = list(study.split.test_names)
    index = index[index["patient_id"].isin(scores.loc[scores["set"].isin(test_sets), "patient_id"])]
    features = image_summaries(index, hu_window=getattr(cfg.studies, study_name).preprocess.hu_window)
    out = summary_table(features, scores[["patient_id", "set", "label", *networks]], networks=networks, sets=test_sets)
    write_csv(out, paths.study(study_name) / "explain" / "image_summaries.csv")
    write_csv(_evidence_definition(study), paths.study(study_name) / "explain" / "evidence_definition.csv")
    return out


def _evidence_definition(study: Any) -> pd.DataFrame:
    """The per-class evidence definition of a synthetic study (:func:`~ecrs_analysis.explain.evidence.conditional_evidence`); empty for a real cohort."""
    from ecrs_analysis.explain.run import evidence_definition  # lazy: loads statsmodels

    if evidence_definition(study) is None:
        return pd.DataFrame(columns=list(COLUMNS))
    return conditional_evidence(study.name)
