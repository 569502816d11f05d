"""Train the first study's CNNs on several GPUs with torchrun (DistributedDataParallel).

    torchrun --nproc_per_node=4 -m ecrs_analysis.training.distributed --profile full

Every process runs the same :func:`fusion.cached_deep_scores`; :func:`training.make_loader`
shards the training batches, ``train`` wraps the model in DDP, and only rank 0 writes the
scores.  Afterwards ``ecrs run --profile full`` finds the scores in the cache and builds the book.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torch.distributed as dist

__all__ = ["init_distributed", "main"]


def init_distributed() -> tuple[int, int, torch.device]:
    """Initialise the process group from torchrun's environment; NCCL on GPUs, gloo on CPUs."""
    rank, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world)
    return rank, world, device


def main(argv: list[str] | None = None) -> int:
    from ecrs_analysis import fusion
    from ecrs_analysis.data import study as S
    from ecrs_analysis.book.params import load_params, parse_set

    ap = argparse.ArgumentParser(prog="python -m ecrs_analysis.training.distributed")
    ap.add_argument("--profile", default="full")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--results")
    args = ap.parse_args(argv)
    rank, _, device = init_distributed()
    cfg = load_params(args.profile, parse_set(args.set))
    paths = S.ResultPaths(S.default_results_dir(args.profile) if not args.results else Path(args.results))
    if rank == 0:  # one process builds the cohort, split and cache; the others wait and read them
        li = S.load_study(cfg, "li2025", paths)
        S.prepare_inputs(cfg, "li2025", li.cohort, paths)
    dist.barrier()
    li = S.load_study(cfg, "li2025", paths)
    index = S.prepare_inputs(cfg, "li2025", li.cohort, paths)
    fusion.cached_deep_scores(li.table, index, spec=fusion.DeepSpec.from_dict(cfg["deep"]), train_set=li.split.train_name, seed=cfg["seed"], folder=paths.study("li2025"), device=str(device))
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
