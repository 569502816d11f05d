"""The published book as one PDF, printed offline by the system's Chromium.

Reviewers and journals ask for one file. Jupyter Book 1.x offers two PDF builders, neither usable
offline here: ``pdfhtml`` downloads its own Chromium through pyppeteer, ``pdflatex`` needs a TeX
installation. This module prints the pages of the published book itself (``_build/html``), so the
PDF shows what the web pages show — the same numbered figures and tables ("Figure 4.2") and their
captions:

1. :func:`reading_order` takes the pages in the order of the book's own navigation (that of
   ``_toc.yml``), from its landing page;
2. :func:`combined_document` joins their articles into one HTML document, each page a
   ``<section>`` that starts a new sheet, with the book's stylesheets; ids are prefixed by page so
   links between pages become links inside the PDF; scripts are left out (a printed page runs
   none) and so are links to downloads, which would point into this machine's folders;
3. :func:`print_pdf` has headless Chromium print that document (``--print-to-pdf``, an outline
   from the headings, page numbers in the footer) with every host name unresolvable, so nothing
   is fetched from the network.

``make pdf`` (after a book build) writes ``_build/pdf/ecrs-book.pdf``::

    python -m ecrs_analysis.report.pdf --html _build/html --out _build/pdf/ecrs-book.pdf

Chromium is found as ``$CHROMIUM``, ``chromium``, ``chromium-browser`` or ``google-chrome``
(Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, Tag

__all__ = ["PdfError", "BookPage", "reading_order", "combined_document", "find_chromium", "print_pdf", "build_pdf", "main"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# What a loaded resource is: these attributes of these elements make the browser fetch something.
RESOURCE_ATTRS = {"img": "src", "source": "src", "video": "src", "audio": "src", "iframe": "src", "embed": "src", "object": "data", "script": "src"}
PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm;
  @bottom-center { content: counter(page) " / " counter(pages); font: 9pt sans-serif; color: #555; } }
html, body { background: #fff !important; }
body { margin: 0; }
.ecrs-pdf-cover { break-after: page; padding-top: 35vh; text-align: center; }
.ecrs-pdf-cover h1 { font-size: 2rem; }
section.ecrs-pdf-page { break-before: page; }
section.ecrs-pdf-page:first-of-type { break-before: auto; }
/* The theme's print style hides each page's first title (it prints it elsewhere): here every page keeps its own. */
.bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
.bd-main .bd-content { margin-left: 0 !important; }
.headerlink, .toggle-button, .copybtn, button { display: none !important; }
details > summary { display: none !important; }
figure, .cell_output img, table, .admonition { break-inside: avoid; }
h1, h2, h3, h4 { break-after: avoid; }
img { max-width: 100% !important; height: auto !important; }
table { font-size: 8.5pt; }
"""


class PdfError(RuntimeError):
    """The book could not be printed (no book, no Chromium, Chromium failed)."""


@dataclass(frozen=True)
class BookPage:
    """One page of the published book: its path under the HTML folder and its anchor in the PDF."""

    path: PurePosixPath

    @property
    def anchor(self) -> str:
        """``page-book-executed-03_deep_models``: the id of the page's section in the PDF."""
        return "page-" + re.sub(r"[^A-Za-z0-9_]+", "-", str(self.path.with_suffix("")))


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _landing(html: Path) -> PurePosixPath:
    """The first page: ``index.html``, or the page it redirects to (Jupyter Book's index is a redirect)."""
    index = html / "index.html"
    if not index.is_file():
        raise PdfError(f"no book in {html}: {index} is missing; build it first (make smoke, or make book)")
    refresh = _soup(index).find("meta", attrs={"http-equiv": re.compile("refresh", re.I)})
    if refresh is not None:
        m = re.search(r"url=([^;]+)$", str(refresh.get("content", "")), re.I)
        if m:
            return PurePosixPath(unquote(urlsplit(m.group(1).strip()).path))
    return PurePosixPath("index.html")


