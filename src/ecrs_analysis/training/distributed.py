"""Several GPUs for one training job: ``torchrun`` around the workflow's fold job.

With ``gpus_per_training_job > 1`` (the ``--gpus-per-job`` option of ``ecrs run``) the
workflow starts each fold job as::

    torchrun --standalone --nproc_per_node=G -m ecrs_analysis.book.stages train ...

Every process runs the same :func:`training.folds.train_fold`; :func:`training.helper.make_loader`
shards the training batches, ``train`` wraps the model in DistributedDataParallel, and
only rank 0 writes the job's folder and provenance.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

__all__ = ["init_distributed", "is_distributed_launch", "rank"]


def is_distributed_launch() -> bool:
    """True inside ``torchrun`` with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_distributed() -> tuple[int, int, torch.device]:
    """Initialise the process group from torchrun's environment; NCCL on GPUs, gloo on CPUs."""
    rank_, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank_, world_size=world)
    return rank_, world, device


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
