"""Deep-learning scores of the three CNNs and the integrated SVM model of the first study.

Deep-learning scores (:func:`deep_scores`): each CNN is trained on the lesion-ROI crops.
Training-set scores are *out-of-fold*: a stratified k-fold inside the training set, each
fold's model scoring the patients it never saw, so the SVM is not fitted on scores the CNN
has memorised.  Inside every fold a stratified share of the training patients is held out
for early stopping.  The internal and external test sets are scored once, by the mean of
the k fold models.

Integrated model (:func:`fit_integrated`): scikit-learn ``Pipeline(StandardScaler,
SVC)`` with Platt-scaled probabilities on [clinical signature, three DL scores], hyper-parameters by
cross-validated grid search (AUC) on the training set only.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from torch import nn

from ecrs_analysis.atomic import write_csv, write_json
from ecrs_analysis.hashing import hash_params
from ecrs_analysis.models import build_model
from ecrs_analysis.stats.calibration import PLATT_FOLDS
from ecrs_analysis.training import CachedVolumes, TrainConfig, class_weights, load_checkpoint, make_loader, predict_proba, seed_everything, train

__all__ = ["DeepSpec", "deep_scores", "cached_deep_scores", "fit_integrated", "IntegratedModel"]


@dataclass(frozen=True)
class DeepSpec:
    """How the CNNs are trained (the ``deep`` section of the parameters)."""

    models: tuple[str, ...] = ("resnet3d", "xception3d", "hrnet3d")
    width: float = 0.125
    folds: int = 3
    epochs: int = 3
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 5
    validation_fraction: float = 0.15

    @classmethod
    def from_dict(cls, d: dict) -> "DeepSpec":
        fields = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        if "models" in fields:
            fields["models"] = tuple(fields["models"])
        return cls(**fields)


def _fit_one(name: str, spec: DeepSpec, train_idx: np.ndarray, data: CachedVolumes, *, seed: int, ckpt: Path | None, device: str | None) -> tuple[nn.Module, pd.DataFrame]:
    if ckpt is None:  # checkpoints are how the best epoch is restored: keep them in a temporary folder
        with tempfile.TemporaryDirectory() as tmp:
            return _fit_one(name, spec, train_idx, data, seed=seed, ckpt=Path(tmp), device=device)
    labels = data.y.numpy()
    fit_idx, val_idx = train_test_split(train_idx, test_size=spec.validation_fraction, random_state=seed, stratify=labels[train_idx])
    seed_everything(seed)
    model = build_model(name, in_channels=1, num_classes=2, width=spec.width)
    sub = lambda idx: torch.utils.data.Subset(data, idx.tolist())  # noqa: E731
    tr = make_loader(sub(fit_idx), batch_size=spec.batch_size, shuffle=True, seed=seed)
    va = make_loader(sub(val_idx), batch_size=spec.batch_size, shuffle=False, seed=seed, shard=False)
    opt = torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
    cfg = TrainConfig(epochs=spec.epochs, lr=spec.lr, weight_decay=spec.weight_decay, patience=spec.patience, seed=seed, checkpoint_dir=str(ckpt))
    loss = nn.CrossEntropyLoss(weight=class_weights(labels[fit_idx]))
    history = train(model, tr, va, optimizer=opt, loss_fn=loss, config=cfg, device=device)
    if (ckpt / "best.pt").exists():  # score with the early-stopping choice, not the last epoch
        model.load_state_dict(load_checkpoint(ckpt / "best.pt")["model"])
    return model, history


def deep_scores(
    table: pd.DataFrame,
    index: pd.DataFrame,
    *,
    spec: DeepSpec,
    train_set: str,
    seed: int,
    checkpoint_root: str | os.PathLike[str] | None = None,
    device: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Out-of-fold training scores and fold-ensemble test scores of every CNN.

    Parameters
    ----------
    table : DataFrame
        Study table with ``patient_id``, ``set``, ``label``.
    index : DataFrame
        ``patient_id`` -> ``path`` of the cached model input (:func:`study.prepare_inputs`).
    spec : DeepSpec
        Models and training settings.
    train_set : str
        Name of the training set; every other set is a test set.

    Returns
    -------
    scores : DataFrame
        ``patient_id``, ``set``, ``label`` and one ``<model>`` column of P(eCRS).
    histories : DataFrame
        Per-epoch history with ``model`` and ``fold`` columns.
    """
    t = table[["patient_id", "set", "label"]].merge(index[["patient_id", "path"]], on="patient_id", how="left", validate="one_to_one")
    if t["path"].isna().any():
        raise ValueError(f"{int(t['path'].isna().sum())} patient(s) have no preprocessed volume; run study.prepare_inputs first")
    data = CachedVolumes(t["path"].tolist(), t["label"].tolist())
    is_train = (t["set"] == train_set).to_numpy()
    train_idx, test_idx = np.flatnonzero(is_train), np.flatnonzero(~is_train)
    if len(train_idx) == 0:
        raise ValueError(f"no patient in the training set {train_set!r}")
    folds = StratifiedKFold(n_splits=spec.folds, shuffle=True, random_state=seed)
    scores = t[["patient_id", "set", "label"]].copy()
    histories = []
    test_loader = make_loader(torch.utils.data.Subset(data, test_idx.tolist()), batch_size=spec.batch_size, shuffle=False, seed=seed, shard=False)
    for m_i, name in enumerate(spec.models):
        oof = np.full(len(t), np.nan)
        test_sum = np.zeros(len(test_idx))
        for k, (fit, held) in enumerate(folds.split(train_idx, t["label"].to_numpy()[train_idx])):
            ckpt = Path(checkpoint_root) / name / f"fold{k}" if checkpoint_root else None
            model, hist = _fit_one(name, spec, train_idx[fit], data, seed=seed + 1000 * m_i + k, ckpt=ckpt, device=device)
            histories.append(hist.assign(model=name, fold=k))
            held_loader = make_loader(torch.utils.data.Subset(data, train_idx[held].tolist()), batch_size=spec.batch_size, shuffle=False, seed=seed, shard=False)
            oof[train_idx[held]] = predict_proba(model, held_loader)
            if len(test_idx):
                test_sum += predict_proba(model, test_loader)
        oof[test_idx] = test_sum / spec.folds
        scores[name] = oof
    return scores, pd.concat(histories, ignore_index=True)


