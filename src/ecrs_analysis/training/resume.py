"""Where an interrupted training job keeps its epoch checkpoints: outside the job's declared outputs.

A workflow engine removes the outputs of a job that did not finish (Snakemake does, before it
runs the job again), so a job's resume state cannot live in its output folder. It lives in
``.<output folder name>.work/`` beside it, tagged with a key of everything the training depends
on (settings, seed, patients, and the input files' sizes and modification times): a job started
with another key starts afresh. The job removes the folder once its outputs are complete.
Both training jobs (the fold networks and MTLNet) use this module, and only it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from ecrs_analysis.atomic import write_json
from ecrs_analysis.hashing import hash_params

__all__ = ["resume_key", "work_dir", "work_path"]


def resume_key(*parts: object, files: Iterable[str | os.PathLike[str]]) -> str:
    """The key of a job's resume state: its parameters and its input files as they are now.

    Parameters
    ----------
    *parts
        JSON-serialisable settings, seed, patient table rows, ... (:func:`ecrs_analysis.hashing.hash_params`).
    files
        The job's input files; a re-made file (another size or modification time) changes the key.
    """
    stats = [(str(p), os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in files]
    return hash_params(*parts, stats)


def work_path(out_dir: str | os.PathLike[str]) -> Path:
    """``<parent>/.<name>.work``: where the job writing ``out_dir`` keeps its checkpoints."""
    out = Path(out_dir)
    return out.parent / f".{out.name}.work"


def _rank() -> tuple[int, bool]:
    import torch.distributed as dist

    distributed = dist.is_available() and dist.is_initialized()
    return (dist.get_rank() if distributed else 0), distributed


def work_dir(out_dir: str | os.PathLike[str], key: str) -> Path:
    """The resume folder of the job writing ``out_dir``; emptied first when it holds another job's state.

    Under ``torch.distributed`` only rank 0 checks and empties the folder; every rank waits for it
    (a barrier) and gets the same path.

    Parameters
    ----------
    out_dir
        The job's output folder (written whole at the end, e.g. with :func:`ecrs_analysis.atomic.atomic_dir`).
    key
        :func:`resume_key` of everything the training depends on.

    Returns
    -------
    Path
        :func:`work_path`, holding ``job_key.json`` and whatever checkpoints an earlier,
        interrupted attempt with the same key left.
    """
    work = work_path(out_dir)
    rank, distributed = _rank()
    if rank == 0:
        key_file = work / "job_key.json"
        try:
            same = json.loads(key_file.read_text(encoding="utf-8")).get("key") == key
        except (OSError, ValueError, AttributeError):
            same = False
        if not same:
            shutil.rmtree(work, ignore_errors=True)  # checkpoints of other settings or inputs: start afresh
            write_json({"key": key}, key_file)
    if distributed:
        import torch.distributed as dist

        dist.barrier()
    return work
