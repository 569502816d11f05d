"""Which fold each patient belongs to, where each fold job writes, and the score table made from the fold jobs.

The part of the per-fold training (:mod:`ecrs_analysis.training.folds`) that needs no torch: the
``folds`` and ``deep_scores`` jobs, and anything that only reads the fold jobs' files, import this
module alone (torch with MONAI take ~5 s to import, in each job).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from ecrs_analysis.data.splits import TRAIN
from ecrs_analysis.paths import HISTORY, JOB_SCORES

__all__ = ["fold_seed", "fold_dir", "assign_folds", "collect_deep_scores"]


def fold_seed(seed: int, model: str, fold: int) -> int:
    """The seed of one (model, fold) job: independent of which other models are listed."""
    return int(seed) + 1000 * (zlib.crc32(model.encode()) % 997) + int(fold)


def fold_dir(root: str | os.PathLike[str], model: str, fold: int) -> Path:
    return Path(root) / model / f"fold{fold}"


def assign_folds(table: pd.DataFrame, *, folds: int, seed: int, train_set: str = TRAIN) -> pd.DataFrame:
    """``patient_id, set, label, fold``: stratified k folds of the training set, and of each test set.

    A test patient's fold names the fold model that scores it under ``test_scoring="single"``.
    """
    out = table[["patient_id", "set", "label"]].copy()
    out["fold"] = -1
    if not (out["set"] == train_set).any():
        raise ValueError(f"no patient in the training set {train_set!r}; sets: {sorted(out['set'].unique())}")
    for s in out["set"].unique():
        idx = np.flatnonzero((out["set"] == s).to_numpy())
        labels = out["label"].to_numpy()[idx]
        k = min(folds, int(np.bincount(labels, minlength=2).min())) if s != train_set else folds
        if s == train_set and np.bincount(labels, minlength=2).min() < folds:
            raise ValueError(f"{folds}-fold cross-validation needs at least {folds} patients of each class in {train_set!r}; it has {np.bincount(labels, minlength=2).tolist()} (non-eCRS, eCRS)")
        if k < 2:  # a tiny test set: deal the patients out in turn
            out.iloc[idx, out.columns.get_loc("fold")] = np.arange(len(idx)) % folds
            continue
        skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        for f, (_, held) in enumerate(skf.split(idx, labels)):
            out.iloc[idx[held], out.columns.get_loc("fold")] = f % folds
    return out


def collect_deep_scores(
    folds: pd.DataFrame,
    fold_dirs: Mapping[tuple[str, int], str | os.PathLike[str]],
    *,
    test_scoring: Literal["single", "ensemble"] = "single",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One score per patient and network from the fold jobs' ``scores.csv``.

    Returns
    -------
    scores : DataFrame
        ``patient_id, set, label`` and one column of P(eCRS) per network.
    histories : DataFrame
        Every fold job's per-epoch history with ``model`` and ``fold`` columns.
    """
    if test_scoring not in ("single", "ensemble"):
        raise ValueError(f"test_scoring must be 'single' or 'ensemble', got {test_scoring!r}")
    out = folds[["patient_id", "set", "label"]].copy()
    fold_of = folds.set_index("patient_id")["fold"]
    histories = []
    models = sorted({m for m, _ in fold_dirs}, key=[m for m, _ in fold_dirs].index)
    for m in models:
        parts = []
        for (mm, k), d in sorted(fold_dirs.items()):
            if mm != m:
                continue
            s = pd.read_csv(Path(d) / JOB_SCORES, dtype={"patient_id": str}).assign(model_fold=k)
            parts.append(s)
            histories.append(pd.read_csv(Path(d) / HISTORY).assign(model=m, fold=k))
        s = pd.concat(parts, ignore_index=True)
        oof = s[s["role"] == "oof"].set_index("patient_id")["prob"]
        test = s[s["role"] == "test"]
        if test_scoring == "single":
            test = test[test["model_fold"].to_numpy() == fold_of.reindex(test["patient_id"]).to_numpy()]
            test_score = test.set_index("patient_id")["prob"]
        else:
            test_score = test.groupby("patient_id")["prob"].mean()
        score = pd.concat([oof, test_score])
        if score.index.duplicated().any():
            raise ValueError(f"{m}: a patient was scored twice; the fold jobs do not match folds.csv")
        out[m] = out["patient_id"].map(score)
        missing = out[m].isna()
        if missing.any():
            raise ValueError(f"{m}: {int(missing.sum())} patient(s) have no score; is a fold job missing? (folds found: {sorted(k for mm, k in fold_dirs if mm == m)})")
    return out, pd.concat(histories, ignore_index=True) if histories else pd.DataFrame()
