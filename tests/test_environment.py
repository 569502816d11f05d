"""environment.yml, pyproject.toml and requirements.lock describe the same environment."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return data["dependencies"] + sum(data["optional-dependencies"].values(), [])


def _conda_pip():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return [p for p in pip if not p.startswith("-e")]


def test_environment_yml_lists_the_same_requirements_as_pyproject():
    assert sorted(_pyproject(), key=_name) == sorted(_conda_pip(), key=_name)


def test_lock_pins_every_direct_dependency_and_torch_2_13():
    lock = {_name(l): l.split("==")[1] for l in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines() if "==" in l}
    missing = [r for r in _pyproject() if _name(r) not in lock]
    assert not missing, f"not pinned in requirements.lock: {missing}"
    assert lock["torch"] == "2.13.0"
    assert "torch==2.13.0" in _pyproject()


def test_jupyter_book_is_the_offline_1_x_series():
    assert any(r.replace(" ", "") == "jupyter-book>=1.0.4,<2" for r in _pyproject())
