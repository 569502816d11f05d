import json
import shutil

import nbformat
import pandas as pd
import pytest

from ecrs_analysis.data.manifest import ManifestError
from ecrs_analysis.book.params import load_params
from ecrs_analysis.book.runner import RunError, RunOptions, _data_overrides, run_book
from ecrs_analysis.data.study import ResultPaths, prepare_cohort, prepare_split


def _notebook(path, code):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "smoke"\noverrides = {}\nresults_dir = None')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_failing_notebook_is_named_kept_and_the_last_book_survives(tmp_path, monkeypatch):
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "ORDER").write_text("01_bad\n")
    _notebook(tmp_path / "notebooks" / "01_bad.ipynb", 'raise ValueError("boom in the cohort")')
    (tmp_path / "_build" / "html").mkdir(parents=True)
    (tmp_path / "_build" / "html" / "index.html").write_text("last good book")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RunError) as e:
        run_book(RunOptions(profile="smoke", results_dir=tmp_path / "results"))
    msg = str(e.value)
    assert "01_bad.ipynb" in msg and 'raise ValueError("boom in the cohort")' in msg and "ValueError: boom in the cohort" in msg
    assert (tmp_path / "results" / "failed" / "01_bad.ipynb").exists()
    assert (tmp_path / "_build" / "html" / "index.html").read_text(encoding="utf-8") == "last good book"
    assert not (tmp_path / "book" / "executed").exists()


def test_unknown_only_name_is_refused(tmp_path, monkeypatch):
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "ORDER").write_text("01_a\n")
    _notebook(tmp_path / "notebooks" / "01_a.ipynb", "pass")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RunError, match="unknown notebook"):
        run_book(RunOptions(profile="smoke", only=("02_nope",), results_dir=tmp_path / "r"))


def test_data_option_sets_manifests(tmp_path):
    m = tmp_path / "m.csv"
    assert _data_overrides((str(m),), ["a", "b"]) == {"studies.a.manifest": str(m), "studies.b.manifest": str(m)}
    assert _data_overrides((f"b={m}",), ["a", "b"]) == {"studies.b.manifest": str(m)}
    with pytest.raises(RunError, match="unknown study"):
        _data_overrides((f"c={m}",), ["a", "b"])


def test_bad_real_manifest_stops_before_any_artefact(tmp_path, tiny_cohort):
    shutil.copytree(tiny_cohort, tmp_path / "c")
    m = pd.read_csv(tmp_path / "c" / "manifest.csv")
    m.loc[0, "label"] = 7
    m.to_csv(tmp_path / "c" / "manifest.csv", index=False)
    params = load_params("smoke", {"studies.li2025.manifest": str(tmp_path / "c" / "manifest.csv")})
    paths = ResultPaths(tmp_path / "results")
    with pytest.raises(ManifestError, match="label '7' is not 0"):
        prepare_cohort(params, "li2025", paths)
    assert not (tmp_path / "results").exists()


def test_real_manifest_path_splits_once_and_reuses(tmp_path, tiny_cohort):
    params = load_params("smoke", {"studies.li2025.manifest": str(tiny_cohort / "manifest.csv")})
    paths = ResultPaths(tmp_path / "results")
    cohort = prepare_cohort(params, "li2025", paths)
    inputs = json.loads(paths.inputs("li2025").read_text(encoding="utf-8"))
    assert inputs["synthetic"] is False and len(inputs["sha256"]) == 1 + 3 * 16  # manifest, CT, ROI and sinus masks
    split = prepare_split(params, "li2025", cohort, paths)
    before = paths.split("li2025").stat().st_mtime_ns
    assert prepare_split(params, "li2025", cohort, paths).sets == split.sets
    assert paths.split("li2025").stat().st_mtime_ns == before
