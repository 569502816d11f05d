"""The book runner: papermill executes the notebooks, Jupyter Book renders what they produced.

``ecrs run`` does, in order:

1. load ``params/<profile>.yaml``, apply ``--set`` overrides and ``--data``, validate;
2. execute each notebook of ``notebooks/ORDER`` with papermill into a staging folder,
   injecting ``profile``, ``overrides`` and ``results_dir``; a failing notebook stops the
   run with its name, cell and exception, and is kept under ``<results>/failed/``;
3. write the run record (parameters, git commit, package versions, input hashes,
   timings) and execute the reproducibility appendix, which shows it;
4. move the executed notebooks to ``book/executed/`` and build the book with execution
   off and warnings fatal into a staging folder; only a complete build replaces
   ``_build/`` — a failed run leaves the last good book untouched;
5. check that no patient identifier appears in the rendered pages.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecrs_analysis.atomic import write_json
from ecrs_analysis.book.params import load_params
from ecrs_analysis.book.privacy import find_identifiers
from ecrs_analysis.book.record import new_record
from ecrs_analysis.data.study import ResultPaths, default_results_dir
from ecrs_analysis.explain.mesh import install_plotlyjs

__all__ = ["RunError", "RunOptions", "repo_root", "notebook_order", "run_book"]

APPENDIX = "99_reproducibility"


class RunError(RuntimeError):
    """A run that stopped; the message says which step, notebook and cell."""


@dataclass(frozen=True)
class RunOptions:
    profile: str = "demo"
    overrides: dict[str, Any] = field(default_factory=dict)
    only: tuple[str, ...] = ()
    data: tuple[str, ...] = ()
    results_dir: Path | None = None
    build: bool = True


def repo_root() -> Path:
    """The checkout holding ``_config.yml`` and ``notebooks/`` (the current folder or a parent)."""
    for p in (Path.cwd(), *Path.cwd().parents):
        if (p / "_config.yml").exists() and (p / "notebooks" / "ORDER").exists():
            return p
    raise RunError("run `ecrs run` inside the ecrs-book checkout (no _config.yml and notebooks/ORDER found here or above)")


def notebook_order(root: Path) -> list[str]:
    """Notebook names (without .ipynb) in their declared order; the appendix comes last."""
    names = [ln.split("#")[0].strip() for ln in (root / "notebooks" / "ORDER").read_text(encoding="utf-8").splitlines()]
    names = [n for n in names if n]
    missing = [n for n in names if not (root / "notebooks" / f"{n}.ipynb").exists()]
    if missing:
        raise RunError(f"notebooks/ORDER names notebooks that do not exist: {missing}")
    return names


def _data_overrides(data: tuple[str, ...], studies: list[str]) -> dict[str, Any]:
    """``--data PATH`` (every study) or ``--data STUDY=PATH`` -> manifest overrides."""
    out: dict[str, Any] = {}
    for item in data:
        study, sep, path = item.partition("=")
        targets = [study] if sep else studies
        path = path if sep else item
        if sep and study not in studies:
            raise RunError(f"--data {item}: unknown study {study!r}; studies: {studies}")
        for s in targets:
            out[f"studies.{s}.manifest"] = str(Path(path).resolve())
    return out


def _execute(nb: Path, out: Path, parameters: dict[str, Any], cwd: Path) -> None:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        pm.execute_notebook(str(nb), str(out), parameters=parameters, kernel_name="python3", progress_bar=False, cwd=str(cwd))
    except PapermillExecutionError as exc:
        first = next((ln for ln in str(exc.source).splitlines() if ln.strip()), "")
        raise RunError(f"notebook {nb.name} failed in cell [{exc.exec_count}] starting `{first.strip()}`: {exc.ename}: {exc.evalue}") from exc


def run_book(opts: RunOptions) -> dict[str, Any]:
    """Execute the notebooks and build the book; returns the run record.

    Raises
    ------
    RunError
        When parameters, a notebook, the book build or the privacy check fail.  The
        previous ``_build/`` and ``book/executed/`` stay as they were.
    """
    root = repo_root()
    base = load_params(opts.profile)
    overrides = dict(opts.overrides)
    overrides.update(_data_overrides(opts.data, sorted(base["studies"])))
    params = load_params(opts.profile, overrides)
    results = Path(opts.results_dir or default_results_dir(opts.profile)).resolve()
    paths = ResultPaths(results)
    order = notebook_order(root)
    chosen = [n for n in order if n != APPENDIX and (not opts.only or n in opts.only)]
    unknown = sorted(set(opts.only) - set(order))
    if unknown:
        raise RunError(f"--only: unknown notebook(s) {unknown}; notebooks: {order}")

    staging = results / "executed"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    record = new_record(profile=opts.profile, params=params, overrides=overrides, repo=root)
    injected = {"profile": opts.profile, "overrides": overrides, "results_dir": str(results)}
    for name in chosen:
        t0 = time.perf_counter()
        print(f"[ecrs] executing {name} ...", flush=True)
        try:
            _execute(root / "notebooks" / f"{name}.ipynb", staging / f"{name}.ipynb", injected, root)
        except RunError:
            failed = results / "failed"
            failed.mkdir(parents=True, exist_ok=True)
            shutil.copy2(staging / f"{name}.ipynb", failed / f"{name}.ipynb")
            print(f"[ecrs] the executed notebook is kept at {failed / (name + '.ipynb')}; the book was not rebuilt", file=sys.stderr)
            raise
        record["notebooks"].append({"name": name, "seconds": round(time.perf_counter() - t0, 2)})

    ids: set[str] = set()
    for study in params["studies"]:
        p = paths.inputs(study)
        if p.exists():
            info = json.loads(p.read_text(encoding="utf-8"))
            ids.update(info.pop("patient_ids", []))
            record["inputs"][study] = info
    record["finished_notebooks"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    write_json(record, paths.run_record)
    if APPENDIX in order:
        _execute(root / "notebooks" / f"{APPENDIX}.ipynb", staging / f"{APPENDIX}.ipynb", injected, root)

    if opts.build:
        _publish(root, staging, order)
        t0 = time.perf_counter()
        _build(root)
        record["book_build_seconds"] = round(time.perf_counter() - t0, 2)
        hits = find_identifiers(root / "_build" / "html", ids)
        if hits:
            shutil.rmtree(root / "_build" / "html")
            raise RunError(f"privacy check failed: patient identifiers appear in the rendered book ({dict(list(hits.items())[:3])}); the HTML was removed")
        short = sorted(i for i in ids if len(i) < 4)
        if short:
            print(f"[ecrs] warning: {len(short)} patient id(s) are too short to check for in the rendered book", file=sys.stderr)
    record["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    write_json(record, paths.run_record)
    return record


def _publish(root: Path, staging: Path, order: list[str]) -> None:
    """Copy the freshly executed notebooks to book/executed/ (others from earlier runs stay)."""
    target = root / "book" / "executed"
    target.mkdir(parents=True, exist_ok=True)
    for nb in staging.glob("*.ipynb"):
        tmp = target / f".{nb.name}.tmp"
        shutil.copy2(nb, tmp)
        os.replace(tmp, target / nb.name)
    missing = [n for n in order if not (target / f"{n}.ipynb").exists()]
    if missing:
        raise RunError(f"the book needs executed notebooks that no run has produced yet: {missing}; run without --only first")
    profile = json.loads((staging / f"{APPENDIX}.ipynb").read_text(encoding="utf-8"))["metadata"]["papermill"]["parameters"]["profile"]
    stale = []
    for n in order:
        meta = json.loads((target / f"{n}.ipynb").read_text(encoding="utf-8"))["metadata"].get("papermill", {})
        if meta.get("parameters", {}).get("profile") != profile:
            stale.append(f"{n} ({meta.get('parameters', {}).get('profile')})")
    if stale:
        raise RunError(f"book/executed holds notebooks of another profile than {profile!r}: {stale}; run without --only to rebuild them")


def _build(root: Path) -> None:
    """jupyter-book build into a staging folder, then swap it in as _build/."""
    stage = root / ".build_staging"
    if stage.exists():
        shutil.rmtree(stage)
    install_plotlyjs(root / "book" / "_static")  # html_js_files in _config.yml: the 3D views' only script
    cmd = [sys.executable, "-m", "jupyter_book.cli.main", "build", str(root), "--path-output", str(stage), "--warningiserror", "--nitpick", "--keep-going", "--quiet"]
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    if jb:
        cmd = [jb] + cmd[3:]
    print("[ecrs] building the book ...", flush=True)
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if proc.returncode != 0 or not (stage / "_build" / "html" / "index.html").exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        raise RunError(f"jupyter-book build failed (exit {proc.returncode}); the previous book is untouched:\n{tail}")
    final = root / "_build"
    old = root / "._build.old"
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(stage / "_build", final)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)
