"""Building the book from the executed chapters, checking it for identifiers, and publishing it.

The book is assembled and rendered inside the results folder (``<results>/book/``); the
privacy check runs on that staged copy; only then does :func:`publish_book` switch
``_build/html`` (a link) onto a complete copy of it — so a failed run, or a book that shows an
identifier, never replaces the last good book, and a reader never finds the path missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from ecrs_analysis.report.privacy import find_identifiers, identifiers_of, unverifiable
from ecrs_analysis.explain.mesh import install_plotlyjs
from ecrs_analysis.paths import ResultPaths

__all__ = ["BookError", "build_book", "publish_book", "study_identifiers"]


class BookError(RuntimeError):
    """The book could not be built or must not be published."""


def study_identifiers(paths: ResultPaths) -> set[str]:
    """Identifiers of every cohort of the run: patient ids, scan dates, identifying columns."""
    from ecrs_analysis.data.study import load_cohort  # lazy: loads scipy, sklearn

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


def _switch(target: Path, version: str) -> str | None:
    """Point ``target`` at the sibling folder ``version``; the path never goes missing for a reader.

    Returns the name of the sibling folder that now holds the previous book (None when there was none).
    """
    link = target.with_name(f".html.link-{os.getpid()}")
    if link.is_symlink() or link.exists():
        _remove(link)
    os.symlink(version, link)  # relative: the checkout can move
    if target.is_symlink() or not target.exists():
        previous = os.readlink(target) if target.is_symlink() else None
        os.replace(link, target)  # one rename swaps a link for a link
        return previous
    # a real folder where the link belongs (e.g. a book built by hand with `jupyter-book build`):
    # moved aside, then the link put in its place; two renames, so a reader may miss the book between them
    previous = f".html-replaced-{os.getpid()}"
    os.replace(target, target.with_name(previous))
    os.replace(link, target)
    return previous


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _publishing(build: Path) -> Iterator[None]:
    """One publication at a time per checkout (two profiles' runs may finish together)."""
    fd = os.open(build, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def publish_book(staged: str | Path, root: str | Path) -> Path:
    """Publish a staged, checked book as ``<root>/_build/html`` without a moment when readers find no book.

    ``_build/html`` is a symbolic link to a complete sibling folder ``_build/.html-<stamp>``: the
    new book is copied whole into a folder of its own, the link is switched onto it with one
    rename. The previous book's folder stays until the next publication (a reader that
followed the link just before the switch still finds its files); older ones, and whatever a
killed publication left, are removed.
    A ``_build/html`` that is a real folder (not made by this function) is moved aside first.

    Parameters
    ----------
    staged
        The rendered, privacy-checked book (``<results>/book/html``).
    root
        The checkout whose ``_build/html`` is replaced.

    Returns
    -------
    Path
        ``<root>/_build/html``.
    """
    staged, build = Path(staged), Path(root) / "_build"
    target = build / "html"
    if not (staged / "index.html").exists():
        raise BookError(f"no built book at {staged}")
    build.mkdir(parents=True, exist_ok=True)
    with _publishing(build):
        version = f".html-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
        shutil.copytree(staged, build / version)
        previous = _switch(target, version)
        for old in build.glob(".html*"):  # older books, and leftovers of killed publications
            if old.name not in (version, previous):
                _remove(old)
    return target
