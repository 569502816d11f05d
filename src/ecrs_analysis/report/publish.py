"""Building the book from the executed chapters, checking it for identifiers, and publishing it.

The book is assembled and rendered inside the results folder (``<results>/book/``); the
privacy check runs on that staged copy; only then does :func:`publish_book` swap it into
``_build/html`` — so a failed run, or a book that shows an identifier, never replaces the
last good book.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ecrs_analysis.report.privacy import find_identifiers, identifiers_of, unverifiable
from ecrs_analysis.explain.mesh import install_plotlyjs
from ecrs_analysis.paths import ResultPaths

__all__ = ["BookError", "build_book", "publish_book", "study_identifiers"]


class BookError(RuntimeError):
    """The book could not be built or must not be published."""


def study_identifiers(paths: ResultPaths) -> set[str]:
    """Identifiers of every cohort of the run: patient ids, scan dates, identifying columns."""
    from ecrs_analysis.data.study import load_cohort

    ids: set[str] = set()
    for meta in paths.root.glob("*/cohort.json"):
        ids |= identifiers_of(load_cohort(paths, meta.parent.name))
    return ids


def _assemble(root: Path, source: Path, executed: Path, chapters: Sequence[str]) -> None:
    if source.exists():
        shutil.rmtree(source)
    (source / "book" / "executed").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, source / name)
    for md in (root / "book").glob("*.md"):
        shutil.copy2(md, source / "book" / md.name)
    if (root / "book" / "_static").is_dir():
        shutil.copytree(root / "book" / "_static", source / "book" / "_static", ignore=shutil.ignore_patterns("plotly.min.js"))
    # the interactive 3D views' only script, from the installed plotly (the book is offline)
    install_plotlyjs(source / "book" / "_static")
    for name in chapters:
        shutil.copy2(executed / f"{name}.ipynb", source / "book" / "executed" / f"{name}.ipynb")
        downloads = executed.parent / "downloads" / name  # the figures and tables the chapter's captions link to
        if downloads.is_dir():
            shutil.copytree(downloads, source / "book" / "executed" / "downloads" / name)


def build_book(*, root: str | Path, paths: ResultPaths, chapters: Sequence[str]) -> Path:
    """Render the executed chapters into ``<results>/book/html`` and check it for identifiers."""
    root = Path(root)
    stage = paths.root / "book"
    source, out = stage / "source", stage / "build"
    _assemble(root, source, paths.executed, chapters)
    if out.exists():
        shutil.rmtree(out)
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    cmd = ([jb] if jb else [sys.executable, "-m", "jupyter_book.cli.main"]) + ["build", str(source), "--path-output", str(out), "--warningiserror", "--nitpick", "--keep-going", "--quiet"]
    proc = subprocess.run(cmd, cwd=source, capture_output=True, text=True)
    html = out / "_build" / "html"
    if proc.returncode != 0 or not (html / "index.html").exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        raise BookError(f"jupyter-book build failed (exit {proc.returncode}):\n{tail}")
    ids = study_identifiers(paths)
    hits = find_identifiers(html, ids, book_root=root)
    blind = unverifiable(ids, root)
    if blind:  # e.g. an id that is also a number in the book's prose: it cannot be told apart
        print(f"[ecrs] warning: {len(blind)} identifier(s) also occur in the book's own text or are too short, and cannot be checked", flush=True)
    if hits:
        shutil.rmtree(out)
        first = sorted(hits)[:3]
        raise BookError(f"privacy check failed: {sum(len(v) for v in hits.values())} patient identifier(s) appear in {len(hits)} rendered file(s), e.g. {first}; the book was not published")
    final = stage / "html"
    if final.exists():
        shutil.rmtree(final)
    os.replace(html, final)
    shutil.rmtree(out, ignore_errors=True)
    return final


def publish_book(staged: str | Path, root: str | Path) -> Path:
    """Swap a staged, checked book in as ``<root>/_build/html`` (the old one is removed only after)."""
    staged, target = Path(staged), Path(root) / "_build" / "html"
    if not (staged / "index.html").exists():
        raise BookError(f"no built book at {staged}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(".html.new")
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(staged, tmp)
    old = target.with_name(".html.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    return target