def _local_target(html: Path, page: PurePosixPath, ref: str) -> tuple[PurePosixPath, str] | None:
    """A relative link of ``page``, as (path under ``html``, fragment); ``None`` for an external or outside link."""
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc:
        return None
    if not parts.path:
        return page, parts.fragment
    base = Path(os.path.abspath(html))
    target = Path(os.path.normpath(base / page.parent / unquote(parts.path)))
    try:
        rel = target.relative_to(base)
    except ValueError:  # above the book's folder
        return None
    return PurePosixPath(rel.as_posix()), parts.fragment


def reading_order(html: Path) -> list[BookPage]:
    """The book's pages in reading order: its landing page, then its navigation's links.

    Raises
    ------
    PdfError
        Without a book in ``html``, or when a page the navigation lists is missing.
    """
    html = Path(html)
    first = _landing(html)
    nav = _soup(html / first).select("nav.bd-docs-nav a.reference.internal, nav#bd-docs-nav a.reference.internal")
    pages = [first]
    for a in nav:
        t = _local_target(html, first, str(a.get("href", "")))
        if t is not None and t[0].suffix == ".html" and t[0] not in pages:
            pages.append(t[0])
    missing = [str(p) for p in pages if not (html / p).is_file()]
    if missing:
        raise PdfError(f"the book in {html} links to pages it lacks: {', '.join(missing)}; rebuild it")
    return [BookPage(p) for p in pages]


def _file_uri(path: Path) -> str:
    return path.resolve().as_uri()


def _rewrite(article: Tag, html: Path, page: BookPage, anchors: dict[PurePosixPath, str]) -> None:
    """Make one page's article stand inside the combined document (ids, links, resources)."""
    prefix = page.anchor + "--"
    for el in article.find_all(id=True):
        el["id"] = prefix + str(el["id"])
    for el in article.find_all(["script", "noscript"]):
        el.decompose()
    for el in article.select(".headerlink, details.above-input"):  # hidden code cells are not printed
        el.decompose()
    for el in article.find_all("details"):  # hidden outputs are: a closed <details> prints closed
        el["open"] = ""
    for name, attr in RESOURCE_ATTRS.items():
        for el in article.find_all(name):
            ref = el.get(attr)
            if not ref:
                continue
            t = _local_target(html, page.path, str(ref))
            if t is None:  # a resource from outside the book is never fetched: left out
                el.decompose()
                continue
            el[attr] = _file_uri(html / t[0])
            el.attrs.pop("loading", None)  # a lazy image may not be loaded before printing
            el.attrs.pop("srcset", None)
    for a in article.find_all("a", href=True):
        t = _local_target(html, page.path, str(a["href"]))
        if t is None:
            continue  # an external link stays a link
        target, frag = t
        if target in anchors:
            a["href"] = "#" + (anchors[target] + "--" + frag if frag else anchors[target])
        else:  # a download or a page outside the book: its link would name this machine's folders
            del a["href"]


