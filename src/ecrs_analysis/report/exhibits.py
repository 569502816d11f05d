"""Numbered figures and tables of a chapter, each with a caption and a download.

``Figure 4.2`` is the second figure of ``04_integrated_model``: the number comes from the
notebook's name, so it is known when the chapter runs and the download can carry it
(``figure-4-2.png`` at 300 dpi, ``table-4-1.csv``). Downloads are written to
``results/<profile>/downloads/<chapter>/``; the book copies that folder beside the page
and links each file from its caption (Sphinx ``{download}`` role, checked by the build).
Pages without a chapter number (the landing page, the checklist, the appendix) number
their exhibits 1, 2, ...

Prose may refer to an exhibit by its number ("Figure 4.2"); :func:`check_references`
(run on every executed chapter) fails the chapter when the prose names one that the
chapter does not show.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ecrs_analysis.atomic import atomic_path, write_csv

__all__ = ["Exhibits", "downloads_dir", "chapter_number", "check_references", "clear_downloads", "DPI"]

DPI = 300  # print resolution of figure downloads
_CAPTION = re.compile(r"^\*\*(Figure|Table) ([0-9.]+)\.\*\*")
_REFERENCE = re.compile(r"\b(Figure|Table) (\d+(?:\.\d+)?)\b")


def downloads_dir(results: Any, chapter: str) -> Path:
    """``results/<profile>/downloads/<chapter>``."""
    root = Path(results) if isinstance(results, (str, os.PathLike)) else Path(results.root)
    return root / "downloads" / chapter


def clear_downloads(results: Any, chapter: str) -> Path:
    """Empty a chapter's download folder before it runs (no stale file of an earlier run survives)."""
    folder = downloads_dir(results, chapter)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def chapter_number(chapter: str) -> int | None:
    """``4`` for ``04_integrated_model``; None for unnumbered pages (``00_``, ``9x_``)."""
    m = re.match(r"(\d+)_", chapter)
    if not m:
        return None
    n = int(m.group(1))
    return n if 1 <= n < 90 else None


class Exhibits:
    """The figures and tables one chapter shows, numbered in the order shown.

    Parameters
    ----------
    results : ResultPaths or path
        The run's results (the notebook's ``paths``).
    chapter : str
        The notebook's name, e.g. ``"04_integrated_model"``.
    """

    def __init__(self, results: Any, chapter: str) -> None:
        self.chapter = chapter
        self.folder = downloads_dir(results, chapter)
        self._prefix = f"{chapter_number(chapter)}." if chapter_number(chapter) is not None else ""
        self._count = {"Figure": 0, "Table": 0}
        self.shown: list[str] = []  # "Figure 4.1", "Table 4.1", ... in the order shown

    def _next(self, kind: str) -> tuple[str, str]:
        self._count[kind] += 1
        number = f"{self._prefix}{self._count[kind]}"
        return number, f"{kind.lower()}-{number.replace('.', '-')}"

    def _link(self, path: Path, text: str) -> str:
        return f"{{download}}`{text} <downloads/{self.chapter}/{path.name}>`"

    def figure(self, fig: Any, caption: str) -> None:
        """Show a matplotlib figure with its numbered caption; save it at 300 dpi.

        The figure is closed afterwards, so it is not shown a second time.
        """
        import matplotlib.pyplot as plt
        from IPython.display import Markdown, display

        number, stem = self._next("Figure")
        target = self.folder / f"{stem}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format="png")
        display(fig)
        plt.close(fig)
        display(Markdown(f"**Figure {number}.** {caption.strip()} {self._link(target, 'PNG, 300 dpi')}"))
        self.shown.append(f"Figure {number}")

    def table(self, shown: pd.DataFrame | str, caption: str, *, data: pd.DataFrame | None = None, index: bool = True) -> None:
        """Show a table under its numbered caption; save ``data`` (default: ``shown``) as CSV.

        ``shown`` is the table for reading: formatted strings (:mod:`ecrs_analysis.report.format`),
        or MyST markdown text (a table whose cells link to other pages); ``data`` holds the
        raw numbers behind it, which the download carries (required with markdown).
        """
        from IPython.display import Markdown, display

        if data is None and isinstance(shown, str):
            raise ValueError(f"{self.chapter}: a table shown as markdown needs `data` for its CSV download")
        number, stem = self._next("Table")
        target = write_csv(data if data is not None else shown, self.folder / f"{stem}.csv", index=index)
        display(Markdown(f"**Table {number}.** {caption.strip()} {self._link(target, 'CSV')}"))
        display(Markdown(shown) if isinstance(shown, str) else shown)
        self.shown.append(f"Table {number}")


def _texts(cells: Iterable[dict[str, Any]], kind: str) -> Iterable[str]:
    for cell in cells:
        if kind == "markdown" and cell.get("cell_type") == "markdown":
            yield "".join(cell.get("source", ""))
        elif kind == "output" and cell.get("cell_type") == "code":
            for out in cell.get("outputs", []):
                md = out.get("data", {}).get("text/markdown")
                if md:
                    yield "".join(md)


def check_references(nb: dict[str, Any], chapter: str) -> list[str]:
    """Exhibit numbers the prose of an executed notebook names but the notebook does not show.

    Only numbers of this chapter are checked ("Figure 4.x" in chapter 04); an empty list
    means every reference resolves.
    """
    shown = set()
    for text in _texts(nb.get("cells", []), "output"):
        m = _CAPTION.match(text.strip())
        if m:
            shown.add(f"{m.group(1)} {m.group(2)}")
    n = chapter_number(chapter)
    missing = []
    for text in _texts(nb.get("cells", []), "markdown"):
        for kind, number in _REFERENCE.findall(text):
            mine = ("." in number and number.split(".")[0] == str(n)) if n is not None else "." not in number
            name = f"{kind} {number}"
            if mine and name not in shown and name not in missing:
                missing.append(name)
    return missing
