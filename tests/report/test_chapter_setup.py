"""open_chapter: the profile built last, the checkout's results, a clear message when nothing was built."""

import pytest

from ecrs_analysis.report.chapter_setup import ChapterNotBuilt, open_chapter


def test_a_chapter_opened_by_hand_reads_the_profile_built_last(tmp_path, monkeypatch):
    monkeypatch.setenv("ECRS_RESULTS", str(tmp_path))
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "run_record.json").write_text("{}")
    ch = open_chapter("02_clinical")
    assert ch.profile == "smoke" and ch.paths.root == tmp_path / "smoke"
    assert ch.config["profile"] == "smoke" and "stats" in ch.config  # the whole validated profile
    injected = open_chapter("02_clinical", profile="demo", results_dir=tmp_path / "smoke", config={"seed": 3})
    assert injected.config == {"seed": 3, "profile": "demo"}  # the workflow's declared parameters only


def test_a_chapter_without_results_says_how_to_build_them(tmp_path, monkeypatch):
    monkeypatch.setenv("ECRS_RESULTS", str(tmp_path))
    with pytest.raises(ChapterNotBuilt, match=r"demo does not exist: chapter 04_integrated_model only reads .*make book"):
        open_chapter("04_integrated_model")
