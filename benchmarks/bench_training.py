"""Training throughput (volumes/s) and peak memory of each network, against a plain baseline in the same run.

Baseline: fp32, a default DataLoader whose dataset reads each ``.npz`` file from disk every
step, no cache, no channels-last.  Ours: volumes cached in memory (``CachedVolumes``), batch
augmentation on the device (for MTLNet the same flips for image and mask), bf16 autocast and
``channels_last_3d`` (CPU and CUDA).  Both run the training step of the network's task object
(``ClassificationTask`` for the first study's CNNs, ``MultitaskTask`` for MTLNet), as
``training.helper.train`` does.  Every measurement runs in a fresh process, so the CPU peak
memory (max resident set size) is that configuration's own.  On a GPU the script also reports
the share of the step the GPU is busy (data loading not the bottleneck).

    .venv/bin/python benchmarks/bench_training.py [--models resnet3d mtlnet] [--sizes 32 64]
        [--mtl-sizes 48x48x32 128x128x96] [--width 0.25] [--mtl-width 0.125] [--n 32] [--device cuda]

MTLNet's sizes are the demo and full profiles' input sizes (``params/*.yaml``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ecrs_analysis.models import build_model
from ecrs_analysis.training.helper import CachedVolumes, ClassificationTask, make_loader
from ecrs_analysis.training.mtl import MultitaskLoss, MultitaskTask

CLASSIFIERS = ("resnet3d", "xception3d", "hrnet3d")


class FileVolumes(torch.utils.data.Dataset):
    """The baseline: read every volume (and mask) from disk each time."""

    def __init__(self, paths, labels, keys):
        self.paths, self.labels, self.keys = paths, labels, keys

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with np.load(self.paths[i]) as z:
            arrays = [torch.from_numpy(z[k].astype(np.float32 if k == "image" else np.uint8)) for k in self.keys]
        return (*arrays, int(self.labels[i]))


def peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, size: list[int], width: float, paths: list[str], fast: bool, device_name: str, batch: int, steps: int, threads: int | None) -> tuple[float, float, float]:
    """Volumes/s, busy share and peak MB of ``steps`` training steps (run in a fresh process)."""
    device = torch.device(device_name)
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    mtl = name == "mtlnet"
    keys = ("image", "sinus_mask") if mtl else ("image",)
    labels = [i % 2 for i in range(len(paths))]
    if fast:
        loader = make_loader(CachedVolumes(paths, labels, keys=keys), batch_size=batch, shuffle=True, seed=0)
    else:
        loader = torch.utils.data.DataLoader(FileVolumes(paths, labels, keys), batch_size=batch, shuffle=True)
    model = build_model(name, width=width).to(device).train()
    task = MultitaskTask(MultitaskLoss(pos_weight=1.0)) if mtl else ClassificationTask(nn.CrossEntropyLoss())
    task.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    if fast:
        model.to(memory_format=torch.channels_last_3d)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    seen, busy, t0, done = 0, 0.0, None, 0
    while done < steps:
        for batch_ in loader:
            batch_ = tuple(t.to(device, non_blocking=True) for t in batch_)
            if fast:
                batch_ = task.augment(batch_)
            x = batch_[0]
            if fast:
                x = x.contiguous(memory_format=torch.channels_last_3d)
            s0 = time.perf_counter()
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=fast and device.type == "cuda"):
                out = model(x)
            loss, _ = task.loss(out, batch_)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            if t0 is None:  # the first step warms up kernels and caches
                t0 = time.perf_counter()
            else:
                busy += time.perf_counter() - s0
                seen += len(x)
            done += 1
            if done >= steps:
                break
    wall = time.perf_counter() - t0
    return seen / wall, busy / wall, peak_mb(device)


def _volumes(folder: Path, shape: tuple[int, ...], n: int, rng: np.random.Generator) -> list[str]:
    paths = []
    for i in range(n):
        p = folder / f"{i}.npz"
        image = rng.random((1, *shape), dtype=np.float32)
        np.savez_compressed(p, image=image, sinus_mask=(image > 0.5).astype(np.uint8))
        paths.append(str(p))
    return paths


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":  # one measurement, in its own process
        print(json.dumps(measure(**json.loads(sys.argv[2]))))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=[*CLASSIFIERS, "mtlnet"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64], help="cube sizes for the classifiers")
    ap.add_argument("--mtl-sizes", nargs="+", default=["48x48x32", "128x128x96"], help="MTLNet input sizes (demo, full)")
    ap.add_argument("--width", type=float, default=0.25)
    ap.add_argument("--mtl-width", type=float, default=None, help="default: 1.0 on CUDA, 0.125 on CPU")
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads per measurement (default: torch's); 1 is steadier on a shared machine")
    args = ap.parse_args()
    device = torch.device(args.device)
    mtl_width = args.mtl_width if args.mtl_width is not None else (1.0 if device.type == "cuda" else 0.125)
    print(f"device: {torch.cuda.get_device_name(0) if device.type == 'cuda' else f'CPU, {args.threads or torch.get_num_threads()} threads'}, batch {args.batch}, {args.steps} steps")
    print(f"{'model':<11} {'width':>5} {'size':>11} {'baseline vol/s':>15} {'ours vol/s':>11} {'speed-up':>9} {'device busy':>12} {'baseline MB':>12} {'ours MB':>9}")
    rng = np.random.default_rng(0)
    jobs = [(m, (s, s, s), args.width) for s in args.sizes for m in args.models if m != "mtlnet"]
    if "mtlnet" in args.models:
        jobs += [("mtlnet", tuple(int(v) for v in s.split("x")), mtl_width) for s in args.mtl_sizes]
    with tempfile.TemporaryDirectory() as d:
        made: dict[tuple[int, ...], list[str]] = {}
        for name, shape, width in jobs:
            if shape not in made:
                folder = Path(d) / "x".join(map(str, shape))
                folder.mkdir()
                made[shape] = _volumes(folder, shape, args.n, rng)
            results = []
            for fast in (False, True):  # each in a fresh process: its own peak memory
                spec = {"name": name, "size": shape, "width": width, "paths": made[shape], "fast": fast, "device_name": args.device, "batch": args.batch, "steps": args.steps, "threads": args.threads}
                done = subprocess.run([sys.executable, __file__, "--measure", json.dumps(spec)], check=True, capture_output=True, text=True)
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            (base, _, base_mb), (ours, busy, ours_mb) = results
            size = "x".join(map(str, shape))
            print(f"{name:<11} {width:>5} {size:>11} {base:>15.2f} {ours:>11.2f} {ours / base:>8.2f}x {100 * busy:>11.0f}% {base_mb:>12.0f} {ours_mb:>9.0f}")


if __name__ == "__main__":
    main()
