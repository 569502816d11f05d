"""MTLNet, the second study: one training job that segments the sinuses and classifies the endotype.

:func:`fit_mtlnet` is one whole job: it trains :class:`~ecrs_analysis.models.mtlnet.MTLNet`
on the set ``train`` through the one training helper (:func:`~ecrs_analysis.training.helper.train`
with a :class:`MultitaskTask`), early-stops on ``validation``, scores every patient of every
set with the best epoch and writes its artefacts into one folder, atomically::

    <out_dir>/best.pt        weights of the best validation epoch (torch.load(weights_only=True))
    <out_dir>/history.csv    per epoch: train_loss, train_seg_loss, train_cls_loss, lr, volumes_per_s,
                             seconds, val_loss, val_seg_loss, val_cls_loss, val_auc, val_dice, val_score
    <out_dir>/scores.csv     per patient: patient_id, set, label, prob, dice, hd95, surface_dice
    <out_dir>/masks.npz      predicted masks of every patient: "masks" (n, X, Y, Z) uint8, "patient_id"
    <out_dir>/job.json       settings, variant, seed, the kept epoch and its early-stopping criterion,
                             and whether the classifier learned: ``stats.learning.learning_check`` on
                             training and validation patients (scores that vary, a training loss below
                             the constant predictor's) *and* learned on held-out patients
                             (:func:`held_out_check`: the validation classification loss below the
                             best constant predictor's, or a validation AUC whose DeLong 95% CI
                             excludes 0.5)

Loss: ``BCE_cls + seg_weight · DiceCE_seg`` — MONAI ``DiceCELoss(sigmoid=True)`` on the mask and a
class-balanced ``BCEWithLogitsLoss`` (``pos_weight`` = ratio of scikit-learn's balanced class
weights of the training labels) on the endotype.  The ablation variants train the same network
with one head and that head's loss alone.  Early stopping minimises a validation loss chosen by
``mtlnet.early_stopping`` (:func:`monitor_of`): the classification loss by default, since the whole
loss is dominated by its segmentation term (see :class:`MultitaskTask` for why not the validation AUC).

Interrupted jobs resume: checkpoints live in ``.<out_dir name>.work/`` beside the output folder
until the job finishes, and a rerun with the same inputs and settings continues from them
(:mod:`ecrs_analysis.training.resume`, shared with the fold jobs).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from monai.losses import DeepSupervisionLoss, DiceCELoss

from sklearn.metrics import roc_auc_score
from sklearn.utils.class_weight import compute_class_weight
from torch import nn

from ecrs_analysis.atomic import atomic_dir, write_csv, write_json
from ecrs_analysis.data.preprocess import load_preprocessed
from ecrs_analysis.models.mtlnet import HEADS, MTLNet, filters_for_width
from ecrs_analysis.stats.delong import delong_ci
from ecrs_analysis.stats.segmentation import dice_scores, segmentation_metrics
from ecrs_analysis.stats.learning import LearningCheck, constant_loss, learning_check
from ecrs_analysis.training.helper import CachedVolumes, TrainConfig, augment, load_checkpoint, make_loader, seed_everything, train
from ecrs_analysis.training.resume import resume_key, work_dir
from ecrs_analysis.data.splits import TRAIN, VALIDATION
from ecrs_analysis.training.mtl_runs import MTLNetRun, load_job
from ecrs_analysis.training.mtl_settings import CLASSIFICATION, MULTITASK, SEGMENTATION, VARIANT_FOLDERS, MTLNetSettings, variant_of_folder
from ecrs_analysis.paths import CHECKPOINT, HISTORY, JOB_INFO, JOB_SCORES, PREDICTED_MASKS

__all__ = [
    "MTLNetSettings", "MULTITASK", "CLASSIFICATION", "SEGMENTATION", "VARIANTS", "Variant", "variants", "job_folder", "variant_of_folder", "MultitaskLoss", "MultitaskTask", "MultitaskPrediction",
    "monitor_of", "HeldOutCheck", "held_out_check", "predict_multitask", "build_mtlnet", "fit_mtlnet", "MTLNetRun", "load_job", "load_jobs", "learning_of", "held_out_of", "ablation_table", "segmentation_examples",
]

Variant = Literal["multitask", "classification", "segmentation"]


@dataclass(frozen=True)
class _VariantSpec:
    folder: str
    heads: tuple[str, ...]


_HEADS = {MULTITASK: HEADS, CLASSIFICATION: ("classification",), SEGMENTATION: ("segmentation",)}
VARIANTS: dict[str, _VariantSpec] = {v: _VariantSpec(folder, _HEADS[v]) for v, folder in VARIANT_FOLDERS.items()}
"""Variant -> output folder (under ``results/<profile>/mtlnet2025/``) and the heads it trains."""


def _settings(settings: MTLNetSettings | Mapping[str, Any]) -> MTLNetSettings:
    return settings if isinstance(settings, MTLNetSettings) else MTLNetSettings.model_validate(dict(settings))


def variants(settings: MTLNetSettings | Mapping[str, Any]) -> tuple[str, ...]:
    """The variants a profile trains: the multitask network, plus the two ablations when ``ablation`` is on."""
    return tuple(VARIANTS) if _settings(settings).ablation else (MULTITASK,)


def job_folder(study_dir: str | os.PathLike[str], variant: str) -> Path:
    """Output folder of a variant's job: ``<study_dir>/mtlnet``, ``mtlnet_cls`` or ``mtlnet_seg``."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown MTLNet variant {variant!r}; valid: {', '.join(VARIANTS)}")
    return Path(study_dir) / VARIANTS[variant].folder


