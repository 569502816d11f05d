"""Code fingerprints: a stage re-runs when code it imports changes, and only then."""

import shutil
from pathlib import Path

import pytest

from ecrs_analysis.pipeline import fingerprint as F
from ecrs_analysis.pipeline import workflow as W


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the package source whose files a test may edit; fingerprints read it."""
    src = Path(F.__file__).resolve().parents[1]
    dst = tmp_path / "ecrs_analysis"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(F, "_package_dir", lambda: dst)
    F._source.cache_clear()
    yield dst
    F._source.cache_clear()


def test_closure_follows_imports_without_importing():
    mods = F.module_closure(["ecrs_analysis.modelling.fusion"])
    assert "ecrs_analysis.stats.threshold" in mods and "ecrs_analysis.modelling.fusion" in mods
    assert "ecrs_analysis.training.helper" not in mods  # the SVM does not train CNNs
    assert "ecrs_analysis.models.registry" in F.module_closure(["ecrs_analysis.training.folds"])


def test_editing_one_network_changes_only_its_training_jobs(package_copy):
    before = {m: W.model_code(m) for m in ("resnet3d", "xception3d", "hrnet3d")}
    svm = W.code("ecrs_analysis.modelling.fusion")
    f = package_copy / "models" / "xception3d.py"
    f.write_text(f.read_text(encoding="utf-8") + "\n# a change\n", encoding="utf-8")
    F._source.cache_clear()
    after = {m: W.model_code(m) for m in ("resnet3d", "xception3d", "hrnet3d")}
    assert after["xception3d"] != before["xception3d"]
    assert after["resnet3d"] == before["resnet3d"] and after["hrnet3d"] == before["hrnet3d"]
    assert W.code("ecrs_analysis.modelling.fusion") == svm


def test_editing_a_module_a_network_imports_changes_that_networks_jobs_only(package_copy):
    before = {m: W.model_code(m) for m in ("resnet3d", "xception3d", "hrnet3d")}
    f = package_copy / "models" / "depthwise.py"  # imported by xception3d alone
    f.write_text(f.read_text(encoding="utf-8") + "\n# a change\n", encoding="utf-8")
    F._source.cache_clear()
    after = {m: W.model_code(m) for m in ("resnet3d", "xception3d", "hrnet3d")}
    assert after["xception3d"] != before["xception3d"]
    assert after["resnet3d"] == before["resnet3d"] and after["hrnet3d"] == before["hrnet3d"]


def test_editing_the_training_helper_changes_every_training_job(package_copy):
    before = {m: W.model_code(m) for m in ("resnet3d", "hrnet3d")}
    f = package_copy / "training" / "helper.py"
    f.write_text(f.read_text(encoding="utf-8") + "\n# a change\n", encoding="utf-8")
    F._source.cache_clear()
    assert all(W.model_code(m) != before[m] for m in before)


def test_notebook_fingerprint_follows_its_imports(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from ecrs_analysis.stats import evaluate\nimport numpy as np\n%matplotlib inline")]
    nbformat.write(nb, tmp_path / "a.ipynb")
    assert F.notebook_modules(tmp_path / "a.ipynb") == ("ecrs_analysis.stats", "ecrs_analysis.stats.evaluate")
