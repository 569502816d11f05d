"""The training helper: one function that trains a classifier from ready objects and returns its history.

``train(model, train_loader, val_loader, optimizer=..., loss_fn=..., config=...)``

- device: CUDA when present (bf16 autocast, optional ``channels_last_3d`` and
  ``torch.compile``), else CPU;
- cosine learning rate with linear warm-up (per step), gradient clipping;
- batch augmentation on the training device (random flips, intensity scale/shift, noise);
- early stopping on validation AUC; ``best.pt`` and ``last.pt`` written atomically,
  read back with ``torch.load(weights_only=True)``;
- resume: the last checkpoint holds model, optimiser, scheduler, epoch and every RNG state,
  so an interrupted and resumed run ends with the same weights as an uninterrupted one;
- multi-GPU: under ``torchrun`` (``torch.distributed`` initialised) the model is wrapped in
  DistributedDataParallel and the loaders from :func:`make_loader` shard the data;
- per-epoch metrics (loss, AUC, learning rate, throughput) to CSV and a tqdm bar.

The loop is written out here rather than taken from MONAI's ``SupervisedTrainer`` (Ignite)
because resume-equals-uninterrupted and the bf16/channels-last switches are easier to
guarantee and test in ~200 plain lines.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from sklearn.metrics import roc_auc_score
from torch import nn
from torch.utils.data import Dataset, Sampler

from ecrs_analysis.atomic import atomic_path, write_csv
from ecrs_analysis.data.preprocess import load_preprocessed

__all__ = ["TrainConfig", "CachedVolumes", "EpochSampler", "make_loader", "class_weights", "seed_everything", "augment", "train", "predict_proba", "load_checkpoint"]


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (all keyword-only in the notebooks' params)."""

    epochs: int = 10
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 1
    grad_clip: float = 1.0
    patience: int = 5
    seed: int = 0
    amp: bool = True
    channels_last: bool = False
    compile: bool = False
    augment: bool = True
    checkpoint_dir: str | None = None
    progress: bool = False


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class CachedVolumes(Dataset):
    """All preprocessed volumes of a set held in memory (like MONAI's ``CacheDataset``)."""

    def __init__(self, paths: Sequence[str], labels: Sequence[int], *, key: str = "image") -> None:
        arrays = [load_preprocessed(p)[key] for p in paths]
        self.x = torch.from_numpy(np.stack(arrays).astype(np.float32))
        self.y = torch.as_tensor(np.asarray(labels), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


class EpochSampler(Sampler[int]):
    """Shuffles with a seed derived from (seed, epoch): the order of epoch k never depends on history."""

    def __init__(self, n: int, *, seed: int, shuffle: bool = True) -> None:
        self.n, self.seed, self.shuffle, self.epoch = n, seed, shuffle, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(self.n))
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())

    def __len__(self) -> int:
        return self.n


def make_loader(dataset: Dataset, *, batch_size: int, shuffle: bool, seed: int, shard: bool = True) -> torch.utils.data.DataLoader:
    """A loader over in-memory volumes.

    With ``shard`` (training loaders) the data are split between processes when
    ``torch.distributed`` is initialised; evaluation loaders pass ``shard=False`` so every
    process scores every patient.
    """
    if shard and dist.is_available() and dist.is_initialized():
        sampler: Sampler[int] = torch.utils.data.DistributedSampler(dataset, shuffle=shuffle, seed=seed, drop_last=False)
    else:
        sampler = EpochSampler(len(dataset), seed=seed, shuffle=shuffle)  # type: ignore[arg-type]
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=0)


def class_weights(labels: Sequence[int]) -> torch.Tensor:
    """Inverse-frequency class weights for a balanced cross-entropy (mean weight 1)."""
    counts = np.bincount(np.asarray(labels), minlength=2).astype(float)
    if (counts == 0).any():
        raise ValueError(f"class_weights: a class is missing from the training labels (counts {counts.tolist()})")
    w = counts.sum() / (len(counts) * counts)
    return torch.as_tensor(w, dtype=torch.float32)


def augment(x: torch.Tensor) -> torch.Tensor:
    """Random flips per axis, intensity scale (±10%) and shift (±0.05), Gaussian noise (sd 0.02), per sample.

    Runs on whatever device ``x`` is on and draws from torch's global RNG (restored on resume).
    """
    b = x.shape[0]
    for axis in (2, 3, 4):
        flip = torch.rand(b, device=x.device) < 0.5
        if flip.any():
            x = torch.where(flip.view(b, 1, 1, 1, 1), x.flip(axis), x)
    scale = 1.0 + 0.1 * (2 * torch.rand(b, 1, 1, 1, 1, device=x.device) - 1)
    shift = 0.05 * (2 * torch.rand(b, 1, 1, 1, 1, device=x.device) - 1)
    return x * scale + shift + 0.02 * torch.randn_like(x)


