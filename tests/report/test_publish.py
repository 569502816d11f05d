"""Publishing the staged book as _build/html: a process killed while it publishes leaves no half-written book."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from ecrs_analysis.report.publish import publish_book

ROOT = Path(__file__).resolve().parents[2]


def _book(folder: Path, text: str, n: int) -> Path:
    (folder / "pages").mkdir(parents=True)
    (folder / "index.html").write_text(text)
    for i in range(n):
        (folder / "pages" / f"p{i:04d}.html").write_text(text * 200)
    return folder


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_publish_replaces_the_book_whole(tmp_path):
    _book(tmp_path / "_build" / "html", "old", 3)
    new = _book(tmp_path / "staged", "new", 2)
    publish_book(new, tmp_path)
    assert _files(tmp_path / "_build" / "html") == _files(new)
    assert sorted(p.name for p in (tmp_path / "_build").iterdir()) == ["html"]


def test_sigkill_while_publishing_leaves_the_old_book_whole_and_the_next_publish_completes(tmp_path):
    old = _files(_book(tmp_path / "_build" / "html", "old", 50))
    new = _book(tmp_path / "staged", "new", 3000)  # large enough that copying it takes a while
    code = textwrap.dedent(f"""
        from ecrs_analysis.report.publish import publish_book
        publish_book({str(new)!r}, {str(tmp_path)!r})
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
    while not (tmp_path / "_build" / ".html.new").exists() and proc.poll() is None:
        time.sleep(0.001)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "publishing finished before it could be killed"
    html = tmp_path / "_build" / "html"
    assert _files(html) == old  # killed mid-copy: the old book, whole
    publish_book(new, tmp_path)  # the next run's publication clears the leftovers
    assert _files(html) == _files(new)
    assert sorted(p.name for p in (tmp_path / "_build").iterdir()) == ["html"]
