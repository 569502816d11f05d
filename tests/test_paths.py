"""Where results are found: the checkout's results/, the profile built last."""

import os
import time
from pathlib import Path

from ecrs_analysis.paths import ResultPaths, default_results_dir, last_built_profile, results_base

ROOT = Path(__file__).resolve().parents[1]


def test_results_resolve_against_the_checkout_not_the_working_folder(monkeypatch):
    monkeypatch.delenv("ECRS_RESULTS", raising=False)
    monkeypatch.chdir(ROOT / "notebooks")  # JupyterLab's working folder for a chapter
    assert results_base() == ROOT / "results"
    assert default_results_dir("demo") == ROOT / "results" / "demo"
    monkeypatch.setenv("ECRS_RESULTS", "/elsewhere")
    assert default_results_dir("smoke") == Path("/elsewhere/smoke")


def test_the_profile_built_last_is_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("ECRS_RESULTS", str(tmp_path))
    assert last_built_profile() == "demo"  # nothing built yet
    for i, profile in enumerate(("demo", "smoke")):
        (tmp_path / profile).mkdir()
        record = tmp_path / profile / "run_record.json"
        record.write_text("{}")
        os.utime(record, (time.time() + i, time.time() + i))
    assert last_built_profile() == "smoke"
    (tmp_path / "demo" / "run_record.json").touch()
    os.utime(tmp_path / "demo" / "run_record.json", (time.time() + 5, time.time() + 5))
    assert last_built_profile() == "demo"


def test_every_path_lies_under_the_results_folder_and_names_its_study():
    p = ResultPaths(Path("/r"))
    for path in (p.scores("li2025", "clinical"), p.table1("mtlnet2025", "set"), p.clinical("li2025", "signature"), p.performance("li2025", "integrated", "auc"),
                 p.omics_table("li2025", "de", "predicted"), p.integrated_model("li2025"), p.checkpoint(p.fold("li2025", "resnet3d", 2))):
        assert path.is_relative_to("/r") and ("li2025" in str(path) or "mtlnet2025" in str(path))
    assert p.relative(p.omics_summary("li2025")) == "li2025/omics/summary.json"
    assert p.checkpoint(p.fold("li2025", "resnet3d", 2)) == Path("/r/li2025/deep/resnet3d/fold2/best.pt")
