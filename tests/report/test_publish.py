"""Publishing the staged book as _build/html: readers always find a whole book; a killed publication leaves the old one."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from ecrs_analysis.report.publish import publish_book

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _book(folder: Path, text: str, n: int) -> Path:
    (folder / "pages").mkdir(parents=True)
    (folder / "index.html").write_text(text)
    for i in range(n):
        (folder / "pages" / f"p{i:04d}.html").write_text(text * 200)
    return folder


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def _tidy(build: Path) -> None:
    """Only the link, the folder it points to and the previous book's folder are left."""
    html = build / "html"
    assert html.is_symlink() and os.readlink(html).startswith(".html-")
    assert {"html", os.readlink(html)} <= {p.name for p in build.iterdir()}
    assert len(list(build.iterdir())) == 3


def test_publish_replaces_the_book_whole(tmp_path):
    _book(tmp_path / "_build" / "html", "old", 3)  # a real folder where the link belongs (a book built by hand): moved aside
    new = _book(tmp_path / "staged", "new", 2)
    publish_book(new, tmp_path)
    assert _files(tmp_path / "_build" / "html") == _files(new)
    _tidy(tmp_path / "_build")
    newer = _book(tmp_path / "staged2", "newer", 1)
    publish_book(newer, tmp_path)
    assert _files(tmp_path / "_build" / "html") == _files(newer)
    _tidy(tmp_path / "_build")


def test_a_reader_polling_during_publications_always_finds_a_whole_book(tmp_path):
    """Another process reads ``_build/html`` in a tight loop while books are published over each other.

    Publications follow each other 10 ms apart (in use they are minutes apart): the previous book's
    folder stays for one publication, so a reader that followed the link just before a switch,
    and was then held up for less than a whole publication, still finds its page. Publishing by
    two renames (old folder aside, new one in) fails this test within a few dozen publications.
    """
    n_pages = 5
    books = [_book(tmp_path / f"staged{v}", f"v{v}", n_pages) for v in range(2)]
    html = tmp_path / "_build" / "html"
    publish_book(books[0], tmp_path)
    stop = tmp_path / "stop"
    reader = textwrap.dedent(f"""
        import os, sys
        html, stop, seen, reads = {str(html)!r}, {str(stop)!r}, set(), 0
        last = os.path.join(html, "pages", "p{n_pages - 1:04d}.html")
        while not os.path.exists(stop):
            try:
                with open(os.path.join(html, "index.html")) as f:
                    seen.add(f.read())
                with open(last) as f:
                    f.read()
            except OSError as e:
                print("MISSING", e, flush=True)
                sys.exit(1)
            reads += 1
        print("reads", reads, "versions", sorted(seen), flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", reader], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # the reader is polling
        for i in range(150):
            publish_book(books[(i + 1) % 2], tmp_path)
            if proc.poll() is not None:
                break
            time.sleep(0.01)
    finally:
        stop.touch()
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, f"a reader found no whole book during publication: {out}"
    reads = int(out.split()[1])
    assert reads > 150 and "'v0'" in out and "'v1'" in out, out  # it read throughout, and saw both books
    _tidy(tmp_path / "_build")


def test_sigkill_while_publishing_leaves_the_old_book_whole_and_the_next_publish_completes(tmp_path):
    old = _files(_book(tmp_path / "old", "old", 50))
    publish_book(tmp_path / "old", tmp_path)
    new = _book(tmp_path / "staged", "new", 3000)  # large enough that copying it takes a while
    code = textwrap.dedent(f"""
        from ecrs_analysis.report.publish import publish_book
        publish_book({str(new)!r}, {str(tmp_path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], env=ENV, start_new_session=True)
    before = set((tmp_path / "_build").glob(".html-*"))
    while not set((tmp_path / "_build").glob(".html-*")) - before and proc.poll() is None:
        time.sleep(0.001)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "publishing finished before it could be killed"
    html = tmp_path / "_build" / "html"
    assert _files(html) == old  # killed mid-copy: the old book, whole
    publish_book(new, tmp_path)  # the next run's publication clears the leftovers
    assert _files(html) == _files(new)
    _tidy(tmp_path / "_build")
