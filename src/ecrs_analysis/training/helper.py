"""The training helper: one function that trains a network from ready objects and returns its history.

``train(model, train_loader, val_loader, optimizer=..., task=..., config=...)``

What is trained is described by a *task* (:class:`Task`): how a batch is augmented, the loss
of the network's outputs, and the validation metrics with the one that early stopping
maximises.  :class:`ClassificationTask` (the default, built from ``loss_fn``) trains the
first study's classifiers; :class:`ecrs_analysis.training.mtl.MultitaskTask` trains MTLNet
(segmentation + classification) through the same loop.

- device: CUDA when present (bf16 autocast, optional ``torch.compile``), else CPU;
  ``channels_last_3d`` memory format on both (oneDNN's 3D convolutions are faster in it on CPU
  too; ``benchmarks/bench_training.py`` measures the training step with it against a plain baseline);
- cosine learning rate with linear warm-up (per step, MONAI ``WarmupCosineSchedule``),
  gradient clipping;
- batch augmentation on the training device (random left-right flips, the same for image and masks;
  intensity scale/shift and noise on the image);
- early stopping on the task's validation metric; ``best.pt`` and ``last.pt`` written
  atomically, read back with ``torch.load(weights_only=True)``;
- resume: the last checkpoint holds model, optimiser, scheduler, epoch and every RNG state,
  so an interrupted and resumed run ends with the same weights as an uninterrupted one;
- multi-GPU: under ``torchrun`` (``torch.distributed`` initialised) the model is wrapped in
  DistributedDataParallel and the loaders from :func:`make_loader` shard the data;
- per-epoch metrics (losses, validation metrics, learning rate, throughput) to CSV and a tqdm bar.

The loop is written out here rather than taken from MONAI's ``SupervisedTrainer`` (Ignite)
because resume-equals-uninterrupted and the bf16/channels-last switches are easier to
guarantee and test in ~200 plain lines.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from monai.optimizers import WarmupCosineSchedule
from monai.utils import set_determinism
from sklearn.metrics import roc_auc_score
from sklearn.utils.class_weight import compute_class_weight
from torch import nn
from torch.utils.data import Dataset, DistributedSampler

from ecrs_analysis.atomic import atomic_path, write_csv
from ecrs_analysis.data.preprocess import load_preprocessed
from ecrs_analysis.paths import CHECKPOINT, HISTORY, LAST_CHECKPOINT

_log = logging.getLogger(__name__)

__all__ = [
    "TrainConfig", "Task", "ClassificationTask", "CachedVolumes", "make_loader", "class_weights", "seed_everything", "augment", "LEFT_RIGHT_AXIS", "train",
    "predict_proba", "load_checkpoint", "epoch_line",
]


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Settings of one training run, keyword-only.

    What a study's parameters set (epochs, learning rate, weight decay, warm-up, patience,
    seed, augmentation) has no value here: the caller passes it from the schema's models
    (``deep``, ``mtlnet``); the engine's own switches keep theirs.
    """

    epochs: int
    lr: float
    weight_decay: float
    warmup_epochs: int
    patience: int
    seed: int
    augment: bool
    grad_clip: float = 1.0
    amp: bool = True
    channels_last: bool = True
    compile: bool = False
    checkpoint_dir: str | None = None
    progress: bool = False


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA) and make cuDNN deterministic (MONAI ``set_determinism``)."""
    set_determinism(seed=int(seed))


class CachedVolumes(Dataset):
    """All preprocessed volumes of a set held in memory (like MONAI's ``CacheDataset``).

    Items are ``(arrays[keys[0]], arrays[keys[1]], ..., label)``: ``keys=("image",)`` gives
    ``(image, label)`` for a classifier, ``keys=("image", "sinus_mask")`` gives
    ``(image, mask, label)`` for MTLNet.  Images are float32, masks stay uint8 (4x less memory).
    """

    def __init__(self, paths: Sequence[str], labels: Sequence[int], *, keys: Sequence[str] = ("image",)) -> None:
        loaded = [load_preprocessed(p) for p in paths]
        for path, arrays in zip(paths, loaded):
            missing = [k for k in keys if k not in arrays]
            if missing:
                raise KeyError(f"{path}: no array {missing} in the preprocessed file (it has {sorted(arrays)}); preprocess with these mask columns")
        self.arrays = [torch.from_numpy(np.stack([a[k] for a in loaded]).astype(np.float32 if k == "image" else np.uint8)) for k in keys]
        self.y = torch.as_tensor(np.asarray(labels), dtype=torch.long)

    @property
    def x(self) -> torch.Tensor:
        """The images (N, 1, X, Y, Z)."""
        return self.arrays[0]

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        return (*(a[i] for a in self.arrays), self.y[i])


def make_loader(dataset: Dataset, *, batch_size: int, shuffle: bool, seed: int, shard: bool = True) -> torch.utils.data.DataLoader:
    """A loader over in-memory volumes, with torch's ``DistributedSampler``.

    The sampler shuffles with a seed derived from (seed, epoch) (``train`` calls its
    ``set_epoch``), so the order of epoch k never depends on history.  With ``shard``
    (training loaders) the data are split between processes when ``torch.distributed`` is
    initialised; otherwise, and for evaluation loaders (``shard=False``, every process scores
    every patient), the sampler has one replica.
    """
    distributed = shard and dist.is_available() and dist.is_initialized()
    replicas = {} if distributed else {"num_replicas": 1, "rank": 0}
    sampler: DistributedSampler[Any] = DistributedSampler(dataset, shuffle=shuffle, seed=seed, drop_last=False, **replicas)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=0)


def class_weights(labels: Sequence[int]) -> torch.Tensor:
    """Inverse-frequency ("balanced") class weights n / (2 n_c) of binary labels (scikit-learn)."""
    y = np.asarray(labels)
    present = np.unique(y)
    if not np.array_equal(present, [0, 1]):
        counts = np.bincount(y.astype(int), minlength=2).tolist() if y.size else [0, 0]
        raise ValueError(f"class_weights: a class is missing from the training labels (counts of 0 and 1: {counts}; values {present.tolist()})")
    return torch.as_tensor(compute_class_weight("balanced", classes=np.array([0, 1]), y=y), dtype=torch.float32)


LEFT_RIGHT_AXIS = 2
"""Tensor axis of left-right in a batch (B, C, X, Y, Z): the preprocessed volumes are RAS, so x runs right to left."""


def augment(x: torch.Tensor, *masks: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Random left-right flip, intensity scale (±10%) and shift (±0.05), Gaussian noise (sd 0.02), per sample.

    Only the left-right axis is flipped: a head is (nearly) mirror-symmetric, but flipping it
    upside down or front to back would swap the frontal and ethmoid sinuses with the maxillary
    and sphenoid ones, erasing the position of the disease, which is what separates the
    endotypes on CT.  ``masks`` (segmentation targets) get exactly the image's flip and
    nothing else.  Runs on whatever device ``x`` is on and draws from torch's global RNG
    (restored on resume).

    Returns
    -------
    tuple of Tensor
        The augmented image followed by the masks.
    """
    if x.ndim != 5:
        raise ValueError(f"augment expects a batch (B, C, X, Y, Z), got shape {tuple(x.shape)}")
    b = x.shape[0]
    flip = torch.rand(b, device=x.device) < 0.5
    if flip.any():
        where = flip.view(b, 1, 1, 1, 1)
        x = torch.where(where, x.flip(LEFT_RIGHT_AXIS), x)
        masks = tuple(torch.where(where, m.flip(LEFT_RIGHT_AXIS), m) for m in masks)
    scale = 1.0 + 0.1 * (2 * torch.rand(b, 1, 1, 1, 1, device=x.device) - 1)
    shift = 0.05 * (2 * torch.rand(b, 1, 1, 1, 1, device=x.device) - 1)
    return (x * scale + shift + 0.02 * torch.randn_like(x), *masks)


class Task(Protocol):
    """What ``train`` trains: augmentation, loss and validation of one kind of network.

    A batch is the tuple a loader yields; its first element is the network's input.
    """

    monitor: str
    """History column (a key of :meth:`validate`'s result) that early stopping follows."""

    maximise: bool
    """True: early stopping keeps the epoch with the highest ``monitor`` (an AUC); False: the lowest (a loss)."""

    def to(self, device: torch.device) -> Any: ...

    def augment(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """The augmented batch (same structure)."""

    def loss(self, outputs: Any, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss to minimise and its named parts (logged as ``train_<name>``)."""

    def validate(self, model: nn.Module, loader: torch.utils.data.DataLoader, *, device: torch.device) -> dict[str, float]:
        """Validation metrics (keys ``val_...``), one of them :attr:`monitor`."""


class ClassificationTask(nn.Module):
    """A classifier's task: ``loss_fn(logits, label)``; early stopping on validation AUC."""

    monitor = "val_auc"
    maximise = True

    def __init__(self, loss_fn: nn.Module) -> None:
        super().__init__()
        self.loss_fn = loss_fn

    def augment(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        return (*augment(batch[0]), *batch[1:])

    def loss(self, outputs: torch.Tensor, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.loss_fn(outputs.float(), batch[-1]), {}

    def validate(self, model: nn.Module, loader: torch.utils.data.DataLoader, *, device: torch.device) -> dict[str, float]:
        prob = predict_proba(model, loader, device=device)
        yv = torch.cat([b[-1] for b in loader]).numpy()
        auc = float(roc_auc_score(yv, prob)) if len(np.unique(yv)) == 2 else float("nan")
        bce = float(nn.functional.binary_cross_entropy(torch.as_tensor(prob).clamp(1e-6, 1 - 1e-6), torch.as_tensor(yv, dtype=torch.float64)))
        return {"val_auc": auc, "val_loss": bce}


def _rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
    assert isinstance(np_state, tuple)  # legacy=True (the default): (name, keys, pos, has_gauss, cached_gaussian)
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy_key": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "python": list(random.getstate()[1]),
    }


def _set_rng_state(s: dict[str, Any]) -> None:
    torch.set_rng_state(s["torch"])
    if torch.cuda.is_available() and s["cuda"]:
        torch.cuda.set_rng_state_all(s["cuda"])
    np.random.set_state(("MT19937", s["numpy_key"].numpy().astype(np.uint32), s["numpy_pos"], 0, 0.0))
    random.setstate((3, tuple(s["python"]), None))


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``: tensors and plain containers only)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def _save(obj: dict[str, Any], path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else getattr(model, "_orig_mod", model)


@torch.no_grad()
def predict_proba(model: nn.Module, loader: torch.utils.data.DataLoader, *, device: torch.device | str | None = None) -> np.ndarray:
    """Predicted probability of class 1 for every sample of a (non-shuffled) loader."""
    device = torch.device(device) if device else next(model.parameters()).device
    model.eval()
    out = []
    for batch in loader:
        x = batch[0].to(device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(x)
        out.append(torch.softmax(logits.float(), dim=1)[:, 1].cpu())
    return torch.cat(out).numpy().astype(np.float64)


def epoch_line(row: dict[str, Any], *, epochs: int, monitor: str | None) -> str:
    """``epoch 3/12 · loss 0.612 · val_auc 0.701 · 4.1 s``: what the training helper logs per epoch."""
    parts = [f"epoch {int(row['epoch'])}/{epochs}", f"loss {row['train_loss']:.3f}"]
    if monitor and monitor in row:
        parts.append(f"{monitor} {row[monitor]:.3f}")
    parts.append(f"{row['seconds']:.1f} s")
    return " · ".join(parts)


def train(
    model: nn.Module,
    train_loader: torch.utils.data.DataLoader,
    val_loader: torch.utils.data.DataLoader | None,
    *,
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    task: Task | None = None,
    loss_fn: nn.Module | None = None,
    device: torch.device | str | None = None,
    resume: bool = False,
    stop_after: int | None = None,
) -> pd.DataFrame:
    """Train ``model``; returns the per-epoch history (also written to ``history.csv``).

    Parameters
    ----------
    model, train_loader, val_loader, optimizer
        Ready objects; ``val_loader`` drives early stopping and the best checkpoint.
    config : TrainConfig
        Epochs, schedule, clipping, patience, device switches, checkpoint folder.
    task : Task, optional
        What is trained (loss, augmentation, validation metrics, early-stopping metric).
    loss_fn : nn.Module, optional
        Shortcut for ``task=ClassificationTask(loss_fn)`` (a classifier); give one of the two.
    device : optional
        Default: CUDA if available, else CPU.
    resume : bool
        Continue from ``<checkpoint_dir>/last.pt`` if it exists.
    stop_after : int, optional
        Stop after this many epochs of *this call* (simulates an interruption in tests).

    Notes
    -----
    History columns: ``epoch``, ``train_loss``, ``train_<part>`` for each loss part of the
    task, ``lr``, ``volumes_per_s``, ``seconds`` and the task's ``val_...`` metrics.  The best
    checkpoint follows ties of the monitored metric to the later epoch; patience counts
    epochs without a strict gain (a rise of an AUC, a fall of a loss: ``task.maximise``).
    """
    if (task is None) == (loss_fn is None):
        raise ValueError("train: give either task= or loss_fn= (a classifier's loss), not both and not neither")
    task = task if task is not None else ClassificationTask(loss_fn)  # type: ignore[arg-type]
    device = torch.device(device) if device else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    ckpt_dir = Path(config.checkpoint_dir) if config.checkpoint_dir else None
    rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last_3d)  # type: ignore[call-overload]  # Module.to takes memory_format; torch's overloads omit it
    steps_per_epoch = max(1, len(train_loader))
    scheduler = WarmupCosineSchedule(optimizer, warmup_steps=config.warmup_epochs * steps_per_epoch, t_total=config.epochs * steps_per_epoch)
    history: list[dict[str, Any]] = []
    start, best, stale = 0, -math.inf, 0
    if resume and ckpt_dir and (ckpt_dir / LAST_CHECKPOINT).exists():
        state = load_checkpoint(ckpt_dir / LAST_CHECKPOINT)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start, best, stale = int(state["epoch"]) + 1, float(state["best_score"]), int(state["stale"])
        history = [dict(zip(state["history_keys"], row)) for row in state["history"].tolist()]
        for row in history:  # stored as float64 with the rest: the epoch column is written as an integer, as in an uninterrupted run
            row["epoch"] = int(row["epoch"])
        _set_rng_state(state["rng"])
    net: nn.Module = model
    if dist.is_available() and dist.is_initialized():
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if config.compile:
        net = torch.compile(net)  # type: ignore[assignment]
    use_amp = config.amp and device.type == "cuda"
    task.to(device)
    ran = 0
    for epoch in range(start, config.epochs):
        if stale >= config.patience:  # resumed after early stopping: the run is complete
            break
        sampler = getattr(train_loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)  # type: ignore[union-attr]
        net.train()
        t0, seen, total = time.perf_counter(), 0, 0.0
        parts_total: dict[str, float] = {}
        batches = train_loader
        if config.progress and rank == 0:
            from tqdm.auto import tqdm

            batches = tqdm(train_loader, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False)
        for batch in batches:
            batch = tuple(t.to(device, non_blocking=True) for t in batch)
            if config.augment:
                batch = task.augment(batch)
            x = batch[0]
            if config.channels_last:
                x = x.contiguous(memory_format=torch.channels_last_3d)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
                outputs = net(x)
            loss, parts = task.loss(outputs, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip:
                nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            n = len(x)
            seen += n
            total += float(loss.detach()) * n
            for k, v in parts.items():
                parts_total[k] = parts_total.get(k, 0.0) + float(v.detach()) * n
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        row = {"epoch": epoch + 1, "train_loss": total / max(seen, 1)}
        row.update({f"train_{k}": v / max(seen, 1) for k, v in parts_total.items()})
        row.update({"lr": optimizer.param_groups[0]["lr"], "volumes_per_s": seen / seconds, "seconds": seconds})
        if val_loader is not None:
            row.update(task.validate(_unwrap(net), val_loader, device=device))
        history.append(row)
        if rank == 0:  # one line per epoch: a workflow job's log shows it and `ecrs run` relays it
            _log.info(epoch_line(row, epochs=config.epochs, monitor=task.monitor if val_loader is not None else None))
        # ``best`` and ``score`` are oriented so that higher is better (a loss is negated)
        sign = 1.0 if getattr(task, "maximise", True) else -1.0
        score = sign * row[task.monitor] if val_loader is not None else math.inf
        improved = val_loader is None or score >= best
        stale = 0 if (val_loader is None or score > best) else stale + 1
        if improved and val_loader is not None:
            best = score
        if ckpt_dir and rank == 0:
            keys = list(history[0])
            state = {
                "model": _unwrap(net).state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "epoch": epoch,
                "best_score": best,
                "stale": stale,
                "history_keys": keys,
                "history": torch.tensor([[float(h.get(k, float("nan"))) for k in keys] for h in history], dtype=torch.float64),
                "rng": _rng_state(),
                "config": {k: v for k, v in asdict(config).items() if v is not None},
            }
            _save(state, ckpt_dir / LAST_CHECKPOINT)
            if improved:
                _save({"model": state["model"], "epoch": epoch, task.monitor: sign * best}, ckpt_dir / CHECKPOINT)
            write_csv(pd.DataFrame(history), ckpt_dir / HISTORY)
        ran += 1
        if stale >= config.patience or (stop_after is not None and ran >= stop_after):
            break
    return pd.DataFrame(history)
