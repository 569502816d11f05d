"""Atomic file and folder writes: a failed run never leaves a half-written artefact (and :func:`read_indexed`, which reads back a table written with its index)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["atomic_path", "atomic_dir", "write_json", "write_csv", "write_text", "read_indexed"]


def _tmp_name(path: Path) -> Path:
    # Keep the real suffix (e.g. ".nii.gz") so writers that choose the format by suffix still work.
    fd, name = tempfile.mkstemp(prefix=f".{path.name.split('.')[0]}.tmp-", suffix="".join(path.suffixes) or ".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(final)
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``path`` (an old one is removed)."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_text(text: str, path: str | os.PathLike[str]) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    return write_text(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n", path)


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = False) -> Path:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=index)
    return Path(path)


def read_indexed(path: str | os.PathLike[str], *, levels: int = 1) -> pd.DataFrame:
    """A table a job wrote with its index (``write_csv(..., index=True)``, ``levels`` index columns), as the job had it."""
    return pd.read_csv(path, index_col=list(range(levels)) if levels > 1 else 0)
