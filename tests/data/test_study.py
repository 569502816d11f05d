"""load_study only reads: a chapter opened before a build says which command builds it, and writes nothing."""

import pytest

from ecrs_analysis.data import study as S


def test_load_study_on_an_unbuilt_folder_names_the_command_and_writes_nothing(tmp_path):
    paths = S.ResultPaths(tmp_path / "smoke")
    with pytest.raises(S.StudyNotBuilt) as err:
        S.load_study({"seed": 1}, "li2025", paths)
    msg = str(err.value)
    assert "ecrs run --profile smoke" in msg and "cohort.json" in msg and "split.json" in msg and "li2025" in msg
    assert not (tmp_path / "smoke").exists()  # nothing generated, nothing written


def test_load_study_reads_what_prepare_study_wrote(tmp_path):
    from ecrs_analysis.config.params import load_params

    cfg = load_params("smoke", {"studies.li2025.synthetic.n_patients": 24, "studies.li2025.synthetic.spacing_scale": 8.0, "n_jobs": 1})
    paths = S.ResultPaths(tmp_path / "smoke")
    made = S.prepare_study(cfg, "li2025", paths)
    read = S.load_study(cfg, "li2025", paths)
    assert list(read.table["patient_id"]) == list(made.table["patient_id"])
    assert list(read.table["set"]) == list(made.table["set"])
    paths.split("li2025").unlink()  # a half-built folder: still no fallback
    with pytest.raises(S.StudyNotBuilt, match="split.json"):
        S.load_study(cfg, "li2025", paths)