@dataclass(frozen=True)
class IntegratedModel:
    pipeline: Pipeline
    features: tuple[str, ...]
    best_params: dict
    cv_auc: float

    def predict(self, table: pd.DataFrame) -> np.ndarray:
        """P(eCRS) of the integrated model."""
        return self.pipeline.predict_proba(table[list(self.features)].to_numpy(dtype=float))[:, 1]


def fit_integrated(train: pd.DataFrame, features: Sequence[str], *, seed: int, folds: int = 5) -> IntegratedModel:
    """StandardScaler + SVC(probability=True), grid-searched by stratified CV AUC on the training set."""
    x, y = train[list(features)].to_numpy(dtype=float), train["label"].to_numpy()
    if not np.isfinite(x).all():
        raise ValueError(f"integrated model: non-finite values in the features {list(features)} of the training set")
    # SVC(probability=True) is deprecated since scikit-learn 1.9; its replacement is the same Platt
    # scaling on cross-validated decision values: CalibratedClassifierCV(SVC(), ensemble=False).
    svm = CalibratedClassifierCV(SVC(random_state=seed), method="sigmoid", ensemble=False, cv=StratifiedKFold(PLATT_FOLDS, shuffle=True, random_state=seed))
    pipe = Pipeline([("scale", StandardScaler()), ("svm", svm)])
    grid = [
        {"svm__estimator__kernel": ["linear"], "svm__estimator__C": [0.01, 0.1, 1.0]},
        {"svm__estimator__kernel": ["rbf"], "svm__estimator__C": [0.1, 1.0, 10.0], "svm__estimator__gamma": ["scale", 0.01, 0.1]},
    ]
    search = GridSearchCV(pipe, grid, scoring="roc_auc", cv=StratifiedKFold(folds, shuffle=True, random_state=seed), n_jobs=1)
    search.fit(x, y)
    return IntegratedModel(search.best_estimator_, tuple(features), dict(search.best_params_), float(search.best_score_))


def cached_deep_scores(
    table: pd.DataFrame, index: pd.DataFrame, *, spec: DeepSpec, train_set: str, seed: int, folder: str | os.PathLike[str], device: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """:func:`deep_scores`, reusing ``folder/scores_deep.csv`` when spec, seed, split and inputs are unchanged.

    Returns scores, histories and whether they came from the cache.
    """
    folder = Path(folder)
    key = hash_params(asdict(spec), seed, train_set, table[["patient_id", "set", "label"]].astype(str).values.tolist(), index[["patient_id", "path"]].values.tolist())
    meta, s_path, h_path = folder / "scores_deep.json", folder / "scores_deep.csv", folder / "histories_deep.csv"
    if meta.exists() and s_path.exists() and h_path.exists() and json.loads(meta.read_text(encoding="utf-8")).get("key") == key:
        return pd.read_csv(s_path, dtype={"patient_id": str}), pd.read_csv(h_path), True
    scores, hist = deep_scores(table, index, spec=spec, train_set=train_set, seed=seed, checkpoint_root=folder / "checkpoints", device=device)
    if torch.distributed.is_available() and torch.distributed.is_initialized() and torch.distributed.get_rank() != 0:
        return scores, hist, False  # one process writes
    write_csv(scores, s_path)
    write_csv(hist, h_path)
    write_json({"key": key, "spec": asdict(spec), "seed": seed}, meta)
    return scores, hist, False