class MultitaskLoss(nn.Module):
    """``BCE_cls + seg_weight · DiceCE_seg`` (one head: that head's loss alone).

    Parameters
    ----------
    pos_weight : float
        Weight of the positive class in the BCE (class balance of the training labels).
    seg_weight : float
        Weight of the segmentation loss in the multitask sum.
    heads : sequence of str
        The heads the network has.
    deep_supervision : bool
        The network returns a list of segmentation logits (MONAI ``DeepSupervisionLoss``,
        weights 1, ½, ¼ ...).
    """

    def __init__(self, *, pos_weight: float, seg_weight: float = 1.0, heads: Sequence[str] = HEADS, deep_supervision: bool = False) -> None:
        super().__init__()
        self.heads, self.seg_weight = tuple(heads), float(seg_weight)
        dice_ce = DiceCELoss(sigmoid=True)
        self.seg_loss = DeepSupervisionLoss(dice_ce) if deep_supervision else dice_ce
        self.cls_loss = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([float(pos_weight)]))

    def forward(self, seg_logits: Any, class_logits: torch.Tensor | None, mask: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        parts: dict[str, torch.Tensor] = {}
        if "segmentation" in self.heads:
            seg = [s.float() for s in seg_logits] if isinstance(seg_logits, (list, tuple)) else seg_logits.float()
            parts["seg_loss"] = self.seg_loss(seg, mask.float())
        if "classification" in self.heads:
            assert class_logits is not None
            parts["cls_loss"] = self.cls_loss(class_logits.float()[:, 0], label.float())
        if len(parts) == 2:
            return parts["cls_loss"] + self.seg_weight * parts["seg_loss"], parts
        return next(iter(parts.values())), parts


@dataclass(frozen=True)
class MultitaskPrediction:
    """Network outputs for the patients of a loader, in loader order."""

    prob: np.ndarray | None
    """P(eosinophilic) per patient (None without a classification head)."""
    masks: np.ndarray | None
    """Predicted binary masks (n, X, Y, Z) uint8: sigmoid > 0.5 (None without a segmentation head)."""
    labels: np.ndarray
    truth: np.ndarray
    losses: dict[str, float]
    """Mean loss and loss parts per patient (empty without a loss)."""


@torch.no_grad()
def predict_multitask(model: nn.Module, loader: torch.utils.data.DataLoader, *, device: torch.device | str | None = None, loss: MultitaskLoss | None = None) -> MultitaskPrediction:
    """Run the network over a loader of ``(image, mask, label)``; thresholds the segmentation at sigmoid 0.5."""
    device = torch.device(device) if device else next(model.parameters()).device
    model.eval()
    probs, masks, labels, truth, seen = [], [], [], [], 0
    sums: dict[str, float] = {}
    for x, m, y in loader:
        x = x.to(device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            seg, cls = model(x)
        if cls is not None:
            probs.append(torch.sigmoid(cls.float()[:, 0]).cpu())
        if seg is not None:
            masks.append((seg.float()[:, 0] > 0).to(torch.uint8).cpu())  # logit > 0  <=>  sigmoid > 0.5
        if loss is not None:
            total, parts = loss(seg, cls, m.to(device), y.to(device))
            for k, v in {"loss": total, **parts}.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(y)
        labels.append(y)
        truth.append(m[:, 0])
        seen += len(y)
    return MultitaskPrediction(
        prob=torch.cat(probs).numpy().astype(np.float64) if probs else None,
        masks=torch.cat(masks).numpy() if masks else None,
        labels=torch.cat(labels).numpy(),
        truth=torch.cat(truth).numpy(),
        losses={k: v / max(seen, 1) for k, v in sums.items()},
    )


class MultitaskTask(nn.Module):
    """MTLNet's task for :func:`~ecrs_analysis.training.helper.train`.

    Batches are ``(image, mask, label)``; augmentation flips image and mask together.
    Validation metrics: ``val_loss``, ``val_seg_loss``, ``val_cls_loss``, ``val_auc``,
    ``val_dice`` (mean over patients with a non-empty mask) and ``val_score`` (the mean of
    AUC and Dice, or the one of them a single-head variant has).

    Early stopping minimises :attr:`monitor` (``val_cls_loss`` or ``val_loss``: :func:`monitor_of`).  Not
    the AUC: on 41 validation patients an AUC moves by ±0.1 from epoch to epoch by chance, so
    the epoch it picks is picked by noise (seen on the demo: 0.29 → 0.67 → 0.70 → 0.51 → 0.39
    for a network whose scores did not vary); a loss averages over every patient and voxel
    and changes smoothly.
    """

    monitor = "val_loss"
    maximise = False

    def __init__(self, loss: MultitaskLoss, *, bn_loader: torch.utils.data.DataLoader | None = None, monitor: str = "val_loss") -> None:
        super().__init__()
        self.monitor = monitor
        self.loss_fn = loss
        self.bn_loader = bn_loader

    def augment(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        x, m, y = batch
        return (*augment(x, m), y)

    def loss(self, outputs: tuple[Any, torch.Tensor | None], batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        seg, cls = outputs
        return self.loss_fn(seg, cls, batch[1], batch[2])

    def validate(self, model: nn.Module, loader: torch.utils.data.DataLoader, *, device: torch.device) -> dict[str, float]:
        if self.bn_loader is not None and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
            # The classifier's batch norm (models.mtlnet.PooledNorm) keeps running statistics of features that
            # move quickly while the encoder learns: lagging, they shift every validation probability (seen: a
            # validation BCE of 2.2 at an AUC of 0.79).  Recompute them on the (unaugmented) training images
            # first, with torch's SWA utility, so validation and the saved checkpoint use exact statistics.
            with torch.no_grad():
                torch.optim.swa_utils.update_bn(self.bn_loader, model, device=device)
        p = predict_multitask(model, loader, device=device, loss=self.loss_fn)
        out = {f"val_{k}": v for k, v in p.losses.items()}
        parts = []
        if p.prob is not None:
            out["val_auc"] = float(roc_auc_score(p.labels, p.prob)) if len(np.unique(p.labels)) == 2 else float("nan")
            parts.append(out["val_auc"])
        if p.masks is not None:
            d = dice_scores(p.masks, p.truth)
            out["val_dice"] = float(np.nanmean(d)) if np.isfinite(d).any() else float("nan")
            parts.append(out["val_dice"])
        out["val_score"] = float(np.mean(parts))
        return out


def monitor_of(settings: MTLNetSettings | Mapping[str, Any], variant: str) -> str:
    """The validation metric whose lowest value keeps an epoch: ``val_cls_loss`` when ``early_stopping`` is
    ``classification_loss`` and the variant classifies, else ``val_loss`` (the segmentation-only ablation's is its Dice-CE)."""
    s = _settings(settings)
    if variant not in VARIANTS:
        raise ValueError(f"unknown MTLNet variant {variant!r}; valid: {', '.join(VARIANTS)}")
    return "val_cls_loss" if s.early_stopping == "classification_loss" and "classification" in VARIANTS[variant].heads else "val_loss"


@dataclass(frozen=True)
class HeldOutCheck:
    """Did the classifier learn on held-out (validation) patients?"""

    learned: bool
    validation_loss: float
    """Class-balanced BCE of the kept network on the validation patients."""
    constant_validation_loss: float
    """The same loss of the best constant predictor of the validation labels (``stats.learning.constant_loss``)."""
    auc: float
    auc_low: float
    auc_high: float
    """Validation AUC and its DeLong 95% CI."""
    reason: str


def held_out_check(labels: np.ndarray, prob: np.ndarray, *, validation_loss: float, pos_weight: float) -> HeldOutCheck:
    """Learned on held-out patients: the validation classification loss below the best constant predictor's,
    or a validation AUC whose DeLong 95% CI excludes 0.5.

    The constant is the best one *for the validation labels* (a stricter reference than the training
    prevalence), with the training loss's class weights (``BCEWithLogitsLoss(pos_weight)``: a mean over patients).
    """
    y = np.asarray(labels).astype(int)
    const = constant_loss(y, class_weights=(1.0, pos_weight), weighted_mean=False)
    if np.unique(y).size == 2:
        d = delong_ci(y, np.asarray(prob, dtype=float), name="validation probabilities")
        auc, low, high = d.auc, d.ci_low, d.ci_high
    else:
        auc = low = high = float("nan")
    by_loss = bool(validation_loss < const)
    by_auc = bool(low > 0.5)
    reason = "" if by_loss or by_auc else (
        f"on validation patients its classification loss is not below the constant predictor's ({validation_loss:.3f} ≥ {const:.3f}) "
        f"and its AUC's 95% CI includes 0.5 ({auc:.3f}, {low:.3f}–{high:.3f})")
    return HeldOutCheck(by_loss or by_auc, float(validation_loss), float(const), float(auc), float(low), float(high), reason)


def build_mtlnet(settings: MTLNetSettings | Mapping[str, Any], *, variant: str = MULTITASK) -> MTLNet:
    """The network of a variant at the settings' width."""
    s = _settings(settings)
    if variant not in VARIANTS:
        raise ValueError(f"unknown MTLNet variant {variant!r}; valid: {', '.join(VARIANTS)}")
    return MTLNet(1, 1, init_filters=filters_for_width(s.width), deep_supervision=s.deep_supervision, heads=VARIANTS[variant].heads)


def _job_table(table: pd.DataFrame, index: pd.DataFrame, sets: tuple[str, str]) -> pd.DataFrame:
    missing = [c for c in ("patient_id", "set", "label") if c not in table]
    if missing:
        raise ValueError(f"fit_mtlnet: the study table lacks column(s) {missing}; it needs patient_id, set, label")
    if "path" not in index or "patient_id" not in index:
        raise ValueError("fit_mtlnet: the index needs columns patient_id and path (the preprocessed.csv of the study)")
    t = table[["patient_id", "set", "label"]].merge(index[["patient_id", "path"]], on="patient_id", how="left", validate="one_to_one")
    lost = t.loc[t["path"].isna(), "patient_id"].tolist()
    if lost:
        raise ValueError(f"fit_mtlnet: {len(lost)} patient(s) have no preprocessed volume (e.g. {lost[:3]}); run study.prepare_inputs first")
    for name in sets:
        if not (t["set"] == name).any():
            raise ValueError(f"fit_mtlnet: no patient in the set {name!r}; sets present: {sorted(t['set'].dropna().unique())}")
    return t.reset_index(drop=True)


def _spacing(paths: Sequence[str]) -> np.ndarray:
    out = []
    for p in paths:
        with np.load(p) as z:
            if "spacing_mm" not in z.files:
                raise KeyError(f"{p}: no spacing_mm (preprocessed before version 2); delete the preprocessing cache and rerun")
            out.append(z["spacing_mm"])
    return np.stack(out).astype(float)


def _pos_weight(labels: np.ndarray) -> float:
    present = np.unique(labels)
    if not np.array_equal(present, [0, 1]):
        raise ValueError(f"fit_mtlnet: the training set needs both endotypes for the class-balanced loss; labels present: {present.tolist()}")
    w = compute_class_weight("balanced", classes=np.array([0, 1]), y=labels)
    return float(w[1] / w[0])


def _check_input_size(shape: tuple[int, ...], model: MTLNet) -> None:
    step = 2 ** (model.levels - 1)
    if any(s % step for s in shape):
        raise ValueError(f"MTLNet needs an input size divisible by {step} per axis; the preprocessed volumes are {list(shape)}. Change preprocess.input_size")


def fit_mtlnet(
    table: pd.DataFrame,
    index: pd.DataFrame,
    *,
    settings: MTLNetSettings | Mapping[str, Any],
    seed: int,
    out_dir: str | os.PathLike[str],
    device: str | torch.device | None = None,
    variant: str = MULTITASK,
    train_set: str = TRAIN,
    validation_set: str = VALIDATION,
) -> MTLNetRun:
    """Train one MTLNet variant, score every patient and write the job's artefacts (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        ``patient_id``, ``set`` (``train``, ``validation`` and any test sets, e.g. ``external``), ``label``.
    index : DataFrame
        ``patient_id`` -> ``path`` of the preprocessed ``.npz`` (with ``image``, the mask and ``spacing_mm``).
    settings : MTLNetSettings or mapping
        The ``mtlnet`` section of the parameters.
    seed : int
        Seeds weights, batch order and augmentation.
    out_dir : path
        The job's folder; replaced whole when the job succeeds.
    device : optional
        Default: CUDA if available, else CPU.
    variant : {"multitask", "classification", "segmentation"}
        The network and loss (the latter two are the ablation).
    train_set, validation_set : str
        The set it trains on and the one that chooses its epoch (``Split.train_name``, ``Split.validation_name``).

    Returns
    -------
    MTLNetRun
        Folder, history, per-patient scores and job information.
    """
    s = _settings(settings)
    if variant not in VARIANTS:
        raise ValueError(f"unknown MTLNet variant {variant!r}; valid: {', '.join(VARIANTS)}")
    out = Path(out_dir)
    t = _job_table(table, index, (train_set, validation_set))
    data = CachedVolumes(t["path"].tolist(), t["label"].astype(int).tolist(), keys=("image", s.mask))
    spacing = _spacing(t["path"].tolist())
    train_idx = np.flatnonzero(t["set"].to_numpy() == train_set)
    val_idx = np.flatnonzero(t["set"].to_numpy() == validation_set)
    labels = t["label"].to_numpy().astype(int)

    seed_everything(seed)
    model = build_mtlnet(s, variant=variant)
    _check_input_size(tuple(data.x.shape[2:]), model)
    heads = VARIANTS[variant].heads
    loss = MultitaskLoss(pos_weight=_pos_weight(labels[train_idx]), seg_weight=s.seg_weight, heads=heads, deep_supervision=s.deep_supervision)
    sub = lambda idx: torch.utils.data.Subset(data, idx.tolist())  # noqa: E731
    train_loader = make_loader(sub(train_idx), batch_size=s.batch_size, shuffle=True, seed=seed)
    val_loader = make_loader(sub(val_idx), batch_size=s.batch_size, shuffle=False, seed=seed, shard=False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=s.lr, weight_decay=s.weight_decay)

    key = resume_key(s.model_dump(), seed, variant, t[["patient_id", "set", "label", "path"]].astype(str).values.tolist(), files=t["path"])
    work = work_dir(out, key)
    rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    config = TrainConfig(
        epochs=s.epochs, lr=s.lr, weight_decay=s.weight_decay, warmup_epochs=s.warmup_epochs, patience=s.patience, seed=seed, augment=s.augment, checkpoint_dir=str(work)
    )
    bn_loader = make_loader(sub(train_idx), batch_size=s.batch_size, shuffle=False, seed=seed, shard=False)
    monitor = monitor_of(s, variant)
    history = train(model, train_loader, val_loader, optimizer=optimizer, task=MultitaskTask(loss, bn_loader=bn_loader, monitor=monitor), config=config, device=device, resume=True)
    best = load_checkpoint(work / CHECKPOINT) if (work / CHECKPOINT).exists() else None
    if best is not None:  # score with the early-stopping choice, not the last epoch
        model.load_state_dict(best["model"])

    everyone = make_loader(data, batch_size=s.batch_size, shuffle=False, seed=seed, shard=False)
    pred = predict_multitask(model, everyone)
    scores = t[["patient_id", "set", "label"]].copy()
    scores["prob"] = pred.prob if pred.prob is not None else np.nan
    if pred.masks is not None:
        metrics = segmentation_metrics(pred.masks, pred.truth, spacing=spacing, tolerance_mm=s.surface_tolerance_mm)
        for col in ("dice", "hd95", "surface_dice"):
            scores[col] = metrics[col].to_numpy()
    else:
        scores[["dice", "hd95", "surface_dice"]] = np.nan
    learning = None
    if pred.prob is not None:  # did the classifier learn? judged on training and validation patients only
        seen = np.concatenate([train_idx, val_idx])
        w = _pos_weight(labels[train_idx])
        check = learning_check(
            pred.prob[seen], train_losses=history.get("train_cls_loss", history["train_loss"]),
            constant_train_loss=constant_loss(labels[train_idx], class_weights=(1.0, w), weighted_mean=False),
        )
        # ... and on held-out patients: the kept network's validation loss (its batch-norm statistics are the
        # ones saved with it, recomputed on the training images) against the best constant's
        val_pred = predict_multitask(model, val_loader, loss=loss)
        held = held_out_check(labels[val_idx], pred.prob[val_idx], validation_loss=val_pred.losses["cls_loss"], pos_weight=w)
        learning = {"learned": check.learned and held.learned, "reason": "; ".join(r for r in (check.reason, held.reason) if r),
                    "learned_in_training": check.learned, "score_sd": check.score_sd,
                    "best_train_cls_loss": check.best_train_loss, "constant_train_cls_loss": check.constant_train_loss,
                    "learned_on_validation": held.learned, "validation_cls_loss": held.validation_loss,
                    "constant_validation_cls_loss": held.constant_validation_loss,
                    "validation_auc": held.auc, "validation_auc_low": held.auc_low, "validation_auc_high": held.auc_high}
    info = {
        "variant": variant,
        "learning": learning,
        "heads": list(heads),
        "seed": seed,
        "settings": s.model_dump(),
        "monitor": monitor,
        "early_stopping": s.early_stopping,
        "best_epoch": int(best["epoch"]) + 1 if best is not None else None,
        "best_score": float(best[monitor]) if best is not None else None,
        "epochs_run": len(history),
        "parameters": sum(p.numel() for p in model.parameters()),
        "input_size": list(data.x.shape[2:]),
        "segmentation_target": s.mask,
    }
    if rank == 0:
        with atomic_dir(out) as tmp:
            if best is not None:
                shutil.copyfile(work / CHECKPOINT, tmp / CHECKPOINT)
            write_csv(history, tmp / HISTORY)
            write_csv(scores, tmp / JOB_SCORES)
            if pred.masks is not None:
                np.savez_compressed(tmp / PREDICTED_MASKS, masks=pred.masks, patient_id=t["patient_id"].to_numpy(dtype=str))
            write_json(info, tmp / JOB_INFO)
        shutil.rmtree(work, ignore_errors=True)
    return MTLNetRun(out, history, scores, info)


def learning_of(run: MTLNetRun) -> LearningCheck | None:
    """The did-it-learn verdict a job recorded for its classifier (None for a segmentation-only job).

    ``learned`` is the whole verdict: in training and on the held-out validation patients (:func:`held_out_check`).
    """
    rec = run.info.get("learning")
    if rec is None:
        return None
    return LearningCheck(learned=bool(rec["learned"]), reason=str(rec["reason"]), score_sd=float(rec["score_sd"]),
                         best_train_loss=float(rec["best_train_cls_loss"]), constant_train_loss=float(rec["constant_train_cls_loss"]))


def held_out_of(run: MTLNetRun) -> HeldOutCheck | None:
    """The held-out check a job recorded (None for a segmentation-only job, or a job written before it existed)."""
    rec = run.info.get("learning")
    if rec is None or "learned_on_validation" not in rec:
        return None
    return HeldOutCheck(bool(rec["learned_on_validation"]), float(rec["validation_cls_loss"]), float(rec["constant_validation_cls_loss"]),
                        float(rec["validation_auc"]), float(rec["validation_auc_low"]), float(rec["validation_auc_high"]),
                        "" if rec["learned_on_validation"] else str(rec["reason"]))


def load_jobs(study_dir: str | os.PathLike[str], settings: MTLNetSettings | Mapping[str, Any]) -> dict[str, MTLNetRun]:
    """Every finished job of a profile: the multitask network and, with ``ablation``, the two single-head variants."""
    return {v: load_job(job_folder(study_dir, v)) for v in variants(settings)}


def ablation_table(runs: Mapping[str, MTLNetRun], *, sets: Sequence[str], n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """AUC and mean Dice (bootstrap 95% CIs) of each variant on each set: does sharing one network help either task?"""
    from ecrs_analysis.stats.evaluate import headline_metrics  # lazy: loads statsmodels

    rows = []
    for variant, run in runs.items():
        h = headline_metrics(run.scores, threshold_set=TRAIN, sets=sets, n_resamples=n_resamples, seed=seed)
        for (set_name, metric), r in h.iterrows():
            if metric in ("AUC", "Dice"):
                rows.append({"set": set_name, "variant": variant, "metric": metric, "value": r["value"], "CI": f"{r['CI low']:.3f}–{r['CI high']:.3f}"})
    long = pd.DataFrame(rows)
    wide = long.pivot_table(index=["set", "variant"], columns="metric", values=["value", "CI"], aggfunc="first", sort=False)
    wide.columns = [f"{m}" if k == "value" else f"{m} 95% CI" for k, m in wide.columns]
    order = [c for c in ("AUC", "AUC 95% CI", "Dice", "Dice 95% CI") if c in wide.columns]
    return wide[order]


def segmentation_examples(run: MTLNetRun, index: pd.DataFrame, *, set_name: str) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Best, median and worst Dice patient of a set: image, ground truth, prediction and voxel size.

    Titled by rank and Dice, never by patient id.  Returns ``[(title, {"image", "truth",
    "prediction", "spacing_mm"}), ...]`` with 3-D arrays (X, Y, Z), RAS.
    """
    if not (run.folder / PREDICTED_MASKS).exists():
        raise FileNotFoundError(f"{run.folder}: no {PREDICTED_MASKS} (a classification-only job has no segmentation)")
    part = run.scores[(run.scores["set"] == set_name) & run.scores["dice"].notna()].sort_values("dice", kind="stable")
    if part.empty:
        raise ValueError(f"no patient with a defined Dice in the set {set_name!r}")
    picks = {"worst": part.iloc[0], "median": part.iloc[(len(part) - 1) // 2], "best": part.iloc[-1]}
    with np.load(run.folder / PREDICTED_MASKS) as z:
        where = {pid: i for i, pid in enumerate(z["patient_id"].tolist())}
        masks = z["masks"]
        paths = index.set_index("patient_id")["path"]
        key = run.info.get("segmentation_target", "sinus_mask")
        cases = []
        for rank in ("best", "median", "worst"):
            row = picks[rank]
            arrays = load_preprocessed(paths[row["patient_id"]])
            cases.append((
                f"{rank} Dice {row['dice']:.3f} ({set_name})",
                {"image": arrays["image"][0], "truth": arrays[key][0], "prediction": masks[where[row["patient_id"]]], "spacing_mm": arrays["spacing_mm"]},
            ))
    return cases
