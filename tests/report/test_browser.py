"""The built book in a real browser: every page of the TOC opened in headless Chromium.

Runs on a book that `ecrs run` published (default ``_build/html``; ``ECRS_BOOK_HTML``
points elsewhere), after it was built — in CI: ``make smoke`` then
``pytest -m browser tests/report/test_browser.py``. It is excluded from the default test run
(``-m "not browser"`` in pyproject's addopts) and skips, saying why, without a built book,
Playwright or a Chromium binary (Debian: ``apt-get install chromium``).

Each page must load with no console error, no failed request, no request leaving
localhost, no broken image or blank figure, no internal link or download that 404s and no
table wider than the text column; the landing page must have one row per claim and the
appendix must show the commit the run recorded. A full-page screenshot of every page goes
to ``_build/screenshots/``; a page over ~5 MB is reported with a warning.

Two checks follow links: on every page with exhibits, one caption's provenance link is followed to
the appendix, whose anchor must exist and name the job the link names (with its rule and commit);
on the two checklist pages (TRIPOD+AI, CLAIM 2024) every link of every answer is followed, its
target must exist, and an answer about calibration, performance or subgroups must land on a section
that shows such an exhibit.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml

from ecrs_analysis.report.claims import REPORTED

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("ECRS_BOOK_HTML", ROOT / "_build" / "html"))
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"]
PAGE_BUDGET = 5 * 1024 * 1024  # bytes; a page above it is reported, not failed
LOCAL = {"127.0.0.1", "localhost"}

# Is an image blank (one colour)? Drawn into a small canvas; same-origin, so the pixels are readable.
BLANK_IMAGES = """() => Array.from(document.querySelectorAll('img')).map(img => {
  const out = {src: img.currentSrc || img.src, w: img.naturalWidth, h: img.naturalHeight, complete: img.complete, flat: null};
  if (img.complete && img.naturalWidth > 0 && img.closest('.cell_output')) {
    const c = document.createElement('canvas'); c.width = 48; c.height = 48;
    const g = c.getContext('2d'); g.drawImage(img, 0, 0, 48, 48);
    const d = g.getImageData(0, 0, 48, 48).data; let lo = 255, hi = 0;
    for (let i = 0; i < d.length; i += 4) { const v = (d[i] + d[i + 1] + d[i + 2]) / 3; lo = Math.min(lo, v); hi = Math.max(hi, v); }
    out.flat = (hi - lo) < 8;
  }
  return out;
})"""
WIDE_TABLES = """() => {
  const main = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const limit = main.getBoundingClientRect().width + 2;
  return Array.from(main.querySelectorAll('table')).filter(t => t.getBoundingClientRect().width > limit)
    .map(t => `${Math.round(t.getBoundingClientRect().width)}px > ${Math.round(limit)}px: ${(t.innerText || '').slice(0, 60).replace(/\\s+/g, ' ')}`);
}"""


def _skip(reason: str) -> None:
    """Skip, or fail where a browser is required (CI sets ECRS_REQUIRE_BROWSER=1: a skipped check is no check)."""
    if os.environ.get("ECRS_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


def _chromium() -> str | None:
    env = os.environ.get("CHROMIUM")
    if env:
        return env
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


def toc_pages(toc: Path) -> list[str]:
    """Every file of ``_toc.yml`` in reading order (root first), as paths without suffix."""
    data = yaml.safe_load(toc.read_text(encoding="utf-8"))
    files = [data["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk({k: v for k, v in data.items() if k != "root"})
    return files


@pytest.fixture(scope="module")
def book() -> Path:
    if not (HTML / "index.html").exists():
        _skip(f"no built book at {HTML}: run `make smoke` (or `ecrs run --profile smoke`) first")
    return HTML


@pytest.fixture(scope="module")
def server(book):
    handler = functools.partial(_QuietHandler, directory=str(book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright import sync_api
    except ImportError:
        _skip("Playwright is not installed (pip install -e '.[test]')")
    exe = _chromium()
    if exe is None:
        _skip("no Chromium binary found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def _visit(browser, url: str, shot: Path) -> dict:
    """Open one page; return what went wrong on it and what it weighed."""
    problems: list[str] = []
    size = 0
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    def route(r):
        host = urlparse(r.request.url).hostname
        if urlparse(r.request.url).scheme in ("http", "https") and host not in LOCAL:
            problems.append(f"request leaving localhost (blocked): {r.request.url}")
            return r.abort()
        return r.continue_()

    def response(resp):
        nonlocal size
        if resp.status >= 400:
            problems.append(f"HTTP {resp.status} for {resp.url}")
        try:
            size += len(resp.body())
        except Exception:  # redirects and aborted requests have no body
            pass

    page.route("**/*", route)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})") if urlparse(r.url).hostname in LOCAL else None)
    page.on("response", response)
    page.goto(url, wait_until="networkidle", timeout=60_000)
    for img in page.evaluate(BLANK_IMAGES):
        if not img["complete"] or img["w"] == 0:
            problems.append(f"broken image: {img['src'][:120]}")
        elif img["flat"]:
            problems.append(f"blank figure (one colour): {img['src'][:120]}")
    problems += [f"table wider than the page: {t}" for t in page.evaluate(WIDE_TABLES)]
    links = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    for href in sorted({h.split("#")[0] for h in links}):
        parsed = urlparse(href)
        if parsed.hostname in LOCAL and parsed.scheme == "http" and _status(href) >= 400:
            problems.append(f"broken link: {href}")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    info = {"problems": problems, "bytes": size, "text": page.inner_text("body"),
            "claim_rows": page.locator("div.claims-table table tbody tr").count(), "url": page.url}
    context.close()
    return info


def test_every_page_of_the_book_in_chromium(book, server, browser):
    pages = toc_pages(ROOT / "_toc.yml")
    report: dict[str, dict] = {}
    for name in pages:
        html = book / f"{name}.html"
        assert html.exists(), f"{name} is in _toc.yml but {html} was not built"
        report[name] = _visit(browser, urljoin(server, f"{name}.html"), SHOTS / f"{Path(name).name}.png")
    landing = _visit(browser, server, SHOTS / "index.png")  # index.html leads to the first page

    heavy = {n: r["bytes"] for n, r in report.items() if r["bytes"] > PAGE_BUDGET}
    if heavy:
        warnings.warn(f"pages over {PAGE_BUDGET / 2**20:.0f} MB: " + ", ".join(f"{n} {b / 2**20:.1f} MB" for n, b in heavy.items()))
    failures = [f"{n}: {p}" for n, r in report.items() for p in r["problems"]]
    assert not failures, f"{len(failures)} problem(s):\n" + "\n".join(failures)

    root = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["root"]
    assert landing["url"].endswith(f"{root}.html") or landing["claim_rows"], f"index.html did not lead to the claims page ({landing['url']})"
    assert report[root]["claim_rows"] == len(REPORTED), "the landing table must have one row per claim of the registry"

    appendix = next(n for n in pages if n.endswith("99_reproducibility"))
    commits = set(re.findall(r"\b[0-9a-f]{40}\b", report[appendix]["text"]))
    assert commits, "the run-record appendix shows no commit"
    for record in (ROOT / "results").glob("*/run_record.json"):  # the run that made this book, if its results are here
        rec = json.loads(record.read_text(encoding="utf-8"))
        if rec.get("run") and rec["run"] in report[appendix]["text"] and rec["git"]["commit"]:
            assert rec["git"]["commit"] in commits, f"the appendix shows {commits}, the run recorded {rec['git']['commit']}"
    assert sorted(p.stem for p in SHOTS.glob("*.png")) == sorted({Path(n).name for n in pages} | {"index"})


# What the section a link lands on holds: its text and whether it shows a numbered exhibit.
TARGET = """(id) => {
  const el = id ? document.getElementById(id) : document.querySelector('article.bd-article') || document.body;
  if (!el) return null;
  const sec = el.tagName === 'SECTION' ? el : (el.closest('section') || el.parentElement);
  const text = sec.innerText || '';
  return {own: el.innerText || '', text: text, exhibits: (text.match(/\\b(Table|Figure) [0-9]+(\\.[0-9]+)?\\./g) || []).length};
}"""
# Links from the checklists' answers: what the target must show, by the item's topic (or, for calibration, the link's label).
MUST_SHOW = [
    (re.compile(r"^(Performance measures|Metrics|Performance on all partitions|Diagnostic accuracy)", re.I), "AUC", "a performance table"),
    (re.compile(r"subgroup|Fairness|Heterogeneity", re.I), "sex", "the subgroup table"),
    (re.compile(r"characteristics", re.I), "Table 1", "Table 1"),
]
CLAIMS_CALIBRATION = re.compile(r"\bcalibration (\(plot|and decision curves)", re.I)

def _target(page, url: str) -> dict | None:
    parsed = urlparse(url)
    if page.url.split("#")[0] != url.split("#")[0]:
        page.goto(url.split("#")[0], wait_until="load", timeout=60_000)
    return page.evaluate(TARGET, parsed.fragment or None)


def _targets(page, urls) -> dict[str, dict | None]:
    """What each link lands on (:data:`TARGET`), each page opened once: the links in order of their page."""
    out: dict[str, dict | None] = {}
    for url in sorted(set(urls), key=lambda u: u.split("#")[0]):
        out[url] = _target(page, url)
    return out


def test_one_caption_per_page_links_its_provenance_record(book, server, browser):
    context = browser.new_context()
    page = context.new_page()
    followed = {}
    for name in toc_pages(ROOT / "_toc.yml"):
        if name.endswith("99_reproducibility") or not name.startswith("book/executed/"):
            continue
        page.goto(urljoin(server, f"{name}.html"), wait_until="load", timeout=60_000)
        # a caption is a paragraph that opens with its bold number ("**Table 4.1.**"); prose that names a table is not one
        captions = page.evaluate("""() => Array.from(document.querySelectorAll('.cell_output p')).filter(p => p.firstElementChild
                && p.firstElementChild.tagName === 'STRONG' && /^(Table|Figure) [0-9]+(\\.[0-9]+)?\\.$/.test(p.firstElementChild.innerText.trim()))
            .map(p => Array.from(p.querySelectorAll('a[href*="99_reproducibility.html#prov-"]')).map(a => ({href: a.href, text: a.innerText})))""")
        if not captions:
            continue
        assert all(captions), f"{name}: a caption without a provenance link"
        link = captions[0][0]
        target = _target(page, link["href"])
        assert target is not None, f"{name}: the caption links {link['href']}, but the appendix has no such anchor"
        assert f"Job {link['text']}" in target["own"] and "rule" in target["own"] and "commit" in target["own"], \
            f"{name}: {link['href']} lands on {target['own'][:200]!r}, which does not name the job {link['text']}"
        followed[name] = link["text"]
    context.close()
    assert followed, "no page of the book has a caption with a provenance link"
    assert any("04_integrated_model" in n for n in followed), followed


def test_every_checklist_answer_links_an_exhibit_that_holds_it(book, server, browser):
    context = browser.new_context()
    page = context.new_page()
    answers = []
    for name in [n for n in toc_pages(ROOT / "_toc.yml") if n.endswith(("98_checklist", "97_claim"))]:
        page.goto(urljoin(server, f"{name}.html"), wait_until="load", timeout=60_000)
        rows = page.evaluate("""() => Array.from(document.querySelector('article table').querySelectorAll('tbody tr')).map(tr => {
            const td = tr.querySelectorAll('td');
            return {item: td[0].innerText, topic: td[1].innerText, answer: td[2].innerText,
                    links: Array.from(td[3].querySelectorAll('a')).map(a => ({href: a.href, text: a.innerText}))};
        })""")
        assert rows, f"{name}: no checklist table"
        answers += [(name, row) for row in rows]
    landed = _targets(page, [link["href"] for _, row in answers for link in row["links"]])
    context.close()
    checked = 0
    for name, row in answers:
        what = f"{name} {row['item']} ({row['topic']})"
        targets = []
        for link in row["links"]:
            target = landed[link["href"]]
            assert target is not None, f"{what}: {link['href']}: no such anchor"
            if "calibration" in link["href"]:
                assert "calibration" in target["text"].lower() and target["exhibits"], f"{what}: {link['href']} should land on a calibration exhibit"
            targets.append(target)
            checked += 1
        for pattern, word, exhibit in MUST_SHOW:  # one of the answer's links must hold the exhibit its topic asks for
            if pattern.search(row["topic"]):
                assert any(word.lower() in t["text"].lower() and t["exhibits"] for t in targets), f"{what}: no link lands on {exhibit}"
        claims = [seg for seg in row["answer"].split(";") if CLAIMS_CALIBRATION.search(seg) and "not reported" not in seg]
        if claims:
            assert any("calibration" in link["href"] for link in row["links"]), f"{what}: claims calibration without linking a calibration exhibit"
    assert checked > 20, f"only {checked} links followed"
