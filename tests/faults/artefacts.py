"""Comparing two builds' artefacts, run metadata aside (shared by the determinism and fault-injection tests).

What counts as *declared run metadata* — the only things allowed to differ between two builds of
the same parameters — is listed here and nowhere else:

- files that describe a run rather than its results: ``provenance/`` (timestamps, run id,
  absolute paths), ``run.json``, ``run_record.json``, ``workflow_config.yaml`` (absolute paths),
  ``logs/``, Snakemake's ``.snakemake/`` state and the run lock;
- inside artefacts: the ``run`` column of the claims tables, the ``seconds`` and
  ``volumes_per_s`` columns of training histories and the throughput table's column derived
  from them (timings), notebook execution metadata (papermill's and Jupyter's timestamps and
  durations), the outputs of notebook cells tagged ``run-metadata`` (chapter 03's training
  throughput), ``last.pt``'s timing history, and the results folder's absolute path, the
  run id and the run's start time wherever an artefact quotes them (e.g. the appendix's table of
  the run);
- the executed appendix ``executed/99_reproducibility.ipynb``: it shows ``run_record.json``
  (start time, each job's seconds, the run id);
- the staged book (``book/``), rendered from the executed notebooks compared here.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd

SKIP_TOP = {"provenance", "logs", ".snakemake", "book", "failed", "run.json", "run_record.json", "workflow_config.yaml", ".ecrs-run.lock"}
SKIP_FILES = {"executed/99_reproducibility.ipynb"}
TIMING_COLUMNS = ["seconds", "volumes_per_s", "training volumes/s (median epoch)"]
METADATA_TAG = "run-metadata"
RUN_COLUMNS = ["run"]


def artefacts(results: Path) -> dict[str, Path]:
    """Every artefact file of a build, by its path relative to the results folder."""
    out = {}
    for f in sorted(results.rglob("*")):
        rel = f.relative_to(results)
        if f.is_file() and rel.parts[0] not in SKIP_TOP and str(rel) not in SKIP_FILES and not any(p.endswith(".work") for p in rel.parts):
            out[str(rel)] = f
    return out


def _run_stamps(results: Path) -> dict[str, str]:
    """The run id and the run's start time (``run.json``, ``run_record.json``) -> their placeholders."""
    stamps = {}
    for name, key, placeholder in (("run.json", "run", "<run>"), ("run_record.json", "started", "<started>")):
        try:
            stamps[str(json.loads((results / name).read_text(encoding="utf-8"))[key])] = placeholder
        except (OSError, ValueError, KeyError):
            pass
    return stamps


def _text(f: Path, results: Path) -> str:
    text = f.read_text(encoding="utf-8")
    text = text.replace(str(results), "<results>")
    for stamp, placeholder in _run_stamps(results).items():
        text = text.replace(stamp, placeholder)
    return text


def _notebook(f: Path, results: Path) -> str:
    nb = json.loads(_text(f, results))
    nb.get("metadata", {}).pop("papermill", None)
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {})
        meta.pop("papermill", None)
        meta.pop("execution", None)
        if METADATA_TAG in meta.get("tags", []):
            cell["outputs"] = []
    return json.dumps(nb, sort_keys=True)


def _csv(f: Path, results: Path) -> pd.DataFrame:
    df = pd.read_csv(io.StringIO(_text(f, results)))
    return df.drop(columns=[c for c in TIMING_COLUMNS + RUN_COLUMNS if c in df.columns])


def _torch(f: Path) -> list:
    import torch

    state = torch.load(f, map_location="cpu", weights_only=False)
    keep = {k: v for k, v in state.items() if k not in ("history", "history_keys", "config")} if isinstance(state, dict) else state
    flat = []

    def walk(x, key=""):
        if isinstance(x, dict):
            for k in sorted(x, key=str):
                walk(x[k], f"{key}/{k}")
        elif isinstance(x, (list, tuple)):
            for i, v in enumerate(x):
                walk(v, f"{key}/{i}")
        elif isinstance(x, torch.Tensor):
            flat.append((key, x.detach().cpu().numpy().tobytes()))
        else:
            flat.append((key, repr(x)))

    walk(keep)
    return flat


def same(a: Path, ra: Path, b: Path, rb: Path) -> bool:
    """Whether two artefacts are equal, declared run metadata aside."""
    name = a.name
    if name.endswith(".ipynb"):
        return _notebook(a, ra) == _notebook(b, rb)
    if name.endswith(".csv"):
        x, y = _csv(a, ra), _csv(b, rb)
        return x.shape == y.shape and list(x.columns) == list(y.columns) and x.equals(y)
    if name.endswith(".pt"):
        return _torch(a) == _torch(b)
    if re.search(r"\.(json|md|txt|yaml|html|svg)$", name):
        return _text(a, ra) == _text(b, rb)
    return a.read_bytes() == b.read_bytes()


def differences(ra: Path, rb: Path, *, only: str | None = None) -> list[str]:
    """Artefacts that differ (or exist in one build only); ``only`` restricts to paths matching a regex."""
    fa, fb = artefacts(ra), artefacts(rb)
    if only:
        fa = {k: v for k, v in fa.items() if re.search(only, k)}
        fb = {k: v for k, v in fb.items() if re.search(only, k)}
    out = [f"only in one build: {k}" for k in sorted(set(fa) ^ set(fb))]
    out += [k for k in sorted(set(fa) & set(fb)) if not same(fa[k], ra, fb[k], rb)]
    return out
