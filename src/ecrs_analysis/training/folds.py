"""One training job per (study, model, fold), and the deep-learning score table made from them.

The first study's CNN scores come from k models per network, like nnU-Net's
``nnUNetv2_train DATASET CONFIG FOLD``:

- :func:`assign_folds` (in :mod:`.fold_assignment`, which needs no torch) splits the training set into k stratified folds and also gives every
  test patient one fold (stratified), written once as ``folds.csv``;
- :func:`train_fold` trains one network on the training patients outside fold k (a
  stratified validation share of them drives early stopping) and scores the held-out
  training patients of fold k (*out-of-fold*) and every test patient;
- :func:`collect_deep_scores` (also in :mod:`.fold_assignment`) assembles one score per patient and network.

Training and test scores come from the same kind of model: by default
(``test_scoring="single"``) a test patient is scored by the one fold model its fold
assignment names, exactly as a training patient is scored by the one model that did not
see it, so the integrated SVM, its threshold and its Platt probabilities mean the same on
every set. ``"ensemble"`` (the mean of the k models, narrower in distribution) is kept as
an option for comparison.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from ecrs_analysis.atomic import atomic_dir, write_csv
from ecrs_analysis.models import build_model
from ecrs_analysis.training.fold_assignment import fold_seed
from ecrs_analysis.training.helper import CachedVolumes, TrainConfig, class_weights, load_checkpoint, make_loader, predict_proba, seed_everything, train
from ecrs_analysis.training.resume import resume_key, work_dir
from ecrs_analysis.data.splits import TRAIN
from ecrs_analysis.paths import CHECKPOINT, HISTORY, JOB_SCORES, LAST_CHECKPOINT

__all__ = ["DeepSpec", "train_fold", "fit_network"]


class DeepSpec(Protocol):
    """How the CNNs are trained: the part of the ``deep`` section a training job declared
    (``training.settings.DeepSettings``; the workflow hands over ``ecrs_analysis.config.declared``'s model).

    No values of its own: every one comes from the schema through the job's declared parameters.
    """

    width: float
    folds: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    patience: int
    validation_fraction: float

    def model_dump(self, *, mode: str = ...) -> dict[str, Any]: ...


def fit_network(
    name: str, spec: DeepSpec, fit_idx: np.ndarray, data: CachedVolumes, *, seed: int, checkpoint_dir: Path, device: str | None = None, resume: bool = False
) -> tuple[nn.Module, pd.DataFrame]:
    """Train one network on ``fit_idx`` (a stratified share held out for early stopping); best epoch restored.

    With ``resume``, training continues from ``checkpoint_dir/last.pt`` when an earlier attempt left one.
    """
    labels = data.y.numpy()
    tr_idx, val_idx = train_test_split(fit_idx, test_size=spec.validation_fraction, random_state=seed, stratify=labels[fit_idx])
    seed_everything(seed)
    model = build_model(name, in_channels=1, num_classes=2, width=spec.width)
    sub = lambda idx: torch.utils.data.Subset(data, np.asarray(idx).tolist())  # noqa: E731
    tr = make_loader(sub(tr_idx), batch_size=spec.batch_size, shuffle=True, seed=seed)
    va = make_loader(sub(val_idx), batch_size=spec.batch_size, shuffle=False, seed=seed, shard=False)
    opt = torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
    # One warm-up epoch and augmentation are fixed for the CNNs (the deep section has no key for them; the training helper had them as defaults).
    cfg = TrainConfig(epochs=spec.epochs, lr=spec.lr, weight_decay=spec.weight_decay, warmup_epochs=1, patience=spec.patience, seed=seed, augment=True,
                      checkpoint_dir=str(checkpoint_dir))
    loss = nn.CrossEntropyLoss(weight=class_weights(labels[tr_idx]))
    history = train(model, tr, va, optimizer=opt, loss_fn=loss, config=cfg, device=device, resume=resume)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()  # rank 0 has written best.pt before anyone reads it
    if (checkpoint_dir / CHECKPOINT).exists():  # score with the early-stopping choice, not the last epoch
        model.load_state_dict(load_checkpoint(checkpoint_dir / CHECKPOINT)["model"])
    return model, history


def train_fold(
    folds: pd.DataFrame,
    index: pd.DataFrame,
    *,
    model: str,
    fold: int,
    spec: DeepSpec,
    seed: int,
    out_dir: str | os.PathLike[str],
    train_set: str = TRAIN,
    device: str | None = None,
) -> pd.DataFrame:
    """Train ``model`` on the training folds other than ``fold``; write its artefacts into ``out_dir``.

    Parameters
    ----------
    folds : DataFrame
        :func:`assign_folds` output (``patient_id, set, label, fold``).
    index : DataFrame
        ``patient_id`` -> ``path`` of the preprocessed volume.

    Returns
    -------
    DataFrame
        The scores written to ``out_dir/scores.csv``: ``patient_id, set, label, fold, role, prob``
        with ``role`` ``oof`` (held-out training patient) or ``test``.

    Notes
    -----
    ``out_dir`` receives ``best.pt``, ``last.pt``, ``history.csv`` and ``scores.csv``
    together, or nothing: the job writes into a temporary folder that replaces ``out_dir``
    only when it finishes. A job killed mid-way (preempted, out of memory, rebooted) resumes
    from its last epoch: the epoch checkpoints live in ``.fold<k>.work/`` beside ``out_dir``
    (:func:`ecrs_analysis.training.resume.work_dir`), outside the job's outputs, and go once
    the job is complete; the resumed model equals an uninterrupted one.
    """
    t = folds.merge(index[["patient_id", "path"]], on="patient_id", how="left", validate="one_to_one")
    if t["path"].isna().any():
        raise ValueError(f"{int(t['path'].isna().sum())} patient(s) have no preprocessed volume; run the preprocessing stage first")
    if not 0 <= fold < spec.folds:
        raise ValueError(f"fold {fold} does not exist: deep.folds is {spec.folds} (folds 0..{spec.folds - 1})")
    data = CachedVolumes(t["path"].tolist(), t["label"].tolist())
    is_train = (t["set"] == train_set).to_numpy()
    fit_idx = np.flatnonzero(is_train & (t["fold"] != fold).to_numpy())
    held_idx = np.flatnonzero(is_train & (t["fold"] == fold).to_numpy())
    test_idx = np.flatnonzero(~is_train)
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    rank = torch.distributed.get_rank() if distributed else 0
    key = resume_key(model, fold, seed, {k: v for k, v in spec.model_dump(mode="json").items() if k != "models"}, t[["patient_id", "set", "label", "fold"]].astype(str).values.tolist(), files=t["path"])
    work = work_dir(out_dir, key)
    # one process (rank 0 under torchrun) writes the job's folder; the others work in scratch space
    with tempfile.TemporaryDirectory() as scratch, (atomic_dir(out_dir) if rank == 0 else contextlib.nullcontext(scratch)) as tmp:
        ckpt = Path(tmp)
        net, history = fit_network(model, spec, fit_idx, data, seed=fold_seed(seed, model, fold), checkpoint_dir=work, device=device, resume=True)
        rows = []
        for role, idx in (("oof", held_idx), ("test", test_idx)):
            if len(idx) == 0:
                continue
            loader = make_loader(torch.utils.data.Subset(data, idx.tolist()), batch_size=spec.batch_size, shuffle=False, seed=seed, shard=False)
            rows.append(t.iloc[idx][["patient_id", "set", "label", "fold"]].assign(role=role, prob=predict_proba(net, loader)))
        scores = pd.concat(rows, ignore_index=True)
        if rank == 0:
            for name in (CHECKPOINT, LAST_CHECKPOINT):
                if (work / name).exists():
                    shutil.copyfile(work / name, ckpt / name)
            write_csv(scores, ckpt / JOB_SCORES)
            write_csv(history, ckpt / HISTORY)
    if rank == 0:
        shutil.rmtree(work, ignore_errors=True)
    return scores
