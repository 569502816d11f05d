"""The runner and the workflow: planned jobs per profile, refused targets and manifests, failures.

What a whole run prints, what re-runs after a change and a failed chapter in a real build are
checked on one tiny book in ``test_book_end_to_end.py``.
"""

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from ecrs_analysis.config.params import load_params
from ecrs_analysis.pipeline.runner import RunError, RunOptions, _data_overrides, run_book
from ecrs_analysis.data.manifest import ManifestError
from ecrs_analysis.data.study import ResultPaths, prepare_cohort, prepare_split

ROOT = Path(__file__).resolve().parents[2]


def _li(params):
    """The li2025 section of validated parameters, as the schema's model (what the cohort and split stages receive)."""
    from ecrs_analysis.config.declared import declared

    return declared(params, ["studies.li2025"]).studies.li2025


@pytest.mark.parametrize("profile", ["smoke", "demo", "full"])
def test_dry_run_plans_every_stage_once_and_one_job_per_model_and_fold(profile, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    params = load_params(profile)
    plan = run_book(RunOptions(profile=profile, dry_run=True, results_dir=tmp_path / "r"))["plan"]
    assert plan["train_fold"] == len(params["deep"]["models"]) * params["deep"]["folds"]
    assert plan["cohort"] == plan["split"] == plan["preprocess"] == len(params["studies"])
    assert plan["deep_scores"] == plan["book"] == plan["appendix"] == 1
    assert all(plan[f"chapter_{c}"] == 1 for c in ("01_cohort", "02_clinical", "03_deep_models", "04_integrated_model"))
    assert not (tmp_path / "r").exists()  # a dry run writes nothing


def test_unknown_target_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(RunError, match="unknown target 'nope'.*04_integrated_model"):
        run_book(RunOptions(profile="smoke", targets=("nope",), dry_run=True, results_dir=tmp_path))


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
        prepare_cohort(_li(params), "li2025", paths, seed=params["seed"], n_jobs=params["n_jobs"])
    assert not (tmp_path / "results").exists()


def test_real_manifest_cohort_and_split_artefacts(tmp_path, tiny_cohort):
    params = load_params("smoke", {"studies.li2025.manifest": str(tiny_cohort / "manifest.csv")})
    paths = ResultPaths(tmp_path / "results")
    cohort = prepare_cohort(_li(params), "li2025", paths, seed=params["seed"], n_jobs=params["n_jobs"])
    inputs = json.loads(paths.inputs("li2025").read_text(encoding="utf-8"))
    assert inputs["synthetic"] is False and len(inputs["sha256"]) == 1 + 3 * 16  # manifest, CT, ROI and sinus masks
    meta = json.loads(paths.cohort_meta("li2025").read_text(encoding="utf-8"))
    assert meta["n_patients"] == 16 and meta["mask_columns"] == list(cohort.mask_columns)
    split = prepare_split(_li(params), "li2025", cohort, paths, seed=params["seed"])
    assert json.loads(paths.split("li2025").read_text(encoding="utf-8"))["sets"] == {k: list(v) for k, v in split.sets.items()}


def test_cluster_profile_submits_one_gpu_job_per_model_and_fold(tmp_path, monkeypatch, capfd):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="the SLURM executor plugin is not installed (pip install 'ecrs-analysis[cluster]')")
    monkeypatch.chdir(ROOT)
    params = load_params("full")
    plan = run_book(RunOptions(profile="full", dry_run=True, results_dir=tmp_path / "r", cluster_profile=ROOT / "workflow" / "profiles" / "slurm.yaml"))["plan"]
    assert plan["train_fold"] == len(params["deep"]["models"]) * params["deep"]["folds"]
    err = capfd.readouterr().err
    train_jobs = [block for block in err.split("rule ")[1:] if block.startswith("train_fold:")]
    assert len(train_jobs) == plan["train_fold"] and all("gpu=1" in b and "slurm_partition=gpu" in b and "gres=gpu:1" in b and "threads: 8" in b for b in train_jobs)
    cohort_jobs = [block for block in err.split("rule ")[1:] if block.startswith("cohort:")]
    assert cohort_jobs and all("threads: 8" in b and "slurm_partition=cpu" in b for b in cohort_jobs)  # the profile's, not the login node's


def test_a_chapter_without_its_optional_data_is_published_as_a_page_that_says_why(tmp_path):
    from ecrs_analysis.pipeline.chapters import execute_chapter
    from ecrs_analysis.data.study import ResultPaths

    (tmp_path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Proteomics"), nbformat.v4.new_code_cell("from ecrs_analysis.jobs.skip import ChapterSkipped\nraise ChapterSkipped('no proteomics for this cohort')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "notebooks" / "07_x.ipynb")
    out = execute_chapter("07_x", root=tmp_path, paths=ResultPaths(tmp_path / "r"), profile="smoke", config={})
    cells = nbformat.read(out, as_version=4).cells
    assert [c.cell_type for c in cells] == ["markdown", "markdown"] and "not run on this cohort: no proteomics" in cells[1].source
    assert not (tmp_path / "r" / "failed").exists()


def test_a_failed_chapter_is_kept_without_patient_identifiers(tmp_path, tiny_cohort):
    from ecrs_analysis.pipeline.chapters import ChapterError, execute_chapter

    params = load_params("smoke", {"studies.li2025.manifest": str(tiny_cohort / "manifest.csv")})
    paths = ResultPaths(tmp_path / "r")
    cohort = prepare_cohort(_li(params), "li2025", paths, seed=params["seed"], n_jobs=params["n_jobs"])
    pid = cohort.table["patient_id"].iloc[3]
    (tmp_path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    # the notebook's code names no patient (as in the book's notebooks); its outputs and error do
    half = len(pid) // 2
    nb.cells = [nbformat.v4.new_code_cell(f"pid = {pid[:half]!r} + {pid[half:]!r}\nprint('looking at', pid)"), nbformat.v4.new_code_cell("raise ValueError(f'bad value for {pid}')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "notebooks" / "01_x.ipynb")
    with pytest.raises(ChapterError):
        execute_chapter("01_x", root=tmp_path, paths=paths, profile="smoke", config={})
    kept = (paths.root / "failed" / "01_x.ipynb").read_text(encoding="utf-8")
    assert "looking at" in kept and pid not in kept


def test_an_executed_chapter_is_the_same_file_in_every_build(tmp_path):
    from ecrs_analysis.pipeline.chapters import execute_chapter

    (tmp_path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("profile = 'demo'", metadata={"tags": ["parameters"]}), nbformat.v4.new_code_cell("print(profile)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "notebooks" / "01_x.ipynb")
    runs = [nbformat.read(execute_chapter("01_x", root=tmp_path, paths=ResultPaths(tmp_path / r), profile="smoke", config={}), as_version=4) for r in ("a", "b")]
    ids = [[c["id"] for c in nb.cells] for nb in runs]
    assert ids[0] == ids[1] and "injected-parameters" in ids[0]  # papermill's own id for it is random
