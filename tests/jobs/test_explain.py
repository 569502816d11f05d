"""The explanation job on a whole (tiny) test set: patients chosen by outcome, each explained by the model that scored it, with provenance."""

import json

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.config.declared import declared
from ecrs_analysis.config.params import load_params
from ecrs_analysis.data import study as S
from ecrs_analysis.hashing import weights_sha256
from ecrs_analysis.jobs.explain import deep_networks, mtlnet_network
from ecrs_analysis.report import explain_chapter as chapter
from ecrs_analysis.training.helper import load_checkpoint


def test_each_patient_is_explained_by_the_fold_model_that_scored_it(fake_explained):
    from ecrs_analysis.data.preprocess import load_preprocessed
    from ecrs_analysis.explain.cam import CamExplainer
    from ecrs_analysis.jobs.explain import load_network
    from ecrs_analysis.jobs.explain_rules import TABLES

    cfg, paths = fake_explained
    nets = deep_networks(declared(cfg, ["deep"]), paths)
    assert [n.name for n in nets] == cfg["deep"]["models"] and all(len(n.checkpoints) == 2 for n in nets)
    assert mtlnet_network(declared(cfg, ["mtlnet"]), paths) is None  # not trained here: the chapter skips it
    folder = paths.study("li2025") / "explain" / "resnet3d"
    assert all((folder / t).exists() for t in TABLES)
    study = S.load_study(cfg, "li2025", paths)
    explained = pd.read_csv(folder / "explained.csv", dtype={"patient_id": str})
    assert set(explained["set"]) == set(study.split.names[1:])
    fold_of = pd.read_csv(paths.study("li2025") / "folds.csv", dtype={"patient_id": str}).set_index("patient_id")["fold"]
    index = pd.read_csv(paths.preprocessed_index("li2025"), dtype={"patient_id": str}).set_index("patient_id")["path"]
    net = nets[0]
    for r in explained.itertuples():
        k = int(fold_of[r.patient_id])
        assert str(r.folds) == str(k)
        with np.load(folder / "maps" / f"{r.patient_id}.npz") as z:
            prov = json.loads(str(z["provenance"]))
            cam = z["cam"]
        assert prov["weights_sha256"] == [weights_sha256(load_checkpoint(dict(net.checkpoints)[k])["model"])] and prov["layer"] == "layer1"
        # the same map, computed here from that fold's checkpoint alone
        volume = load_preprocessed(index[r.patient_id])["image"][0]
        ref = CamExplainer(load_network(net, dict(net.checkpoints)[k]), layer="layer1")(volume, class_idx=r.class_idx).cam
        np.testing.assert_allclose(cam, ref, atol=1e-5)
    m = pd.read_csv(folder / "metrics.csv")
    assert set(m["region"]) == {"lesion ROI", "evidence"}
    assert set(m["map"]) == {"Grad-CAM", "random", "crop centre", "perfect map (positive control)"}
    assert m["pointing"].dropna().between(0, 1).all() and m["energy"].dropna().between(0, 1).all()
    assert m["hit zone share of crop"].between(0, 1).all() and m["region share of crop"].between(0, 1).all()
    # the energy share's chance is the region's share of the crop, never more than the pointing game's hit zone (which contains the region)
    assert (m["region share of crop"] <= m["hit zone share of crop"] + 1e-12).all()
    a = pd.read_csv(folder / "attention.csv")
    assert {"pointing game chance", "energy share chance"} <= set(a.columns) and "chance" not in a.columns
    layers = pd.read_csv(folder / "layers.csv")
    assert list(layers["scale"]) == ["1/8", "1/4", "explained"] and list(layers["layer grid"]) == ["3×3×3", "6×6×6", "6×6×6"]
    d = pd.read_csv(folder / "deletion.csv")
    assert set(d["order"]) == {"none", "map", "random", "perfect map"} and set(d["perfect map of"]) == {"evidence"}
    n_fractions = len(cfg["explain"]["deletion_fractions"])
    assert len(d) == len(explained) * (1 + 3 * n_fractions)  # every explained patient here has evidence on its input grid
    cls = explained.set_index("patient_id")["class_idx"].map({1: "eCRS", 0: "non-eCRS"})
    assert (d["explained class"] == d["patient_id"].map(cls)).all()
    area = pd.read_csv(folder / "deletion_area.csv")
    assert area["explained class"].iloc[0] == "both classes" and set(area["explained class"]) <= {"both classes", "eCRS", "non-eCRS"}
    assert {"AOPC perfect map", "AOPC perfect map - random low"} <= set(area.columns)
    assert area.groupby("explained class")["patients"].sum()["both classes"] == len(explained)
    assert chapter.load_explanation(cfg, paths, "mtlnet2025").missing is not None


