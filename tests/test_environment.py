"""environment.yml, pyproject.toml and requirements.lock describe the same environment, and the venv is it."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return Requirement(req).name.lower().replace("_", "-")


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _pyproject():
    data = _project()
    return data["dependencies"] + sum(data["optional-dependencies"].values(), [])


def _conda_pip():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return [p for p in pip if not p.startswith("-e")]


def _lock():
    lines = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    return {_name(ln.split("==")[0]): ln.split("==")[1].split(";")[0].strip() for ln in lines if "==" in ln and not ln.startswith("#")}


def test_environment_yml_lists_the_same_requirements_as_pyproject():
    assert sorted(_pyproject(), key=_name) == sorted(_conda_pip(), key=_name)


def test_exact_pins_live_only_in_the_lock():
    pinned = [r for r in _pyproject() + _conda_pip() if "==" in r]
    assert pinned == [], f"exact versions belong in requirements.lock: {pinned}"


def test_the_lock_pins_every_direct_dependency_within_its_range():
    lock = _lock()
    missing = [r for r in _pyproject() if _name(r) not in lock]
    assert not missing, f"not pinned in requirements.lock: {missing}"
    outside = [f"{r} (lock: {lock[_name(r)]})" for r in _pyproject() if lock[_name(r)] not in Requirement(r).specifier]
    assert not outside, f"requirements.lock pins a version pyproject.toml excludes: {outside}"


def test_the_installed_packages_are_the_locked_versions():
    lock, wrong = _lock(), []
    for r in _pyproject():
        try:
            have = metadata.version(_name(r))
        except metadata.PackageNotFoundError:
            continue  # an extra this venv was not built with (e.g. lab)
        if have.split("+")[0] != lock[_name(r)].split("+")[0]:
            wrong.append(f"{_name(r)} {have} (lock {lock[_name(r)]})")
    assert not wrong, f"the venv differs from requirements.lock: {wrong}; re-run make"


def test_the_book_needs_neither_jupyterlab_nor_playwright():
    base = {_name(r) for r in _project()["dependencies"]}
    assert not base & {"jupyterlab", "playwright"}
    extras = _project()["optional-dependencies"]
    assert "jupyterlab" in {_name(r) for r in extras["lab"]} and "playwright" in {_name(r) for r in extras["browser"]}
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^book: \$\(STAMP\)$", make, re.M), "make book installs the dependencies only"
    assert re.search(r'pip install .*-e "?\.\s*$', make, re.M) or re.search(r'pip install .*-e \.$', make, re.M)


@pytest.mark.parametrize("req", ["jupyter-book>=1.0.4,<2"])
def test_jupyter_book_is_the_offline_1_x_series(req):
    assert any(r.replace(" ", "") == req for r in _pyproject())


def test_make_test_lints_src_before_the_tests():
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^test: .*\n((?:\t.*\n)+)", make, re.M)
    assert recipe, "the Makefile has no test target"
    lines = [ln.strip() for ln in recipe.group(1).splitlines()]
    assert [ln.split()[0] for ln in lines] == ["$(BIN)/ruff", "$(BIN)/mypy", "$(PYTEST)"], lines
    assert lines[0] == "$(BIN)/ruff check src" and re.search(r"^PYTEST := .*\$\(BIN\)/python -m pytest", make, re.M)
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert tool["mypy"]["files"] == ["src/ecrs_analysis"], "mypy without arguments checks the package"
    assert "E501" not in tool["ruff"]["lint"]["select"] and {"F", "B"} <= set(tool["ruff"]["lint"]["select"])
    assert "ignore_errors" not in tool["mypy"] and all("ignore_errors" not in o for o in tool["mypy"].get("overrides", []))
    extras = {_name(r) for r in _project()["optional-dependencies"]["test"]}
    assert {"ruff", "mypy"} <= extras, "make test installs the test extra: the linters must be in it"


def test_every_slow_test_lies_in_a_file_the_workflow_test_sessions_collect():
    """``make test-builds`` and ``make test-on-smoke`` collect only the Makefile's SLOW_TESTS: a slow test elsewhere would run nowhere."""
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    listed = set(re.search(r"^SLOW_TESTS := ((?:.*\\\n)*.*)$", make, re.M).group(1).replace("\\\n", " ").split())
    assert all((ROOT / f).is_file() for f in listed), listed
    slow = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("test_*.py") if re.search(r"pytest\.mark\.slow\b", p.read_text(encoding="utf-8"))}
    assert slow <= listed, f"slow tests outside SLOW_TESTS: {sorted(slow - listed)}"
    # and the sessions pass them: test-builds, and test-on-smoke's two sessions (the hospital's book, all the others)
    recipe = {t: re.search(rf"^{t}: .*\n((?:\t.*\n)+)", make, re.M).group(1) for t in ("test-builds", "test-on-smoke", "test-on-smoke-hospital", "test-on-smoke-others")}
    assert "$(SLOW_TESTS)" in recipe["test-builds"]
    assert "test-on-smoke-hospital test-on-smoke-others" in recipe["test-on-smoke"]
    assert "$(HOSPITAL_TESTS)" in recipe["test-on-smoke-hospital"] and "$(filter-out $(HOSPITAL_TESTS),$(SLOW_TESTS))" in recipe["test-on-smoke-others"]
    hospital = re.search(r"^HOSPITAL_TESTS := (.*)$", make, re.M).group(1).split()
    assert hospital and set(hospital) <= listed, hospital
