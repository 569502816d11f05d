"""One run per results folder: a live owner is named and refused, a SIGKILLed one is recovered from."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ecrs_analysis.pipeline.runlock import LOCK_NAME, RunBusyError, acquire_run_lock
from ecrs_analysis.pipeline.runner import RunError, RunOptions, run_book

ROOT = Path(__file__).resolve().parents[2]

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ecrs_analysis.pipeline.runlock import acquire_run_lock
    results = Path(sys.argv[1])
    lock = acquire_run_lock(results, profile="smoke", run="held-by-child")
    locks = results / ".snakemake" / "locks"  # what Snakemake writes while it runs
    locks.mkdir(parents=True, exist_ok=True)
    (locks / "0.input.lock").write_text("x")
    (locks / "0.output.lock").write_text("x")
    print("holding", flush=True)
    time.sleep(600)
    """
)


def _holder(results: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(results)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_lock_records_its_owner_and_a_clean_release_leaves_nothing_to_recover(tmp_path):
    lock = acquire_run_lock(tmp_path / "r", profile="demo", run="r1")
    owner = json.loads((tmp_path / "r" / LOCK_NAME).read_text(encoding="utf-8"))
    assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname() and owner["profile"] == "demo" and owner["run"] == "r1"
    assert lock.notice() is None
    lock.release()
    again = acquire_run_lock(tmp_path / "r", profile="demo", run="r2")
    assert again.stale is None and again.notice() is None
    again.release()


def test_a_live_owner_is_named_and_the_second_run_refused(tmp_path):
    proc = _holder(tmp_path / "r")
    try:
        with pytest.raises(RunBusyError) as e:
            acquire_run_lock(tmp_path / "r", profile="smoke", run="second")
        msg = str(e.value)
        assert f"PID {proc.pid} on {socket.gethostname()}" in msg and "profile smoke" in msg and "started " in msg
        assert "--results" in msg  # what to do
        assert (tmp_path / "r" / ".snakemake" / "locks" / "0.input.lock").exists()  # a live run's locks are left alone
        # another results folder runs side by side
        acquire_run_lock(tmp_path / "other", profile="smoke", run="third").release()
    finally:
        proc.kill()
        proc.wait()


def test_after_sigkill_the_dead_owner_is_named_and_the_run_resumes(tmp_path):
    """The run that takes the folder over releases Snakemake's stale locks through Snakemake's API
    (``run_workflow(unlock=True)``, tested with a killed Snakemake run in test_snakemake.py)."""
    proc = _holder(tmp_path / "r")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lock = acquire_run_lock(tmp_path / "r", profile="smoke", run="next")
    try:
        assert lock.stale is not None and lock.stale["pid"] == proc.pid and lock.stale["run"] == "held-by-child"
        line = lock.notice()
        assert line is not None and "\n" not in line and f"PID {proc.pid}" in line and "resuming" in line
    finally:
        lock.release()


def test_run_book_refuses_a_busy_folder_at_once_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    proc = _holder(tmp_path / "r")
    try:
        with pytest.raises(RunError) as e:
            run_book(RunOptions(profile="smoke", results_dir=tmp_path / "r"))
        assert f"PID {proc.pid}" in str(e.value) and "Traceback" not in str(e.value) and "Snakemake" not in str(e.value)
        assert not (tmp_path / "r" / "workflow_config.yaml").exists()  # nothing of the busy run was touched
    finally:
        proc.kill()
        proc.wait()


def test_cli_prints_one_message_and_exits_2_for_a_busy_folder(tmp_path, monkeypatch, capsys):
    from ecrs_analysis.cli import main

    monkeypatch.chdir(ROOT)
    proc = _holder(tmp_path / "r")
    try:
        assert main(["run", "--profile", "smoke", "--results", str(tmp_path / "r")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("ecrs: error: ") and f"PID {proc.pid}" in err and "Traceback" not in err
    finally:
        proc.kill()
        proc.wait()
