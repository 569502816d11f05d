"""Where an interrupted training job keeps its epoch checkpoints: outside the job's declared outputs.

A workflow engine removes the outputs of a job that did not finish (Snakemake does, before it
runs the job again), so a job's resume state cannot live in its output folder. It lives in
``.<output folder name>.work/`` beside it, tagged with a key of everything the training depends
on (settings, seed, patients, input files): a job started with another key starts afresh.
The job removes the folder once its outputs are complete.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ecrs_analysis.atomic import write_json

__all__ = ["work_dir"]


def work_dir(out_dir: str | os.PathLike[str], key: str) -> Path:
    """The resume folder of the job writing ``out_dir``; emptied first when it holds another job's state.

    Parameters
    ----------
    out_dir
        The job's output folder (written whole at the end, e.g. with :func:`ecrs_analysis.atomic.atomic_dir`).
    key
        A hash of everything the training depends on (:func:`ecrs_analysis.hashing.hash_params`).

    Returns
    -------
    Path
        ``<parent>/.<name>.work``, holding ``job_key.json`` and whatever checkpoints an earlier,
        interrupted attempt with the same key left.
    """
    out = Path(out_dir)
    work = out.parent / f".{out.name}.work"
    key_file = work / "job_key.json"
    try:
        same = json.loads(key_file.read_text(encoding="utf-8")).get("key") == key
    except (OSError, ValueError):
        same = False
    if not same:
        shutil.rmtree(work, ignore_errors=True)  # checkpoints of other settings or inputs: start afresh
        write_json({"key": key}, key_file)
    return work
