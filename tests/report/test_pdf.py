"""The published book as one PDF (``make pdf``, :mod:`ecrs_analysis.report.pdf`).

The tests on a two-page book made here run with the fast tests. The tests marked ``browser``
print the published book (default ``_build/html``; ``ECRS_BOOK_HTML`` points elsewhere) to
``_build/pdf/ecrs-book.pdf`` with headless Chromium and read it back with poppler's ``pdftotext``;
CI runs them after the browser test (``make test-pdf``). They skip, saying why, without a built book,
Chromium or pdftotext (Debian: ``apt-get install chromium poppler-utils``), and fail instead where
``ECRS_REQUIRE_BROWSER`` is set (CI: a skipped check is no check).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path, PurePosixPath

import pytest
from bs4 import BeautifulSoup

from ecrs_analysis.report.pdf import PdfError, build_pdf, combined_document, find_chromium, reading_order

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("ECRS_BOOK_HTML", ROOT / "_build" / "html"))
OUT = ROOT / "_build" / "pdf" / "ecrs-book.pdf"
_CAPTION = re.compile(r"\b(?:Figure|Table) \d+\.\d+\b")


def _page(title: str, body: str, nav: str = "") -> str:
    return (f'<html><head><title>{title}</title><link rel="stylesheet" href="../_static/theme.css">'
            f'<link rel="stylesheet" href="https://cdn.example.org/x.css"><script src="../_static/x.js"></script></head>'
            f'<body><div class="navbar-brand"><p class="title logo__title">My book</p></div>'
            f'<nav class="bd-docs-nav">{nav}</nav><main><article class="bd-article">{body}</article></main></body></html>')


@pytest.fixture()
def tiny_book(tmp_path: Path) -> Path:
    """index.html redirecting to a.html; a.html and b.html in one folder, an image, a download."""
    html = tmp_path / "html"
    (html / "ch").mkdir(parents=True)
    (html / "_static").mkdir()
    (html / "_static" / "theme.css").write_text("body{}")
    (html / "_images").mkdir()
    (html / "_images" / "fig.png").write_bytes(b"\x89PNG")
    (html / "index.html").write_text('<html><head><meta http-equiv="Refresh" content="0; url=ch/a.html" /></head></html>')
    nav = '<a class="reference internal" href="#">A</a><a class="reference internal" href="b.html">B</a>'
    (html / "ch" / "a.html").write_text(_page("A", '<section id="intro"><h1>Chapter A<a class="headerlink" href="#intro">#</a></h1>'
                                               '<p>See <a href="b.html#results">B\'s results</a> and <a href="#intro">here</a>, '
                                               '<a href="../_downloads/t.csv">CSV</a>, <a href="https://doi.org/10.1/x">a paper</a>.</p>'
                                               '<img src="../_images/fig.png" loading="lazy"><img src="https://example.org/t.png">'
                                               '<script>alert(1)</script></section>', nav))
    (html / "ch" / "b.html").write_text(_page("B", '<section id="results"><h1>Chapter B</h1><p>Table 2.1</p></section>', nav))
    return html


def test_reading_order_follows_the_landing_page_and_its_navigation(tiny_book):
    assert [p.path for p in reading_order(tiny_book)] == [PurePosixPath("ch/a.html"), PurePosixPath("ch/b.html")]


def test_the_combined_document_links_inside_itself_and_loads_only_the_books_files(tiny_book):
    doc = BeautifulSoup(combined_document(tiny_book), "html.parser")
    sections = doc.select("section.ecrs-pdf-page")
    assert [s["id"] for s in sections] == ["page-ch-a", "page-ch-b"]
    assert doc.select_one(".ecrs-pdf-cover").get_text(strip=True) == "My book"
    assert doc.find(id="page-ch-a--intro") and doc.find(id="page-ch-b--results")
    links = {a.get_text(): a.get("href") for a in doc.find_all("a")}
    assert links["B's results"] == "#page-ch-b--results" and links["here"] == "#page-ch-a--intro"
    assert links["CSV"] is None  # a download's link would name this machine's folder
    assert links["a paper"] == "https://doi.org/10.1/x"  # an external link stays (it is not loaded)
    assert doc.find("script") is None and doc.select(".headerlink") == []
    imgs = doc.find_all("img")
    assert [i["src"] for i in imgs] == [(tiny_book / "_images" / "fig.png").resolve().as_uri()]
    assert "loading" not in imgs[0].attrs
    sheets = [ln["href"] for ln in doc.find_all("link", rel="stylesheet")]
    assert sheets == [(tiny_book / "_static" / "theme.css").resolve().as_uri()]


def test_no_book_is_a_clear_error(tmp_path):
    with pytest.raises(PdfError, match="make smoke"):
        build_pdf(tmp_path / "nothing", tmp_path / "x.pdf")


# -- the published book, printed ----------------------------------------------------------------
def _skip(reason: str) -> None:
    if os.environ.get("ECRS_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def printed() -> dict:
    """The published book printed once: its PDF's text page by page, and how long printing took."""
    if not (HTML / "index.html").is_file():
        _skip(f"no built book in {HTML}: run `make smoke` first")
    try:
        find_chromium()
    except PdfError as e:
        _skip(str(e))
    if shutil.which("pdftotext") is None:
        _skip("pdftotext is missing (Debian: apt-get install poppler-utils)")
    t0 = time.monotonic()
    build_pdf(HTML, OUT)
    seconds = time.monotonic() - t0
    text = subprocess.run(["pdftotext", "-layout", str(OUT), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[:-1]  # pdftotext ends every page with a form feed
    print(f"\n{OUT}: {len(pages)} pages, {OUT.stat().st_size / 1e6:.1f} MB, printed in {seconds:.0f} s")
    return {"pages": [_words(p) for p in pages], "seconds": seconds}


def _web_page(path: PurePosixPath) -> BeautifulSoup:
    soup = BeautifulSoup((HTML / path).read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article.bd-article") or soup.body
    for el in article.select(".headerlink, script"):
        el.decompose()
    return article


def _chapter_starts(pages: list[str]) -> list[tuple[PurePosixPath, int]]:
    """Each web page of the book and the PDF page its title opens (the first line of a sheet), searched
    after the previous chapter's first page: a page of another chapter may open with a sentence that
    starts like a later chapter's title (the landing page quotes chapter 04's question)."""
    out: list[tuple[PurePosixPath, int]] = []
    for page in reading_order(HTML):
        h1 = _web_page(page.path).find("h1")
        assert h1 is not None, f"{page.path} has no title"
        title = _words(h1.get_text(" "))[:40]
        after = out[-1][1] if out else -1
        hits = [i for i, text in enumerate(pages) if i > after and text.startswith(title)]
        assert hits, f"no page of the PDF after page {after + 1} opens with the title of {page.path} ({title!r}): chapters missing or out of order"
        out.append((page.path, hits[0]))
    return out


@pytest.mark.browser
def test_one_page_range_per_chapter_in_reading_order(printed):
    starts = _chapter_starts(printed["pages"])
    firsts = [i for _, i in starts]
    assert firsts == sorted(set(firsts)), f"chapters out of order or sharing a page: {starts}"
    assert firsts[0] == 1  # page 1 is the cover
    assert len(printed["pages"]) > firsts[-1]


@pytest.mark.browser
def test_figures_and_tables_are_numbered_as_on_the_web_pages(printed):
    pages = printed["pages"]
    starts = _chapter_starts(pages)
    ends = [i for _, i in starts[1:]] + [len(pages)]
    seen = 0
    for (path, first), end in zip(starts, ends, strict=True):
        web = set(_CAPTION.findall(_words(_web_page(path).get_text(" "))))
        pdf = set(_CAPTION.findall(" ".join(pages[first:end])))
        assert web <= pdf, f"{path}: captions on the web page but not in its pages of the PDF: {sorted(web - pdf)}"
        seen += len(web)
    assert seen > 0, "the book shows no numbered figure or table"
    assert any(c.startswith("Figure") for p in pages for c in _CAPTION.findall(p))
    assert any(c.startswith("Table") for p in pages for c in _CAPTION.findall(p))


@pytest.mark.browser
def test_nothing_in_the_pdf_comes_from_outside_the_book(printed):
    doc = BeautifulSoup(combined_document(HTML.resolve()), "html.parser")
    book = HTML.resolve().as_uri() + "/"
    loaded = [el.get(a) for el in doc.find_all(True) for a in ("src", "data") if el.get(a)]
    loaded += [ln["href"] for ln in doc.find_all("link", href=True)]
    assert loaded and all(u.startswith(book) for u in loaded), [u for u in loaded if not u.startswith(book)][:5]
    assert doc.find("script") is None
    raw = OUT.read_bytes()
    assert raw.startswith(b"%PDF-")
    assert b"file://" not in raw and str(ROOT).encode() not in raw  # no link into this machine's folders
    assert printed["seconds"] < 120
