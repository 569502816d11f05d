"""Training throughput (volumes/s) and peak memory of each CNN, against a plain baseline in the same run.

Baseline: fp32, a default DataLoader whose dataset reads each ``.npz`` file from disk every
epoch, no cache, no channels-last.  Ours: volumes cached in memory (``CachedVolumes``), batch
augmentation on the device, bf16 autocast and ``channels_last_3d`` on CUDA.  On a GPU the
script also reports the share of the step the GPU is busy (data loading not the bottleneck).

    .venv/bin/python benchmarks/bench_training.py [--sizes 32 64] [--width 0.25] [--n 64] [--device cuda]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ecrs_analysis.models import build_model
from ecrs_analysis.training.helper import CachedVolumes, augment, make_loader


class FileVolumes(torch.utils.data.Dataset):
    """The baseline: read every volume from disk each time."""

    def __init__(self, paths, labels):
        self.paths, self.labels = paths, labels

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with np.load(self.paths[i]) as z:
            return torch.from_numpy(z["image"].astype(np.float32)), int(self.labels[i])


def peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(model: nn.Module, loader, device, *, fast: bool, steps: int) -> tuple[float, float]:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.to(device).train()
    if fast and device.type == "cuda":
        model.to(memory_format=torch.channels_last_3d)
    seen, busy, t0, done = 0, 0.0, None, 0
    while done < steps:
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), torch.as_tensor(y).to(device)
            if fast:
                x = augment(x)
                if device.type == "cuda":
                    x = x.contiguous(memory_format=torch.channels_last_3d)
            s0 = time.perf_counter()
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=fast and device.type == "cuda"):
                loss = loss_fn(model(x).float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            if t0 is None:  # the first step warms up kernels and caches
                t0 = time.perf_counter()
            else:
                busy += time.perf_counter() - s0
                seen += len(y)
            done += 1
            if done >= steps:
                break
    wall = time.perf_counter() - t0
    return seen / wall, busy / wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    ap.add_argument("--width", type=float, default=0.25)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    print(f"device: {torch.cuda.get_device_name(0) if device.type == 'cuda' else 'CPU'}, width {args.width}, batch {args.batch}")
    print(f"{'model':<11} {'size':>5} {'baseline vol/s':>15} {'ours vol/s':>11} {'speed-up':>9} {'device busy':>12} {'peak MB':>9}")
    rng = np.random.default_rng(0)
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for i in range(args.n):
                p = Path(d) / f"{i}.npz"
                np.savez_compressed(p, image=rng.random((1, size, size, size), dtype=np.float32))
                paths.append(str(p))
            labels = [i % 2 for i in range(args.n)]
            base_loader = torch.utils.data.DataLoader(FileVolumes(paths, labels), batch_size=args.batch, shuffle=True)
            fast_loader = make_loader(CachedVolumes(paths, labels), batch_size=args.batch, shuffle=True, seed=0)
            for name in ("resnet3d", "xception3d", "hrnet3d"):
                torch.manual_seed(0)
                base, _ = run(build_model(name, width=args.width), base_loader, device, fast=False, steps=args.steps)
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                torch.manual_seed(0)
                ours, busy = run(build_model(name, width=args.width), fast_loader, device, fast=True, steps=args.steps)
                print(f"{name:<11} {size:>5} {base:>15.1f} {ours:>11.1f} {ours / base:>8.2f}x {100 * busy:>11.0f}% {peak_mb(device):>9.0f}")


if __name__ == "__main__":
    main()
