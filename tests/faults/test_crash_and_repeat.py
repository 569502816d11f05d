"""Builds that are killed, and builds that are repeated (``make faults``; minutes: marked ``faults``).

- determinism: two clean builds in different results folders give identical artefacts, declared
  run metadata aside (:mod:`artefacts` lists it);
- fault injection: the build's whole process group is SIGKILLed during cohort generation, during
  a training job, during a chapter and during the book's rendering; after each kill a plain
  ``ecrs run`` goes on by itself, and the last one finishes with claims and score tables equal to
  an uninterrupted build's; the published book is never half-written.

Both use a reduced smoke variant (``--set``: smaller cohorts, one network, two folds) to keep
the cost at a few builds' worth of minutes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .artefacts import differences

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
SMALL = [  # the sizes of tests/pipeline/test_book_end_to_end.py, which builds the whole book; 4 epochs to kill one mid-way
    "studies.li2025.synthetic.n_patients=72", "studies.li2025.synthetic.spacing_scale=6.0",
    "studies.mtlnet2025.synthetic.n_patients=30", "studies.mtlnet2025.synthetic.spacing_scale=6.0",
    "deep.models=[resnet3d]", "deep.folds=2", "deep.epochs=4",
    "stats.n_resamples=200", "stats.roc_band_resamples=20", "stats.alpha=0.2",
]


def _checkout(dst: Path) -> Path:
    """A copy of the book's sources, so that the checkout's own _build stays untouched."""
    dst.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, dst / name)
    for folder in ("notebooks", "workflow", "params", "book"):
        shutil.copytree(ROOT / folder, dst / folder, ignore=shutil.ignore_patterns("executed", "_build"))
    return dst


def _command(results: Path) -> list[str]:
    sets = [x for s in SMALL for x in ("--set", s)]
    return [sys.executable, "-m", "ecrs_analysis.cli", "run", "--profile", "smoke", "--results", str(results), *sets]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _build(checkout: Path, results: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(_command(results), cwd=checkout, env=_env(), capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _fresh(pattern: str, since: float) -> Callable[[Path], bool]:
    """Whether a file matching ``pattern`` under the results folder was written after ``since`` (logs outlive runs)."""
    return lambda results: any(f.stat().st_mtime >= since for f in results.glob(pattern))


def _kill_when(checkout: Path, results: Path, pattern: str, *, what: str, delay: float = 0.0) -> None:
    """Start a build and SIGKILL its whole process group once it writes a file matching ``pattern`` (plus ``delay`` seconds)."""
    started = time.time() - 1  # file times are coarser than time.time()
    ready = _fresh(pattern, started)
    proc = subprocess.Popen(_command(results), cwd=checkout, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        while not ready(results):
            if proc.poll() is not None:
                pytest.fail(f"the build ended (exit {proc.returncode}) before the kill point {what!r}: {proc.stderr.read()[-2000:] if proc.stderr else ''}")
            time.sleep(0.05)
        time.sleep(delay)
        assert proc.poll() is None, f"the build ended before the kill point {what!r}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"{what}: the build was not killed (exit {proc.returncode})"


@pytest.fixture(scope="module")
def clean_build(tmp_path_factory) -> Path:
    """One uninterrupted build (the reference of both tests)."""
    base = tmp_path_factory.mktemp("clean")
    results = base / "results"
    _build(_checkout(base / "checkout"), results)
    return results


def test_two_clean_builds_give_identical_artefacts(clean_build, tmp_path):
    results = tmp_path / "results"
    _build(_checkout(tmp_path / "checkout"), results)
    assert differences(clean_build, results) == []


def test_a_build_killed_at_every_stage_resumes_to_the_uninterrupted_results(clean_build, tmp_path):
    checkout = _checkout(tmp_path / "checkout")
    html = checkout / "_build" / "html"
    html.mkdir(parents=True)
    (html / "index.html").write_text("last good book")
    r = tmp_path / "results"
    kills = [
        ("cohort generation", "logs/cohort-li2025.log", 1.0),
        ("a training job", "li2025/deep/resnet3d/.fold*.work/last.pt", 0.0),  # a fold job with an epoch checkpoint, not finished
        ("a chapter", "logs/chapter-0[1-7]_*.log", 1.0),
        ("the book's rendering", "logs/book.log", 2.0),
    ]
    for what, pattern, delay in kills:
        _kill_when(checkout, r, pattern, what=what, delay=delay)
        assert (html / "index.html").read_text(encoding="utf-8") == "last good book", f"killed during {what}: the published book changed"
        assert not list(html.parent.glob(".html.*")) or (html / "index.html").exists()
    proc = _build(checkout, r)
    assert "stopped without finishing" in proc.stderr and "resuming" in proc.stderr  # the one line of the recovery
    assert not list(r.glob("li2025/deep/*/.fold*.work"))  # resume state removed once the jobs completed
    assert (html / "index.html").read_text(encoding="utf-8") != "last good book"  # the new book, whole
    # the claims, the score tables, and every training job's weights and history (the resumed one included)
    assert differences(clean_build, r, only=r"^(claims/.*\.csv|[^/]+/scores_.*\.csv|.*/history\.csv|.*histories.*\.csv|.*\.pt)$") == []