def _rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
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
    for x, _ in loader:
        x = x.to(device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(x)
        out.append(torch.softmax(logits.float(), dim=1)[:, 1].cpu())
    return torch.cat(out).numpy().astype(np.float64)


def _lr_lambda(total_steps: int, warmup_steps: int):
    def f(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return f


def train(
    model: nn.Module,
    train_loader: torch.utils.data.DataLoader,
    val_loader: torch.utils.data.DataLoader | None,
    *,
    optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    config: TrainConfig,
    device: torch.device | str | None = None,
    resume: bool = False,
    stop_after: int | None = None,
) -> pd.DataFrame:
    """Train ``model``; returns the per-epoch history (also written to ``history.csv``).

    Parameters
    ----------
    model, train_loader, val_loader, optimizer, loss_fn
        Ready objects; ``val_loader`` drives early stopping and the best checkpoint.
    config : TrainConfig
        Epochs, schedule, clipping, patience, device switches, checkpoint folder.
    device : optional
        Default: CUDA if available, else CPU.
    resume : bool
        Continue from ``<checkpoint_dir>/last.pt`` if it exists.
    stop_after : int, optional
        Stop after this many epochs of *this call* (simulates an interruption in tests).
    """
    device = torch.device(device) if device else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    ckpt_dir = Path(config.checkpoint_dir) if config.checkpoint_dir else None
    rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    model.to(device)
    if config.channels_last and device.type == "cuda":
        model.to(memory_format=torch.channels_last_3d)
    steps_per_epoch = max(1, len(train_loader))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config.epochs * steps_per_epoch, config.warmup_epochs * steps_per_epoch))
    history: list[dict[str, Any]] = []
    start, best_auc, stale = 0, -math.inf, 0
    if resume and ckpt_dir and (ckpt_dir / "last.pt").exists():
        state = load_checkpoint(ckpt_dir / "last.pt")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start, best_auc, stale = int(state["epoch"]) + 1, float(state["best_auc"]), int(state["stale"])
        history = [dict(zip(state["history_keys"], row)) for row in state["history"].tolist()]
        _set_rng_state(state["rng"])
    net: nn.Module = model
    if dist.is_available() and dist.is_initialized():
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if config.compile:
        net = torch.compile(net)  # type: ignore[assignment]
    use_amp = config.amp and device.type == "cuda"
    loss_fn = loss_fn.to(device)
    ran = 0
    for epoch in range(start, config.epochs):
        sampler = getattr(train_loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)  # type: ignore[union-attr]
        net.train()
        t0, seen, total = time.perf_counter(), 0, 0.0
        batches = train_loader
        if config.progress and rank == 0:
            from tqdm.auto import tqdm

            batches = tqdm(train_loader, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False)
        for x, y in batches:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            if config.augment:
                x = augment(x)
            if config.channels_last and device.type == "cuda":
                x = x.contiguous(memory_format=torch.channels_last_3d)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = loss_fn(net(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip:
                nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            seen += len(y)
            total += float(loss.detach()) * len(y)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        row: dict[str, Any] = {"epoch": epoch + 1, "train_loss": total / max(seen, 1), "lr": optimizer.param_groups[0]["lr"], "volumes_per_s": seen / seconds, "seconds": seconds}
        if val_loader is not None:
            prob = predict_proba(_unwrap(net), val_loader, device=device)
            yv = torch.cat([b[1] for b in val_loader]).numpy()
            row["val_auc"] = float(roc_auc_score(yv, prob)) if len(np.unique(yv)) == 2 else float("nan")
            row["val_loss"] = float(nn.functional.binary_cross_entropy(torch.as_tensor(prob).clamp(1e-6, 1 - 1e-6), torch.as_tensor(yv, dtype=torch.float64)))
        history.append(row)
        # The best checkpoint follows ties to the later, longer-trained epoch; patience counts epochs without a strict gain.
        improved = val_loader is None or row["val_auc"] >= best_auc
        stale = 0 if (val_loader is None or row["val_auc"] > best_auc) else stale + 1
        if improved:
            best_auc = row.get("val_auc", best_auc)
        if ckpt_dir and rank == 0:
            keys = list(history[0])
            state = {
                "model": _unwrap(net).state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "epoch": epoch,
                "best_auc": best_auc,
                "stale": stale,
                "history_keys": keys,
                "history": torch.tensor([[float(h.get(k, float("nan"))) for k in keys] for h in history], dtype=torch.float64),
                "rng": _rng_state(),
                "config": {k: v for k, v in asdict(config).items() if v is not None},
            }
            _save(state, ckpt_dir / "last.pt")
            if improved:
                _save({"model": state["model"], "epoch": epoch, "val_auc": best_auc}, ckpt_dir / "best.pt")
            write_csv(pd.DataFrame(history), ckpt_dir / "history.csv")
        ran += 1
        if stale >= config.patience or (stop_after is not None and ran >= stop_after):
            break
    return pd.DataFrame(history)