def test_ensemble_scoring_explains_the_fold_ensemble(fake_results, tmp_path):
    import shutil

    from ecrs_analysis.jobs.explain import explain_job
    from ecrs_analysis.pipeline.workflow import job_keys

    cfg, paths = fake_results
    root = tmp_path / "smoke"
    shutil.copytree(paths.root, root, ignore=shutil.ignore_patterns("explain"))
    paths2 = S.ResultPaths(root)
    cfg2 = {**cfg, "deep": {**cfg["deep"], "test_scoring": "ensemble"}}
    folder = explain_job(declared(cfg2, job_keys("explain", "li2025")), paths2, "li2025", "xception3d")
    e = pd.read_csv(folder / "explained.csv", dtype={"patient_id": str})
    assert (e["folds"] == "0 1").all()
    with np.load(folder / "maps" / f"{e['patient_id'].iloc[0]}.npz") as z:
        assert json.loads(str(z["provenance"]))["folds"] == [0, 1]


def test_mtlnet_is_explained_at_its_own_width_not_the_cnns(tmp_path):
    """The demo book failed here once: chapter 06 rebuilt MTLNet at deep.width (0.25) for a net trained at mtlnet.width (0.125)."""
    import torch

    from ecrs_analysis.jobs.explain import load_network
    from ecrs_analysis.models.registry import build_model
    from ecrs_analysis.paths import ResultPaths

    cfg = load_params("demo")
    assert cfg["deep"]["width"] != cfg["mtlnet"]["width"]
    paths = ResultPaths(tmp_path)
    ckpt = paths.study("mtlnet2025") / "mtlnet" / "best.pt"
    ckpt.parent.mkdir(parents=True)
    torch.save({"model": build_model("mtlnet", width=cfg["mtlnet"]["width"]).state_dict()}, ckpt)
    net = mtlnet_network(declared(cfg, ["mtlnet"]), paths)
    assert net is not None and net.width == cfg["mtlnet"]["width"]
    load_network(net, ckpt)  # fits: same width
    with pytest.raises(ValueError, match="declare `mtlnet`"):
        mtlnet_network(declared(cfg, ["deep"]), paths)  # a job that did not declare `mtlnet`


def test_the_explanation_chapter_declares_the_mtlnet_parameters():
    from pathlib import Path

    from ecrs_analysis.pipeline.workflow import load_chapters

    chapters, _ = load_chapters(Path(__file__).resolve().parents[2] / "workflow" / "chapters.yaml")
    assert "mtlnet" in next(c for c in chapters if c.name == "06_explanation").params


def test_each_job_is_resolved_once_into_what_differs():
    from ecrs_analysis.jobs.explain_rules import job_of

    assert job_of("mtlnet2025", "mtlnet").multitask and not job_of("li2025", "resnet3d").multitask
    assert job_of("li2025", "resnet3d").own_params == "deep" and job_of("mtlnet2025", "mtlnet").own_params == "mtlnet"
    with pytest.raises(ValueError, match="no explanation job for study 'other'"):
        job_of("other", "resnet3d")
