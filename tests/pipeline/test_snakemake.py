"""Running a workflow through Snakemake's public API: the plan and failures from its log events,
a deleted intermediate artefact re-made, a killed run's locks released (a tiny workflow, seconds)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ecrs_analysis.pipeline.snakemake import run_workflow

SNAKEFILE = textwrap.dedent(
    """
    R = config["results"]

    rule all:
        input:
            f"{R}/c.txt",

    rule a:
        output:
            f"{R}/a.txt",
        shell:
            "echo a > {output}"

    rule b:
        input:
            f"{R}/a.txt",
        output:
            f"{R}/b.txt",
        shell:
            "cat {input} > {output}; echo b >> {output}"

    rule c:
        input:
            f"{R}/b.txt",
        output:
            f"{R}/c.txt",
        shell:
            "cat {input} > {output}; echo c >> {output}"

    rule boom:
        input:
            f"{R}/a.txt",
        output:
            f"{R}/boom.txt",
        shell:
            "exit 3"

    rule slow:
        output:
            f"{R}/slow.txt",
        shell:
            "echo started > {R}/slow.started; sleep 600; touch {output}"
    """
)


@pytest.fixture
def tiny(tmp_path):
    """A checkout with a three-step workflow, and its results folder."""
    root, results = tmp_path / "root", tmp_path / "results"
    (root / "workflow").mkdir(parents=True)
    (root / "workflow" / "Snakefile").write_text(SNAKEFILE)
    results.mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(f"results: {results}\n")
    cwd = os.getcwd()
    yield root, results, config
    os.chdir(cwd)  # the API changes into the workdir while it runs


def _run(tiny, target="c.txt", **kw):
    root, results, config = tiny
    return run_workflow(root=root, workdir=results, results=results, config_file=config, targets=[str(results / target)], **kw)


def test_a_run_plans_from_the_events_and_a_second_run_has_nothing_to_do(tiny):
    _, results, _ = tiny
    dry = _run(tiny, dry_run=True)
    assert dry.ok and dry.planned == {"a": 1, "b": 1, "c": 1} and not (results / "a.txt").exists()  # a dry run makes nothing
    first = _run(tiny)
    assert first.ok and first.planned == {"a": 1, "b": 1, "c": 1}
    assert (results / "c.txt").read_text().split() == ["a", "b", "c"]
    again = _run(tiny)
    assert again.ok and again.planned == {}


def test_a_deleted_intermediate_artefact_is_planned_and_made_again(tiny):
    """Snakemake alone leaves a deleted intermediate deleted when the target is up to date;
    the runner's targets include every output of the jobs the target needs."""
    _, results, _ = tiny
    assert _run(tiny).ok
    (results / "a.txt").unlink()
    plan = _run(tiny, dry_run=True)
    assert plan.ok and plan.planned.get("a") == 1
    remade = _run(tiny)
    assert remade.ok and remade.planned.get("a") == 1 and (results / "a.txt").read_text().strip() == "a"
    assert _run(tiny).planned == {}


def test_a_failed_job_is_named_from_its_error_event(tiny):
    _, results, _ = tiny
    out = _run(tiny, target="boom.txt")
    assert not out.ok
    assert out.planned == {"a": 1, "boom": 1}
    assert out.message == f"job(s) of rule boom failed; see the logs under {results / 'logs'}"
    assert (results / "a.txt").exists() and not (results / "boom.txt").exists()


def test_a_killed_runs_locks_are_released_through_the_api(tiny):
    root, results, config = tiny
    code = textwrap.dedent(f"""
        from pathlib import Path
        from ecrs_analysis.pipeline.snakemake import run_workflow
        run_workflow(root=Path({str(root)!r}), workdir=Path({str(results)!r}), results=Path({str(results)!r}),
                     config_file=Path({str(config)!r}), targets=[{str(results / 'slow.txt')!r}])
    """)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (results / "slow.started").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (results / "slow.started").exists(), "the run was killed before its job started"
    locked = _run(tiny, target="slow.txt", dry_run=False, unlock=False, force=["slow"], cores=1)
    assert not locked.ok and "is locked by a process that is not an ecrs run" in locked.message
    # the caller holds the folder (ecrs's run lock): the locks are stale, and released
    assert _run(tiny, unlock=True).ok and (results / "c.txt").exists()