def combined_document(html: Path, pages: list[BookPage] | None = None) -> str:
    """One HTML document holding every page's article, in reading order, with the book's stylesheets.

    Every resource it loads is a ``file:`` URI inside ``html``; it has no script.
    """
    html = Path(html)
    pages = pages if pages is not None else reading_order(html)
    anchors = {p.path: p.anchor for p in pages}
    first = _soup(html / pages[0].path)
    head_css = []
    for link in first.find_all("link", rel=lambda v: v and "stylesheet" in v):
        t = _local_target(html, pages[0].path, str(link.get("href", "")))
        if t is not None:
            head_css.append(f'<link rel="stylesheet" href="{_file_uri(html / t[0])}">')
    head_css += [str(s) for s in first.head.find_all("style")] if first.head else []
    brand = first.select_one(".navbar-brand .logo__title") or first.select_one(".navbar-brand")
    title = brand.get_text(" ", strip=True) if brand else (first.title.get_text(strip=True) if first.title else "")
    body = []
    if title:
        body.append(f'<div class="ecrs-pdf-cover"><h1>{BeautifulSoup(title, "html.parser").get_text()}</h1></div>')
    for page in pages:
        soup = first if page is pages[0] else _soup(html / page.path)
        article = soup.select_one("article.bd-article") or soup.select_one("main") or soup.body
        if article is None:
            raise PdfError(f"{html / page.path} has no article to print")
        _rewrite(article, html, page, anchors)
        body.append(f'<section class="ecrs-pdf-page" id="{page.anchor}">{article.decode_contents()}</section>')
    return (
        '<!DOCTYPE html>\n<html lang="en" data-theme="light"><head><meta charset="utf-8">'
        f"<title>{BeautifulSoup(title, 'html.parser').get_text()}</title>"
        + "".join(head_css)
        + f"<style>{PRINT_CSS}</style></head>\n<body><main class=\"bd-main\"><div class=\"bd-content\"><div class=\"bd-article-container\">"
        + '<article class="bd-article">' + "\n".join(body) + "</article></div></div></main></body></html>\n"
    )


def find_chromium() -> str:
    """``$CHROMIUM`` or the first Chromium on the PATH."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError(f"no Chromium found ({', '.join(CHROMIUM_NAMES)} or $CHROMIUM): install it (Debian: apt-get install chromium)")


def print_pdf(document: Path, out: Path, *, chromium: str | None = None, timeout_s: float = 300.0) -> Path:
    """Print an HTML file to ``out`` with headless Chromium, the network shut off.

    Raises
    ------
    PdfError
        When Chromium fails, times out or writes no PDF (its output is quoted).
    """
    exe = chromium or find_chromium()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    part.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="ecrs-pdf-chromium-") as profile:
        cmd = [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no host name resolves: nothing is fetched from the network
            f"--user-data-dir={profile}", "--no-pdf-header-footer", "--generate-pdf-document-outline",
            f"--print-to-pdf={part}", Path(document).resolve().as_uri(),
        ]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as e:
            raise PdfError(f"Chromium did not finish printing {document} within {timeout_s:.0f} s") from e
    if r.returncode != 0 or not part.is_file() or part.stat().st_size == 0:
        tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-12:])
        raise PdfError(f"Chromium ({exe}) failed to print {document} (exit {r.returncode}):\n{tail}")
    part.replace(out)
    return out


def build_pdf(html: Path, out: Path, *, chromium: str | None = None) -> Path:
    """The book in ``html`` (``_build/html``) as one PDF at ``out``."""
    html = Path(html)
    if not (html / "index.html").is_file():
        raise PdfError(f"no book in {html}: build it first (make smoke, or make book)")
    html = html.resolve()  # _build/html is a link onto the whole copy; resources are named by their real folder
    document = combined_document(html)
    with tempfile.TemporaryDirectory(prefix="ecrs-pdf-") as tmp:
        src = Path(tmp) / "book.html"
        src.write_text(document, encoding="utf-8")
        return print_pdf(src, out, chromium=chromium)


def main(argv: list[str] | None = None) -> int:
    """``python -m ecrs_analysis.report.pdf --html _build/html --out _build/pdf/ecrs-book.pdf``."""
    ap = argparse.ArgumentParser(prog="python -m ecrs_analysis.report.pdf", description="Print the published book to one PDF (offline, headless Chromium).")
    ap.add_argument("--html", type=Path, default=Path("_build/html"), help="the published book (default: _build/html)")
    ap.add_argument("--out", type=Path, default=Path("_build/pdf/ecrs-book.pdf"), help="the PDF to write")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    try:
        out = build_pdf(args.html, args.out)
    except PdfError as e:
        print(f"[ecrs] pdf: {e}", file=sys.stderr)
        return 1
    print(f"[ecrs] pdf: {out} ({out.stat().st_size / 1e6:.1f} MB, {time.monotonic() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
