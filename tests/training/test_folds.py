"""Fold jobs: fold assignment, one (model, fold) job's artefacts, score collection, and leakage."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ecrs_analysis.config.declared import declared
from ecrs_analysis.pipeline.workflow import job_keys
from ecrs_analysis.training.fold_assignment import assign_folds, collect_deep_scores, fold_dir, fold_seed
from ecrs_analysis.training.folds import train_fold


def _volumes(tmp_path, n=96, signal=0.4, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        y = i % 2
        img = rng.normal(0.3 + signal * y, 0.2, size=(1, 10, 10, 10)).astype(np.float32)  # brighter lesions = eCRS
        p = tmp_path / f"v{i}.npz"
        np.savez(p, image=img)
        s = "train" if i < 0.75 * n else ("internal_test" if i < 0.875 * n else "external_test")
        rows.append({"patient_id": f"P{i:03d}", "set": s, "label": y, "path": str(p)})
    return pd.DataFrame(rows)


def _spec(**deep):
    """The ``deep`` model a training job receives (its declared keys, the schema's types)."""
    return declared({"seed": 0, "training_seed": 0, "deep": deep}, job_keys("train", "li2025")).deep


SPEC = _spec(width=0.125, folds=2, epochs=6, batch_size=8, lr=3e-3, weight_decay=1e-4, patience=10, validation_fraction=0.25)


def test_folds_are_stratified_and_cover_every_patient():
    t = pd.DataFrame({"patient_id": [f"p{i}" for i in range(40)], "set": ["train"] * 30 + ["test"] * 10, "label": [i % 2 for i in range(40)]})
    f = assign_folds(t, folds=3, seed=1)
    tr = f[f.set == "train"]
    assert sorted(tr.fold.unique()) == [0, 1, 2] and (f.fold >= 0).all()
    assert tr.groupby("fold").label.mean().between(0.3, 0.7).all()  # each fold holds both classes
    assert assign_folds(t, folds=3, seed=1).equals(f)  # seeded
    with pytest.raises(ValueError, match="at least 20 patients of each class"):
        assign_folds(t, folds=20, seed=1)


def test_fold_seed_is_the_same_in_every_process_and_differs_per_model_and_fold():
    import subprocess
    import sys

    # Python's own hash() of a string is salted per process: a seed built on it would change from run to run.
    code = "from ecrs_analysis.training.fold_assignment import fold_seed; print(fold_seed(7, 'xception3d', 2))"
    seen = {subprocess.run([sys.executable, "-c", code], env={**__import__("os").environ, "PYTHONHASHSEED": str(h)}, capture_output=True, text=True, check=True).stdout.strip() for h in (1, 2)}
    assert seen == {str(fold_seed(7, "xception3d", 2))}
    seeds = {fold_seed(7, m, k) for m in ("resnet3d", "xception3d", "hrnet3d") for k in range(5)}
    assert len(seeds) == 15


def test_fold_jobs_give_out_of_fold_and_single_model_test_scores(tmp_path):
    vols = _volumes(tmp_path)
    folds = assign_folds(vols, folds=2, seed=3)
    dirs = {}
    for k in range(2):
        d = fold_dir(tmp_path / "deep", "resnet3d", k)
        s = train_fold(folds, vols, model="resnet3d", fold=k, spec=SPEC, seed=3, out_dir=d)
        assert {"best.pt", "last.pt", "history.csv", "scores.csv"} <= {p.name for p in d.iterdir()}
        held = set(folds[(folds.set == "train") & (folds.fold == k)].patient_id)
        assert set(s[s.role == "oof"].patient_id) == held  # exactly the training patients this model never saw
        assert set(s[s.role == "test"].patient_id) == set(folds[folds.set != "train"].patient_id)
        dirs[("resnet3d", k)] = d
    scores, hist = collect_deep_scores(folds, dirs)
    assert scores.resnet3d.between(0, 1).all() and len(scores) == len(vols) and set(hist.fold) == {0, 1}
    # single: each test patient carries exactly its assigned fold model's score
    raw = pd.concat([pd.read_csv(dirs[("resnet3d", k)] / "scores.csv", dtype={"patient_id": str}).assign(k=k) for k in range(2)])
    t = folds[folds.set != "train"].iloc[0]
    want = raw[(raw.patient_id == t.patient_id) & (raw.k == t.fold)].prob.item()
    assert scores.set_index("patient_id").loc[t.patient_id, "resnet3d"] == pytest.approx(want)
    ens, _ = collect_deep_scores(folds, dirs, test_scoring="ensemble")
    assert ens.set_index("patient_id").loc[t.patient_id, "resnet3d"] == pytest.approx(raw[raw.patient_id == t.patient_id].prob.mean())
    tr = scores[scores.set == "train"]
    assert roc_auc_score(tr.label, tr.resnet3d) > 0.8  # the planted signal is learnt out of fold
    with pytest.raises(ValueError, match="no score"):
        collect_deep_scores(folds, {("resnet3d", 0): dirs[("resnet3d", 0)]})


def test_shuffled_labels_give_chance_level_out_of_fold_auc(tmp_path):
    # Leakage check: with labels shuffled, nothing the CNN or the SVM sees carries the label,
    # so out-of-fold AUCs must be near 0.5 (the same pipeline reaches > 0.8 on the real labels above).
    from ecrs_analysis.modelling.fusion import fit_integrated
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    vols = _volumes(tmp_path, n=160, signal=0.4, seed=5)
    rng = np.random.default_rng(11)
    vols["label"] = rng.permutation(vols["label"].to_numpy())
    folds = assign_folds(vols, folds=2, seed=5)
    dirs = {("resnet3d", k): fold_dir(tmp_path / "d", "resnet3d", k) for k in range(2)}
    for (model, k), d in dirs.items():
        train_fold(folds, vols, model=model, fold=k, spec=SPEC, seed=5, out_dir=d)
    scores, _ = collect_deep_scores(folds, dirs)
    tr = scores[scores.set == "train"].assign(clinical_signature=rng.normal(size=(scores.set == "train").sum()))
    assert abs(roc_auc_score(tr.label, tr.resnet3d) - 0.5) < 0.2
    model = fit_integrated(tr, ["clinical_signature", "resnet3d"], seed=0, folds=3)
    oof = cross_val_predict(model.pipeline, tr[["clinical_signature", "resnet3d"]].to_numpy(), tr.label.to_numpy(), cv=StratifiedKFold(3, shuffle=True, random_state=0), method="predict_proba")[:, 1]
    assert abs(roc_auc_score(tr.label, oof) - 0.5) < 0.2


def test_a_fold_job_killed_mid_training_resumes_from_its_last_epoch_and_ends_as_an_uninterrupted_one(tmp_path, monkeypatch):
    import torch

    from ecrs_analysis.training import folds as F
    from ecrs_analysis.training.helper import load_checkpoint

    vols = _volumes(tmp_path, n=48)
    folds = assign_folds(vols, folds=2, seed=3)
    spec = _spec(width=0.125, folds=2, epochs=4, batch_size=8, lr=3e-3, weight_decay=1e-4, patience=10, validation_fraction=0.25)
    whole = fold_dir(tmp_path / "whole", "resnet3d", 0)
    expected = train_fold(folds, vols, model="resnet3d", fold=0, spec=spec, seed=3, out_dir=whole)

    real_train, started_from = F.train, []

    def killed_after_two_epochs(*args, **kwargs):
        real_train(*args, **kwargs, stop_after=2)
        raise KeyboardInterrupt("killed")  # the process dies here: nothing after this line runs

    cut = fold_dir(tmp_path / "cut", "resnet3d", 0)
    monkeypatch.setattr(F, "train", killed_after_two_epochs)
    with pytest.raises(KeyboardInterrupt):
        train_fold(folds, vols, model="resnet3d", fold=0, spec=spec, seed=3, out_dir=cut)
    work = cut.parent / ".fold0.work"
    assert not cut.exists() and load_checkpoint(work / "last.pt")["epoch"] == 1  # no output; state of epoch 2 kept aside

    def watching(*args, **kwargs):
        started_from.append(int(load_checkpoint(work / "last.pt")["epoch"]) + 1 if (work / "last.pt").exists() else 0)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(F, "train", watching)
    torch.manual_seed(12345)  # a fresh process: whatever the global RNG holds, the resumed job restores its own
    resumed = train_fold(folds, vols, model="resnet3d", fold=0, spec=spec, seed=3, out_dir=cut)
    pd.testing.assert_frame_equal(resumed, expected)
    for a, b in zip(load_checkpoint(whole / "best.pt")["model"].values(), load_checkpoint(cut / "best.pt")["model"].values()):
        assert torch.equal(a, b)
    assert started_from == [2]  # the resumed job trained epochs 3 and 4 only
    assert len(pd.read_csv(cut / "history.csv")) == 4
    assert not work.exists()  # removed once the job is complete
