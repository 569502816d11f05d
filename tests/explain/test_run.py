"""A whole (tiny) test set: patients chosen by outcome, maps cached per (model, fold, patient) with provenance."""

import json

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from ecrs_analysis.book.params import load_params
from ecrs_analysis.data import study as S
from ecrs_analysis.explain import chapter
from ecrs_analysis.explain.run import choose_patients, deep_networks, explain_study, label_outcomes, mtlnet_network
from ecrs_analysis.explain.settings import ExplainSettings
from ecrs_analysis.hashing import sha256_path


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
    with pytest.raises(ValidationError):
        ExplainSettings(method="lime")
    with pytest.raises(ValidationError):
        ExplainSettings(n_per_set=2, colour="red")


def test_maps_are_cached_with_provenance_and_reused(fake_results):
    cfg, paths = fake_results
    nets = deep_networks(cfg, paths)
    assert [n.name for n in nets] == cfg["deep"]["models"] and all(len(n.checkpoints) == 2 for n in nets)
    assert mtlnet_network(cfg, paths) is None  # not trained here: the chapter skips it
    study = S.load_study(cfg, "li2025", paths)
    scores = pd.read_csv(S.scores_path(paths, "li2025", "deep"), dtype={"patient_id": str})
    ex = explain_study(cfg, paths, study, nets[:1], scores=scores, progress=False)
    assert ex.ok and set(ex.explained["set"]) == set(study.split.names[1:])
    pid = ex.explained["patient_id"].iloc[0]
    f = ex.folder / "resnet3d" / "fold1" / f"{pid}.npz"
    with np.load(f) as z:
        prov = json.loads(str(z["provenance"]))
        assert z["cam"].shape == tuple(cfg["studies"]["li2025"]["preprocess"]["input_size"]) and z["cam"].max() <= 1.0
    assert prov["checkpoint_sha256"] == sha256_path(nets[0].checkpoints[1][1]) and prov["layer"] == "layer2" and "params_hash" in prov
    assert (ex.folder / "resnet3d" / "randomised" / f"{pid}.npz").exists()
    m = ex.metrics
    assert set(m["region"]) == {"lesion ROI", "evidence"} and set(m["map"]) == {"Grad-CAM", "random", "crop centre"}
    assert m["pointing"].dropna().between(0, 1).all() and m["energy"].dropna().between(0, 1).all()
    assert m["hit zone share of crop"].between(0, 1).all()
    for name in ("explained.csv", "metrics.csv", "sanity.csv"):
        assert (ex.folder / name).exists()
    before = f.stat().st_mtime_ns
    again = explain_study(cfg, paths, study, nets[:1], scores=scores, progress=False)
    assert f.stat().st_mtime_ns == before  # taken from the cache
    pd.testing.assert_frame_equal(again.metrics, ex.metrics)
    assert "Skipped" in chapter.status(chapter.explain_mtlnet(cfg, paths))


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
    net = mtlnet_network(cfg, paths)
    assert net is not None and net.width == cfg["mtlnet"]["width"]
    load_network(net, ckpt)  # fits: same width
    with pytest.raises(ValueError, match="declare `mtlnet`"):
        mtlnet_network({k: v for k, v in cfg.items() if k != "mtlnet"}, paths)


def test_the_explanation_chapter_declares_the_mtlnet_parameters():
    from pathlib import Path

    from ecrs_analysis.book.workflow import load_chapters

    chapters, _ = load_chapters(Path(__file__).resolve().parents[2] / "workflow" / "chapters.yaml")
    assert "mtlnet" in next(c for c in chapters if c.name == "06_explanation").params
