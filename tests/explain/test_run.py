"""A whole (tiny) test set: patients chosen by outcome, each explained by the model that scored it, with provenance."""

import json

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from ecrs_analysis.config.declared import declared
from ecrs_analysis.config.params import load_params
from ecrs_analysis.data import study as S
from ecrs_analysis.explain import chapter
from ecrs_analysis.explain.run import choose_patients, deep_networks, label_outcomes, mtlnet_network
from ecrs_analysis.explain.settings import ExplainSettings
from ecrs_analysis.hashing import weights_sha256
from ecrs_analysis.training.helper import load_checkpoint


def test_outcomes_follow_the_training_operating_point():
    s = pd.DataFrame({"patient_id": list("abcdefgh"), "set": ["train"] * 4 + ["test"] * 4, "label": [0, 0, 1, 1, 1, 1, 0, 0], "score": [0.1, 0.4, 0.6, 0.9, 0.8, 0.3, 0.7, 0.2]})
    out, thr = label_outcomes(s, train_set="train", rule="youden", target=None)
    assert 0.4 < thr <= 0.6
    assert list(out["outcome"].iloc[4:]) == ["TP", "FN", "FP", "TN"]


def test_chosen_patients_spread_over_outcomes():
    s = pd.DataFrame({"patient_id": [f"p{i}" for i in range(40)], "set": "test", "outcome": ["TP"] * 25 + ["FP"] * 10 + ["FN"] * 4 + ["TN"] * 1})
    c = choose_patients(s, sets=["test"], n_per_set=8, seed=0)
    assert c["outcome"].value_counts().to_dict() == {"TP": 3, "FP": 2, "FN": 2, "TN": 1}
    assert c.equals(choose_patients(s, sets=["test"], n_per_set=8, seed=0))
    assert len(choose_patients(s, sets=["test"], n_per_set=None, seed=0)) == 40


def test_settings_of_every_profile_validate_and_bad_values_are_refused():
    for profile in ("smoke", "demo", "full"):
        ExplainSettings.from_params(load_params(profile))
    smoke = load_params("smoke")["explain"]
    settings = lambda **changes: ExplainSettings(**{**smoke, **changes})  # noqa: E731
    with pytest.raises(ValidationError):
        settings(method="lime")
    with pytest.raises(ValidationError):
        settings(n_per_set=2, colour="red")
    with pytest.raises(ValidationError, match="rise strictly"):
        settings(deletion_fractions=[0.2, 0.1])
    with pytest.raises(ValidationError, match="mesh_max_faces"):  # no values of its own: the profile sets each key
        ExplainSettings(**{k: v for k, v in smoke.items() if k != "mesh_max_faces"})
    s = settings(resolution="1/4", target_layers={})
    assert s.layer("resnet3d") == "layer1" and settings(resolution="1/8", target_layers={}).layer("resnet3d") == "layer2"
    assert settings(target_layers={"resnet3d": "layer3"}).layer("resnet3d") == "layer3"


def test_each_patient_is_explained_by_the_fold_model_that_scored_it(fake_explained):
    from ecrs_analysis.data.preprocess import load_preprocessed
    from ecrs_analysis.explain.cam import CamExplainer
    from ecrs_analysis.explain.jobs import TABLES
    from ecrs_analysis.explain.run import load_network

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

    from ecrs_analysis.explain.run import explain_network
    from ecrs_analysis.pipeline.workflow import job_keys

    cfg, paths = fake_results
    root = tmp_path / "smoke"
    shutil.copytree(paths.root, root, ignore=shutil.ignore_patterns("explain"))
    paths2 = S.ResultPaths(root)
    cfg2 = {**cfg, "deep": {**cfg["deep"], "test_scoring": "ensemble"}}
    folder = explain_network(declared(cfg2, job_keys("explain", "li2025")), paths2, "li2025", "xception3d")
    e = pd.read_csv(folder / "explained.csv", dtype={"patient_id": str})
    assert (e["folds"] == "0 1").all()
    with np.load(folder / "maps" / f"{e['patient_id'].iloc[0]}.npz") as z:
        assert json.loads(str(z["provenance"]))["folds"] == [0, 1]


def test_scoring_folds():
    from pathlib import Path

    from ecrs_analysis.explain.run import Network, scoring_folds

    net = Network("li2025", "resnet3d", ((0, Path("a")), (1, Path("b")), (2, Path("c"))), 0.125)
    assert scoring_folds(net, 2, test_scoring="single") == (2,)
    assert scoring_folds(net, 2, test_scoring="ensemble") == (0, 1, 2)
    with pytest.raises(ValueError, match="folds.csv"):
        scoring_folds(net, 5, test_scoring="single")
    one = Network("mtlnet2025", "mtlnet", ((0, Path("m")),), 0.125, multitask=True)
    assert scoring_folds(one, None, test_scoring="single") == (0,)


def test_mtlnet_is_explained_at_its_own_width_not_the_cnns(tmp_path):
    """The demo book failed here once: chapter 06 rebuilt MTLNet at deep.width (0.25) for a net trained at mtlnet.width (0.125)."""
    import torch

    from ecrs_analysis.explain.run import load_network
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
