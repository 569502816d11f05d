"""CNN training throughput by thread layout: why fold jobs no longer train on one thread.

Before the workflow, the CNNs trained inside the notebook kernel after the preprocessing had
set ``torch.set_num_threads(1)`` for the whole process (the *baseline* row). Now each
(model, fold) job is its own process: it gets the threads Snakemake gives it, and on a
small machine several single-thread jobs run side by side. Each row trains the same network
on the same in-memory volumes for a fixed number of steps and reports volumes/s for the
whole machine, with the ratio to the baseline measured in the same run.

    .venv/bin/python benchmarks/bench_threads.py [--model resnet3d] [--size 32] [--width 0.25] [--steps 20]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

import torch
from torch import nn

from ecrs_analysis.models import build_model


def _train(model_name: str, size: int, width: float, steps: int, batch: int, threads: int, seed: int, out: "mp.Queue[float]") -> None:
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = build_model(model_name, width=width)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.rand(batch, 1, size, size, size)
    y = torch.randint(0, 2, (batch,))
    loss = nn.CrossEntropyLoss()
    for _ in range(2):  # warm-up
        opt.zero_grad()
        loss(model(x), y).backward()
        opt.step()
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss(model(x), y).backward()
        opt.step()
    out.put(steps * batch / (time.perf_counter() - t0))


def _layout(processes: int, threads: int, args: argparse.Namespace) -> float:
    ctx = mp.get_context("spawn")
    q: "mp.Queue[float]" = ctx.Queue()
    ps = [ctx.Process(target=_train, args=(args.model, args.size, args.width, args.steps, args.batch, threads, i, q)) for i in range(processes)]
    for p in ps:
        p.start()
    rates = [q.get() for _ in ps]
    for p in ps:
        p.join()
    return sum(rates)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet3d")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--width", type=float, default=0.25)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    layouts = [("baseline: one job, 1 thread (kernel after preprocessing)", 1, 1), (f"one job, {cores} threads", 1, cores)]
    if cores > 1:
        layouts.append((f"{cores} jobs side by side, 1 thread each (workflow, local)", cores, 1))
    base = None
    print(f"{args.model} width {args.width}, {args.size}^3 volumes, batch {args.batch}, {cores} cores")
    print(f"{'layout':62s} {'volumes/s':>10s} {'ratio':>7s}")
    for name, procs, threads in layouts:
        rate = _layout(procs, threads, args)
        base = base or rate
        print(f"{name:62s} {rate:10.1f} {rate / base:6.2f}x")


if __name__ == "__main__":
    main()
