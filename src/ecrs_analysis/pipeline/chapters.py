"""Executing one chapter with papermill, and the run record the appendix shows."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecrs_analysis.atomic import atomic_path, write_json
from ecrs_analysis.pipeline.provenance import provenance_closure, read_provenance, run_id
from ecrs_analysis.pipeline.record import git_state, package_versions
from ecrs_analysis.data.study import ResultPaths
from ecrs_analysis.report.exhibits import check_references, clear_downloads
from ecrs_analysis.report.privacy import scrub_notebook
from ecrs_analysis.report.publish import study_identifiers

__all__ = ["ChapterError", "execute_chapter", "build_run_record", "tag_for_reading"]

# Tags that already say how a cell is shown (myst-nb / Jupyter Book); such a cell is left as its author tagged it.
_SHOWN_AS = {"remove-cell", "remove-input", "remove-output", "hide-cell", "hide-input", "hide-output", "show-input"}


class ChapterError(RuntimeError):
    """A chapter's notebook failed; the message names the notebook, cell and exception."""


def tag_for_reading(nb: dict[str, Any]) -> dict[str, Any]:
    """Tag an executed notebook's cells so the book reads as a report, not as code.

    The parameters cell and papermill's injected-parameters cell are removed from the page
    (``remove-cell``); every other code cell keeps its code one click away (``hide-input``),
    unless its author tagged it already (e.g. ``show-input``). Done here, after papermill,
    so the committed notebooks stay free of presentation tags.
    """
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        tags = list(cell.setdefault("metadata", {}).get("tags", []))
        if "parameters" in tags or "injected-parameters" in tags:
            tags.append("remove-cell")
        elif not _SHOWN_AS.intersection(tags):
            tags.append("hide-input")
        cell["metadata"]["tags"] = list(dict.fromkeys(tags))
    return nb


def execute_chapter(name: str, *, root: str | Path, paths: ResultPaths, profile: str, config: dict[str, Any]) -> Path:
    """Execute ``notebooks/<name>.ipynb`` into ``<results>/executed/<name>.ipynb``.

    papermill injects ``profile``, ``results_dir`` and ``config`` (the parameters the
    chapter declared). The executed notebook appears only when every cell succeeded, its
    cells tagged for reading (:func:`tag_for_reading`) and every "Figure 4.2" its prose
    names shown by the chapter (:func:`~ecrs_analysis.report.exhibits.check_references`); a
    failed one is kept as ``<results>/failed/<name>.ipynb`` for inspection. The chapter's
    download folder (``<results>/downloads/<name>``) is emptied first.
    """
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    root = Path(root)
    target = paths.executed / f"{name}.ipynb"
    injected = {"profile": profile, "results_dir": str(paths.root), "config": config}
    clear_downloads(paths, name)
    with atomic_path(target) as tmp:
        try:
            pm.execute_notebook(str(root / "notebooks" / f"{name}.ipynb"), str(tmp), parameters=injected, kernel_name="python3", progress_bar=False, cwd=str(root))
        except PapermillExecutionError as exc:
            if exc.ename == "ChapterSkipped":  # optional data absent: the page says why instead of failing the book
                _write_skipped(root / "notebooks" / f"{name}.ipynb", tmp, reason=str(exc.evalue))
                return target
            failed = paths.root / "failed" / f"{name}.ipynb"
            failed.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(tmp, failed)
            _scrub(failed, paths)  # kept for inspection, without patient identifiers
            first = next((ln for ln in str(exc.source).splitlines() if ln.strip()), "")
            raise ChapterError(
                f"notebook {name}.ipynb failed in cell [{exc.exec_count}] starting `{first.strip()}`: {exc.ename}: {exc.evalue} "
                f"(the executed notebook is kept at {failed})"
            ) from None
        nb = nbformat.read(str(tmp), as_version=4)
        missing = check_references(nb, name)
        if missing:
            raise ChapterError(f"notebook {name}.ipynb names {', '.join(missing)} in its prose, but shows no such figure or table (numbers follow the order of Exhibits.figure/.table calls)")
        for cell in nb.cells:  # papermill gives its parameters cell a random id: the same id in every build
            if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                cell["id"] = "injected-parameters"
        nbformat.write(tag_for_reading(nb), str(tmp))
    return target


def _scrub(notebook: Path, paths: ResultPaths) -> None:
    scrub_notebook(notebook, study_identifiers(paths))


def _write_skipped(source: Path, target: Path, *, reason: str) -> None:
    """The chapter's title and introduction, then why it was not run on this cohort."""
    import nbformat

    nb = nbformat.read(str(source), as_version=4)
    intro = [c for c in nb.cells[:1] if c.cell_type == "markdown"]
    note = nbformat.v4.new_markdown_cell(f"```{{note}}\nThis chapter was not run on this cohort: {reason}.\n```")
    nb.cells = intro + [note]
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i:02d}"
    nbformat.write(nb, str(target))


def build_run_record(paths: ResultPaths, *, root: str | Path, chapters: Sequence[str]) -> dict[str, Any]:
    """``run_record.json``: for every job that feeds the book, what it ran with and whether it ran now.

    The jobs are found by following the chapters' provenance back through their inputs
    (:func:`provenance.provenance_closure`); a job whose ``run_id`` is this run's was
    re-executed, any other was reused from the run it names.
    """
    records = read_provenance(paths.provenance)
    current = run_id()
    run_info_path = paths.root / "run.json"
    run_info = json.loads(run_info_path.read_text(encoding="utf-8")) if run_info_path.exists() else {}
    jobs = []
    for name in provenance_closure(records, [f"chapter-{c}" for c in chapters]):
        rec = records[name]
        jobs.append({
            "job": name,
            "status": "re-executed" if rec["run_id"] == current else "reused",
            "run": rec["run_id"],
            "finished": rec["finished"],
            "seconds": rec["seconds"],
            "commit": rec["git"]["commit"],
            "dirty": rec["git"]["dirty"],
            "code": rec["code"],
            "params": rec["params"],
            "inputs": rec["inputs"],
        })
    inputs = {}
    for study in sorted({p.parent.name for p in paths.root.glob("*/inputs.json")}):
        info = json.loads((paths.root / study / "inputs.json").read_text(encoding="utf-8"))
        info.pop("patient_ids", None)
        inputs[study] = info
    record = {
        "run": current,
        "profile": run_info.get("profile"),
        "overrides": run_info.get("overrides", {}),
        "params": run_info.get("params", {}),
        "started": run_info.get("started"),
        "git": git_state(root),
        "python": run_info.get("python"),
        "packages": package_versions(),
        "device": next((records[j["job"]]["device"] for j in jobs if j["job"].startswith("train-")), records[jobs[0]["job"]]["device"] if jobs else {}),
        "jobs": jobs,
        "inputs": inputs,
    }
    write_json(record, paths.run_record)
    return record
