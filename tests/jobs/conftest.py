"""The explanation jobs' fixtures: a tiny fake results folder in the pipeline's layout: cohort, split, preprocessed inputs, random checkpoints, scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ecrs_analysis.atomic import write_csv
from ecrs_analysis.config.declared import declared
from ecrs_analysis.config.params import load_params
from ecrs_analysis.data import study as S
from ecrs_analysis.models import build_model

TINY = {
    "deep.folds": 2,
    "deep.width": 0.125,
    "studies.li2025.synthetic": {"n_patients": 24, "spacing_scale": 6.0, "missing_rate": 0.0},
    "studies.li2025.preprocess": {"spacing_mm": [3.0, 3.0, 3.0], "hu_window": [-1000, 1000], "margin_mm": 9, "input_size": [24, 24, 24], "crop_to": "roi_mask"},
    "explain.n_per_set": 2,
    "explain.mesh_max_faces": 2000,
    "stats.n_resamples": 200,
    "n_jobs": 1,
}


def make_fake_results(root: Path) -> tuple[dict, S.ResultPaths]:
    """Everything the explanation jobs read, for li2025, with randomly initialised tiny CNNs (no MTLNet)."""
    cfg = load_params("smoke", TINY)
    paths = S.ResultPaths(root)
    li = S.prepare_study(cfg, "li2025", paths)
    S.prepare_inputs(declared(cfg, ["studies.li2025"]).studies.li2025, "li2025", li.cohort, paths, n_jobs=1)
    for m_i, name in enumerate(cfg["deep"]["models"]):
        for k in range(cfg["deep"]["folds"]):
            torch.manual_seed(100 * m_i + k)
            model = build_model(name, in_channels=1, num_classes=2, width=cfg["deep"]["width"])
            target = paths.study("li2025") / "deep" / name / f"fold{k}" / "best.pt"
            target.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"model": model.state_dict()}, target)
    t = li.table[["patient_id", "set", "label"]].copy()
    rng = np.random.default_rng(0)
    for name in cfg["deep"]["models"]:  # scores that carry some signal, so every outcome occurs
        t[name] = np.clip(0.5 + 0.25 * (t["label"] - 0.5) + rng.normal(0, 0.2, len(t)), 0.01, 0.99)
    write_csv(t, S.scores_path(paths, "li2025", "deep"))
    from ecrs_analysis.training.fold_assignment import assign_folds

    write_csv(assign_folds(li.table, folds=int(cfg["deep"]["folds"]), seed=int(cfg["seed"])), paths.study("li2025") / "folds.csv")
    return cfg, paths


@pytest.fixture(scope="session")
def fake_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, S.ResultPaths]:
    return make_fake_results(tmp_path_factory.mktemp("results") / "smoke")


@pytest.fixture(scope="session")
def fake_explained(fake_results: tuple[dict, S.ResultPaths]) -> tuple[dict, S.ResultPaths]:
    """The fake results with the explanation jobs of li2025 run (every CNN, and the image summaries): what notebook 06 reads."""
    from ecrs_analysis.jobs.explain import explain_job
    from ecrs_analysis.jobs.explain_summaries import write_image_summaries
    from ecrs_analysis.pipeline.workflow import job_keys

    cfg, paths = fake_results
    for name in cfg["deep"]["models"]:
        explain_job(declared(cfg, job_keys("explain", "li2025")), paths, "li2025", name)
    write_image_summaries(declared(cfg, job_keys("explain_summaries", "li2025")), paths, "li2025")
    from ecrs_analysis.jobs.explain_views import VIEWS, explain_views_job  # the mean maps, meshes and example slices chapter 06 reads

    studies = ("li2025", "mtlnet2025")
    explain_views_job(cfg, paths, studies=studies, out={f"{s}_{v}": paths.explain_view(s, v) for s in studies for v in VIEWS})
    return cfg, paths
