"""Content hashes: of files (inputs recorded in the run record), of parameters (cache keys) and of network weights."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["sha256_file", "hash_params", "sha256_path", "weights_sha256"]


def sha256_path(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, or of a folder's files (name + content, sorted), e.g. a DICOM series."""
    p = Path(path)
    if p.is_dir():
        h = hashlib.sha256()
        for f in sorted(x for x in p.rglob("*") if x.is_file()):
            h.update(str(f.relative_to(p)).encode())
            h.update(bytes.fromhex(sha256_file(f)))
        return h.hexdigest()
    return sha256_file(p)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """sha256 of one file's bytes (memoised on path, size and modification time)."""
    st = os.stat(path)
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=65536)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def hash_params(*parts: object, length: int = 16) -> str:
    """A short, stable hash of JSON-serialisable parameters."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def weights_sha256(state: Mapping[str, Any]) -> str:
    """sha256 of a network's weights (a ``state_dict``: names, dtypes, shapes and values, in order).

    Names a trained network by what it computes: unlike the checkpoint file's hash it does not
    change with what else the checkpoint holds (the training history, whose timings differ
    from run to run).
    """
    import torch

    h = hashlib.sha256()
    for name, tensor in state.items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update((t.float() if t.dtype == torch.bfloat16 else t).numpy().tobytes())
    return h.hexdigest()
