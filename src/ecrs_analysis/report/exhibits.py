"""Numbered figures and tables of a chapter, each with a caption and a download.

``Figure 4.2`` is the second figure of the fourth chapter in the reading order of the
book's ``_toc.yml`` (numbered chapters only: notebooks ``01_`` to ``89_``). The reading order
is not the order of the notebooks' names (``07_proteomics`` is read before ``05_mtlnet``), so
the number comes from the TOC; it is known when the chapter runs and the download can carry
it (``figure-4-2.png`` at 300 dpi, ``table-4-1.csv``). Heavy figures can be shown at a
screen resolution (``screen_dpi``) and carry an interactive HTML view as a second download. Downloads are written to
``results/<profile>/downloads/<chapter>/``; the book copies that folder beside the page
and links each file from its caption (Sphinx ``{download}`` role, checked by the build).
Pages without a chapter number (the landing page, the checklist, the appendix) number
their exhibits 1, 2, ...

Under each caption a provenance line links what made the exhibit (:mod:`ecrs_analysis.report.provenance_links`):
the notebook cell, the artefacts it shows (``source=``) with their sha256 and the job that wrote each
one, and that job's record in the appendix (rule, parameter and code fingerprints, commit, input
sha256s); an exhibit without ``source`` links its chapter's own record. Nothing is linked when the
results folder holds no provenance (no workflow run wrote it) or the chapter opts out.

Prose may refer to an exhibit by its number ("Figure 4.2"); :func:`check_references`
(run on every executed chapter) fails the chapter when the prose names one that the
chapter does not show.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ecrs_analysis.atomic import atomic_path, write_csv
from ecrs_analysis.report import provenance_links as PL

__all__ = ["Exhibits", "downloads_dir", "chapter_number", "reading_order", "check_references", "uncaptioned", "clear_downloads", "DPI"]

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


TOC = Path(__file__).resolve().parents[3] / "_toc.yml"  # the checkout's book (the package is installed from src/)


def _numbered(chapter: str) -> bool:
    m = re.match(r"(\d+)_", chapter)
    return m is not None and 1 <= int(m.group(1)) < 90


@lru_cache(maxsize=4)
def reading_order(toc: Path = TOC) -> tuple[str, ...]:
    """The numbered chapters (``01_`` to ``89_``) in the order ``_toc.yml`` lists them; empty without a TOC."""
    if not Path(toc).exists():
        return ()
    names = re.findall(r"book/executed/(\w+)", Path(toc).read_text(encoding="utf-8"))
    return tuple(n for n in names if _numbered(n))


def chapter_number(chapter: str, *, toc: Path = TOC) -> int | None:
    """The chapter's position among the numbered chapters of ``_toc.yml`` (1, 2, ...); None for unnumbered pages (``00_``, ``9x_``).

    ``04_integrated_model`` is chapter 4 because it is the fourth numbered chapter read; a
    numbered notebook the TOC does not list (or a checkout without a TOC) keeps its file prefix.
    """
    if not _numbered(chapter):
        return None
    order = reading_order(Path(toc))
    return order.index(chapter) + 1 if chapter in order else int(chapter.split("_")[0])


class Exhibits:
    """The figures and tables one chapter shows, numbered in the order shown.

    Parameters
    ----------
    results : ResultPaths or path
        The run's results (the notebook's ``paths``).
    chapter : str
        The notebook's name, e.g. ``"04_integrated_model"``.
    provenance : bool
        Put a provenance line under each caption (default) when the results folder holds the jobs'
        provenance files; the appendix, which shows the records themselves, turns it off.
    """

    def __init__(self, results: Any, chapter: str, *, provenance: bool = True) -> None:
        self.chapter = chapter
        self.folder = downloads_dir(results, chapter)
        self.root = Path(results) if isinstance(results, (str, os.PathLike)) else Path(results.root)
        self.provenance = provenance and (self.root / "provenance").is_dir()
        self._records: dict[str, dict[str, Any]] | None = None
        self._prefix = f"{chapter_number(chapter)}." if chapter_number(chapter) is not None else ""
        self._count = {"Figure": 0, "Table": 0}
        self.shown: list[str] = []  # "Figure 4.1", "Table 4.1", ... in the order shown

    def _next(self, kind: str) -> tuple[str, str]:
        self._count[kind] += 1
        number = f"{self._prefix}{self._count[kind]}"
        return number, f"{kind.lower()}-{number.replace('.', '-')}"

    def _link(self, path: Path, text: str) -> str:
        return f"{{download}}`{text} <downloads/{self.chapter}/{path.name}>`"

    def provenance_line(self, source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None) -> str:
        """The caption's provenance line (MyST) for an exhibit showing ``source``; empty when provenance is off."""
        if not self.provenance:
            return ""
        sources = [] if source is None else [source] if isinstance(source, (str, os.PathLike)) else list(source)
        if sources and self._records is None:
            self._records = PL.read_records(self.root / "provenance")
        return PL.caption_line(chapter=self.chapter, cell=_cell(), sources=sources, records=self._records or {}, results_root=self.root)

    def _caption(self, kind: str, number: str, caption: str, links: str, source: Any) -> str:
        line = self.provenance_line(source)
        text = f"**{kind} {number}.** {caption.strip()} {links}"
        return f"{text}\\\n{line}" if line else text

    def figure(self, fig: Any, caption: str, *, screen_dpi: int | None = None, interactive: str | None = None,
               source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None) -> None:
        """Show a matplotlib figure with its numbered caption; save it at 300 dpi.

        The figure is closed afterwards, so it is not shown a second time.

        Parameters
        ----------
        screen_dpi : int, optional
            Show the figure at this resolution, as a 256-colour PNG (Pillow's quantiser), instead of
            the notebook's default: for large panels of maps that would weigh down the page. The
            download keeps 300 dpi and full colour.
        interactive : str, optional
            A self-contained HTML page (e.g. an interactive 3D view) saved beside the PNG as
            ``figure-<chapter>-<n>.html`` and linked from the caption; the page itself does not load it.
        source : path or paths, optional
            The artefact(s) under ``results/<profile>/`` the figure draws: the caption links the job
            that wrote each one (its provenance record in the appendix) and shows its sha256.
            Without it the caption links the chapter's own record.
        """
        import matplotlib.pyplot as plt
        from IPython.display import Image, Markdown, display

        number, stem = self._next("Figure")
        target = self.folder / f"{stem}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format="png")
        links = [self._link(target, "PNG, 300 dpi")]
        if interactive is not None:
            page = self.folder / f"{stem}.html"
            with atomic_path(page) as tmp:
                Path(tmp).write_text(interactive, encoding="utf-8")
            links.append(self._link(page, "interactive view, HTML"))
        if screen_dpi is None:
            display(fig)
        else:
            display(Image(data=_screen_png(fig, dpi=screen_dpi)))
        plt.close(fig)
        display(Markdown(self._caption("Figure", number, caption, "; ".join(links), source)))
        self.shown.append(f"Figure {number}")

    def figures(self, figs: Sequence[Any], captions: Sequence[str], **options: Any) -> None:
        """Several figures in a row (e.g. one per network), each numbered with its own caption; options as :meth:`figure`."""
        if len(figs) != len(captions):
            raise ValueError(f"{self.chapter}: {len(figs)} figures but {len(captions)} captions")
        for fig, caption in zip(figs, captions):
            self.figure(fig, caption, **options)

    def table(self, shown: pd.DataFrame | str, caption: str, *, data: pd.DataFrame | None = None, index: bool = True,
              source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None) -> None:
        """Show a table under its numbered caption; save ``data`` (default: ``shown``) as CSV.

        ``shown`` is the table for reading: formatted strings (:mod:`ecrs_analysis.report.format`),
        or MyST markdown text (a table whose cells link to other pages); ``data`` holds the
        raw numbers behind it, which the download carries (required with markdown). ``source``: the
        artefact(s) the table shows, as in :meth:`figure`.
        """
        from IPython.display import Markdown, display

        if data is None and isinstance(shown, str):
            raise ValueError(f"{self.chapter}: a table shown as markdown needs `data` for its CSV download")
        number, stem = self._next("Table")
        target = write_csv(data if data is not None else shown, self.folder / f"{stem}.csv", index=index)
        display(Markdown(self._caption("Table", number, caption, self._link(target, "CSV"), source)))
        display(Markdown(shown) if isinstance(shown, str) else shown)
        self.shown.append(f"Table {number}")


