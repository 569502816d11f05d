"""Notebook 05 runs end to end on a tiny results folder made by the real stages (cohort, split, preprocessing, the MTLNet jobs, their evaluation job)."""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_mtlnet_chapter_executes_on_a_tiny_results_folder(tmp_path, monkeypatch):
    papermill = pytest.importorskip("papermill")
    from ecrs_analysis.config.params import load_params
    from ecrs_analysis.data import study as S
    from ecrs_analysis.training.mtl import fit_mtlnet, job_folder, variants

    cfg = load_params("smoke", {"studies.mtlnet2025.synthetic.n_patients": 48, "mtlnet.epochs": 1, "mtlnet.ablation": True, "stats.n_resamples": 200, "stats.roc_band_resamples": 20, "n_jobs": 2})
    paths = S.ResultPaths(tmp_path / "smoke")
    study = S.prepare_study(cfg, "mtlnet2025", paths)
    from ecrs_analysis.config.declared import declared

    index = S.prepare_inputs(declared(cfg, ["studies.mtlnet2025"]).studies.mtlnet2025, "mtlnet2025", study.cohort, paths, n_jobs=cfg["n_jobs"])
    for v in variants(cfg["mtlnet"]):
        fit_mtlnet(study.table, index, settings=cfg["mtlnet"], seed=cfg["seed"], out_dir=job_folder(paths.study("mtlnet2025"), v), variant=v,
                   train_set=study.split.train_name, validation_set=study.split.validation_name)

    from ecrs_analysis.jobs.mtlnet_evaluation import MTLNET_TABLES, mtlnet_evaluation_job
    from ecrs_analysis.training.mtl import load_jobs

    out_files = {t: paths.performance("mtlnet2025", "mtlnet", t) for t in MTLNET_TABLES} | {"claims": paths.claims("05_mtlnet")}
    st = cfg["stats"]
    mtlnet_evaluation_job(study, load_jobs(paths.study("mtlnet2025"), cfg["mtlnet"]), n_resamples=st["n_resamples"], seed=cfg["seed"],
                          rule=st["threshold_rule"], target=st["threshold_target"], width=cfg["mtlnet"]["width"],
                          input_size=cfg["studies"]["mtlnet2025"]["preprocess"]["input_size"], index=index,
                          preprocess=declared(cfg, ["studies.mtlnet2025"]).studies.mtlnet2025.preprocess, mask_columns=tuple(cfg["studies"]["mtlnet2025"]["masks"]),
                          segmentation_target=cfg["mtlnet"]["mask"], tolerance_mm=cfg["mtlnet"]["surface_tolerance_mm"], out=out_files, run="test")
    assert all(p.exists() for p in out_files.values())  # the job writes exactly what its rule declares
    from ecrs_analysis.jobs.exhibits import mtlnet_roc_job, segmentation_examples_job  # the chapter's ROC bands and examples

    import pandas as pd

    mscores = pd.read_csv(paths.job_scores(paths.mtlnet_job("mtlnet2025", "mtlnet")), dtype={"patient_id": str})
    mtlnet_roc_job(mscores, pd.read_csv(out_files["learning"]), sets=study.split.names, n_resamples=st["roc_band_resamples"], seed=cfg["seed"],
                   out={"roc": paths.performance("mtlnet2025", "mtlnet", "roc")})
    segmentation_examples_job(paths.mtlnet_job("mtlnet2025", "mtlnet"), index, set_name=study.split.names[-1],
                              out={"examples": paths.performance("mtlnet2025", "mtlnet", "segmentation_examples").with_suffix(".npz")})
    before = sorted(p.name for p in paths.tables.iterdir())
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    out = tmp_path / "05_mtlnet.ipynb"  # matplotlib keeps the kernel's inline backend: figures come back as PNG
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "05_mtlnet.ipynb"), str(out), parameters={"profile": "smoke", "results_dir": str(paths.root), "config": cfg},
        kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
    )
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    text = json.dumps([c.get("outputs", []) for c in cells])
    assert "image/png" in text and "Traceback" not in text
    assert sorted(p.name for p in paths.tables.iterdir()) == before  # the chapter only reads