def _cell() -> int | None:
    """The execution count of the notebook cell running now (``In [7]``); None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebooks' kernel
        return None
    shell = get_ipython()
    if shell is None:
        return None
    # The running cell's input is stored in the history before it runs, under its own count; the shell's
    # execution_count is already the next one in IPython 9 (and still this one in older versions).
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    return len(history) - 1 if history else getattr(shell, "execution_count", None)


def _screen_png(fig: Any, *, dpi: int) -> bytes:
    """The figure as a 256-colour PNG at ``dpi`` (maps and curves keep their look at a fraction of the bytes)."""
    from PIL import Image as PILImage

    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, bbox_inches="tight", format="png")
    image = PILImage.open(io.BytesIO(buf.getvalue())).convert("RGB").quantize(colors=256, method=PILImage.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


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


def _kinds(nb: dict[str, Any]) -> list[tuple[int, str]]:
    """(cell index, kind) of every displayed output: "figure", "table", "figure caption", "table caption" or "text"."""
    out = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            html = "".join(data.get("text/html", ""))
            md = "".join(data.get("text/markdown", "")).strip()
            if "image/png" in data or "image/svg+xml" in data or "image/jpeg" in data or "application/vnd.plotly.v1+json" in data or "plotly" in html:
                out.append((i, "figure"))
            elif "<table" in html:
                out.append((i, "table"))
            elif caption := _CAPTION.match(md):
                out.append((i, f"{caption.group(1).lower()} caption"))
            elif md.startswith("|") or "\n|" in md:
                out.append((i, "table"))
            elif data or o.get("output_type") == "stream":
                out.append((i, "text"))
    return out


def uncaptioned(nb: dict[str, Any]) -> list[str]:
    """Figures and tables an executed notebook shows outside :class:`Exhibits`, as ``"figure in cell 12"``.

    :meth:`Exhibits.figure` shows the figure, then its caption; :meth:`Exhibits.table` the
    caption, then the table. A figure not followed by a caption, or a table not preceded by
    one, was shown some other way (``plt.show()``, ``display(df)``, a cell's last value).
    """
    kinds = _kinds(nb)
    found = []
    for k, (cell, kind) in enumerate(kinds):
        before = kinds[k - 1][1] if k > 0 else None
        after = kinds[k + 1][1] if k + 1 < len(kinds) else None
        if (kind == "figure" and after != "figure caption") or (kind == "table" and before != "table caption"):
            found.append(f"{kind} in cell {cell}")
    return found
