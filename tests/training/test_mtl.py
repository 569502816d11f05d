"""MTLNet through the shared training helper: loss, paired augmentation, determinism, resume, the whole job."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from pydantic import ValidationError
from torch.utils.data import TensorDataset

from ecrs_analysis.training.helper import CachedVolumes, TrainConfig, augment, load_checkpoint, make_loader, seed_everything, train
from ecrs_analysis.training.mtl import (
    MTLNetSettings, MultitaskLoss, MultitaskTask, build_mtlnet, fit_mtlnet, job_folder, load_job, predict_multitask, segmentation_examples, variants,
)

# The settings these tests train with: every key written out (the schema gives no values of its own).
SETTINGS = dict(width=0.25, epochs=10, batch_size=8, lr=1e-3, weight_decay=1e-4, warmup_epochs=1, patience=5, seg_weight=1.0,
                deep_supervision=False, ablation=False, mask="sinus_mask", surface_tolerance_mm=2.0, augment=True,
                early_stopping="classification_loss")


def _s(**changes):
    return MTLNetSettings(**{**SETTINGS, **changes})


def _volumes(n=8, size=16, seed=0):
    """Bright boxes (the 'sinus') of varying position; brighter for label 1."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = 0.2 + 0.05 * torch.randn(n, 1, size, size, size, generator=g)
    m = torch.zeros(n, 1, size, size, size, dtype=torch.uint8)
    for i in range(n):
        a, b, c = (int(v) for v in torch.randint(3, size - 9, (3,), generator=g))
        m[i, 0, a : a + 6, b : b + 6, c : c + 6] = 1
    x = x + m * (0.4 + 0.2 * y.view(-1, 1, 1, 1, 1))
    return x, m, y


def test_loss_is_weighted_dice_ce_plus_class_balanced_bce():
    torch.manual_seed(0)
    seg, cls = torch.randn(4, 1, 6, 6, 6), torch.randn(4, 1)
    mask, y = (torch.rand(4, 1, 6, 6, 6) > 0.5).float(), torch.tensor([0, 0, 0, 1])
    total, parts = MultitaskLoss(pos_weight=3.0, seg_weight=0.5)(seg, cls, mask, y)
    # by hand: soft Dice per volume (MONAI smoothing 1e-5) + mean BCE over voxels; BCE with the positive term weighted 3
    p = torch.sigmoid(seg)
    dice = 1 - (2 * (p * mask).sum((1, 2, 3, 4)) + 1e-5) / (p.sum((1, 2, 3, 4)) + mask.sum((1, 2, 3, 4)) + 1e-5)
    ce = -(mask * torch.log(p) + (1 - mask) * torch.log(1 - p)).mean()
    q = torch.sigmoid(cls[:, 0])
    bce = -(3.0 * y * torch.log(q) + (1 - y) * torch.log(1 - q)).mean()
    assert parts["seg_loss"].item() == pytest.approx((dice.mean() + ce).item(), rel=1e-5)
    assert parts["cls_loss"].item() == pytest.approx(bce.item(), rel=1e-5)
    assert total.item() == pytest.approx((bce + 0.5 * (dice.mean() + ce)).item(), rel=1e-5)
    only_cls, parts = MultitaskLoss(pos_weight=3.0, heads=("classification",))(None, cls, mask, y)
    assert set(parts) == {"cls_loss"} and only_cls.item() == pytest.approx(bce.item(), rel=1e-5)


def test_augmentation_flips_image_and_mask_together():
    torch.manual_seed(1)
    _, m, _ = _volumes(16)
    x = 0.2 + 0.6 * m.float()  # a clean bright box: intensity augmentation cannot move it across 0.5
    xa, ma = augment(x, m)
    assert ma.dtype == m.dtype and torch.equal(ma.sum((1, 2, 3, 4)), m.sum((1, 2, 3, 4)))
    assert not torch.equal(ma, m)  # some volumes were flipped
    # the box is bright in the image wherever the flipped mask says so (intensity changes are small)
    assert torch.equal((xa > 0.5).to(torch.uint8), ma)


def _mtl_run(tmp, *, epochs=3, stop_after=None, resume=False, seed=5, variant="multitask"):
    seed_everything(seed)
    settings = _s(width=0.125, epochs=epochs, batch_size=4)
    model = build_mtlnet(settings, variant=variant)
    x, m, y = _volumes(8, seed=0)
    tr = make_loader(TensorDataset(x, m, y), batch_size=4, shuffle=True, seed=seed)
    xv, mv, yv = _volumes(4, seed=1)
    va = make_loader(TensorDataset(xv, mv, yv), batch_size=4, shuffle=False, seed=seed, shard=False)
    if resume:  # a fresh process rebuilds everything, then loads last.pt
        seed_everything(seed + 100)
    task = MultitaskTask(MultitaskLoss(pos_weight=1.0, heads=model.heads))
    cfg = TrainConfig(epochs=epochs, lr=1e-2, weight_decay=1e-4, warmup_epochs=1, patience=99, seed=seed, augment=True, checkpoint_dir=str(tmp))
    hist = train(model, tr, va, optimizer=torch.optim.AdamW(model.parameters(), lr=1e-2), task=task, config=cfg, device="cpu", resume=resume, stop_after=stop_after)
    return model, hist, va


def test_multitask_training_through_the_shared_helper_is_deterministic(tmp_path):
    m1, h1, va = _mtl_run(tmp_path / "a")
    m2, h2, _ = _mtl_run(tmp_path / "b")
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values()):
        assert torch.equal(a, b)
    timing = ["volumes_per_s", "seconds"]
    pd.testing.assert_frame_equal(h1.drop(columns=timing), h2.drop(columns=timing))
    assert {"train_seg_loss", "train_cls_loss", "val_seg_loss", "val_cls_loss", "val_auc", "val_dice", "val_score"} <= set(h1.columns)
    assert h1["val_score"].to_numpy() == pytest.approx(((h1["val_auc"] + h1["val_dice"]) / 2).to_numpy())
    best = load_checkpoint(tmp_path / "a" / "best.pt")
    # early stopping keeps the lowest validation loss (not the noisy AUC)
    assert best["val_loss"] == pytest.approx(h1["val_loss"].min())
    assert best["epoch"] + 1 == int(h1.loc[h1["val_loss"].idxmin(), "epoch"])


def test_multitask_resume_after_interruption_equals_uninterrupted(tmp_path):
    full, hist_full, _ = _mtl_run(tmp_path / "full")
    _mtl_run(tmp_path / "cut", stop_after=1)
    assert load_checkpoint(tmp_path / "cut" / "last.pt")["epoch"] == 0
    resumed, hist, _ = _mtl_run(tmp_path / "cut", resume=True)
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    assert hist["epoch"].tolist() == [1, 2, 3]
    timing = ["volumes_per_s", "seconds"]
    pd.testing.assert_frame_equal(hist.drop(columns=timing), hist_full.drop(columns=timing), check_dtype=False)


def test_single_head_variant_trains_and_progress_bar_reports(tmp_path, capsys):
    seed_everything(0)
    model = build_mtlnet(_s(width=0.125), variant="segmentation")
    x, m, y = _volumes(4)
    loader = make_loader(TensorDataset(x, m, y), batch_size=2, shuffle=True, seed=0)
    task = MultitaskTask(MultitaskLoss(pos_weight=1.0, heads=model.heads))
    hist = train(model, loader, loader, optimizer=torch.optim.AdamW(model.parameters()), task=task, config=TrainConfig(epochs=1, progress=True, lr=1e-3, weight_decay=1e-4, warmup_epochs=1, patience=5, seed=0, augment=True), device="cpu")
    assert "epoch 1/1" in capsys.readouterr().err
    assert "train_cls_loss" not in hist and "val_auc" not in hist and hist.loc[0, "val_score"] == hist.loc[0, "val_dice"]
    pred = predict_multitask(model, loader)
    assert pred.prob is None and pred.masks.shape == (4, 16, 16, 16) and set(np.unique(pred.masks)) <= {0, 1}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (bf16 autocast)")
def test_multitask_trains_in_bf16_on_cuda(tmp_path):
    seed_everything(0)
    model = build_mtlnet(_s(width=0.125))
    x, m, y = _volumes(8)
    loader = make_loader(TensorDataset(x, m, y), batch_size=4, shuffle=True, seed=0)
    task = MultitaskTask(MultitaskLoss(pos_weight=1.0))
    hist = train(model, loader, loader, optimizer=torch.optim.AdamW(model.parameters()), task=task, config=TrainConfig(epochs=2, channels_last=True, lr=1e-3, weight_decay=1e-4, warmup_epochs=1, patience=5, seed=0, augment=True), device="cuda")
    assert np.isfinite(hist[["train_loss", "val_loss"]].to_numpy()).all()


def _npz_study(folder, n=16, seed=0):
    x, m, y = _volumes(n, seed=seed)
    rows = []
    sets = ["train", "train", "validation", "external"]
    for i in range(n):
        p = folder / f"v{i}.npz"
        np.savez(p, image=x[i].numpy(), sinus_mask=m[i].numpy(), spacing_mm=np.array([2.0, 2.0, 2.5], np.float32))
        rows.append({"patient_id": f"P{i:02d}", "set": sets[(i // 2) % 4], "label": int(y[i]), "path": str(p)})
    t = pd.DataFrame(rows)
    return t[["patient_id", "set", "label"]], t[["patient_id", "path"]]


def test_fit_mtlnet_writes_the_jobs_artefacts(tmp_path):
    table, index = _npz_study(tmp_path)
    out = job_folder(tmp_path / "study", "multitask")
    stale = out.parent / f".{out.name}.work"  # checkpoints of other settings must not be resumed
    stale.mkdir(parents=True)
    (stale / "job_key.json").write_text(json.dumps({"key": "other"}))
    torch.save({"epoch": 99}, stale / "last.pt")
    run = fit_mtlnet(table, index, settings=_s(width=0.125, epochs=2, batch_size=4), seed=3, out_dir=out)
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "history.csv", "job.json", "masks.npz", "scores.csv"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["mtlnet"]  # no work folder or temporary files left
    back = load_job(out)
    assert list(back.scores.columns) == ["patient_id", "set", "label", "prob", "dice", "hd95", "surface_dice"]
    assert back.scores["patient_id"].tolist() == table["patient_id"].tolist() and set(back.scores["set"]) == {"train", "validation", "external"}
    assert back.scores["prob"].between(0, 1).all() and back.scores["dice"].between(0, 1).all()
    assert back.history["epoch"].tolist() == [1, 2] and {"train_seg_loss", "train_cls_loss"} <= set(back.history.columns)
    assert back.info["variant"] == "multitask" and back.info["best_epoch"] in (1, 2)
    # the kept epoch is the one of lowest validation *classification* loss, as the settings ask
    assert back.info["monitor"] == "val_cls_loss" and back.info["best_epoch"] == int(back.history["val_cls_loss"].to_numpy().argmin()) + 1
    rec = back.info["learning"]
    assert {"learned_on_validation", "validation_cls_loss", "constant_validation_cls_loss", "validation_auc"} <= set(rec)
    assert rec["learned"] == (rec["learned_in_training"] and rec["learned_on_validation"])
    state = load_checkpoint(out / "best.pt")
    model = build_mtlnet(_s(width=0.125))
    model.load_state_dict(state["model"])
    with np.load(out / "masks.npz") as z:
        assert z["masks"].shape == (16, 16, 16, 16) and z["masks"].dtype == np.uint8 and z["patient_id"].tolist() == table["patient_id"].tolist()
    cases = segmentation_examples(back, index, set_name="external")
    assert [c[0].split()[0] for c in cases] == ["best", "median", "worst"] and not any("P" in c[0] for c in cases)
    dices = [float(c[0].split()[2]) for c in cases]
    assert dices == sorted(dices, reverse=True)
    pd.testing.assert_frame_equal(run.scores.reset_index(drop=True), back.scores, check_dtype=False)


def test_classification_only_variant_has_no_masks(tmp_path):
    table, index = _npz_study(tmp_path)
    run = fit_mtlnet(table, index, settings=_s(width=0.125, epochs=1, batch_size=4), seed=3, out_dir=tmp_path / "cls", variant="classification")
    assert not (run.folder / "masks.npz").exists() and run.scores["dice"].isna().all() and run.scores["prob"].notna().all()
    with pytest.raises(FileNotFoundError, match="masks.npz"):
        segmentation_examples(run, index, set_name="external")


def test_inputs_and_settings_are_checked(tmp_path):
    table, index = _npz_study(tmp_path)
    s = _s(width=0.125, epochs=1)
    with pytest.raises(ValueError, match="validation"):
        fit_mtlnet(table[table.set != "validation"], index, settings=s, seed=0, out_dir=tmp_path / "o")
    with pytest.raises(ValueError, match="no preprocessed volume"):
        fit_mtlnet(table, index.iloc[1:], settings=s, seed=0, out_dir=tmp_path / "o")
    with pytest.raises(ValueError, match="variant"):
        fit_mtlnet(table, index, settings=s, seed=0, out_dir=tmp_path / "o", variant="both")
    with pytest.raises(ValidationError):
        MTLNetSettings.model_validate({**SETTINGS, "epochs": "3"})  # strict: no silent conversion
    with pytest.raises(ValidationError, match="warmup_epochs"):
        _s(epochs=2, warmup_epochs=3)
    with pytest.raises(ValidationError):
        MTLNetSettings.model_validate({**SETTINGS, "widht": 0.1})
    with pytest.raises(ValidationError, match="lr"):
        MTLNetSettings.model_validate({k: v for k, v in SETTINGS.items() if k != "lr"})  # no values of its own: the profile sets each
    assert variants(_s(ablation=True)) == ("multitask", "classification", "segmentation") and variants(_s()) == ("multitask",)
    ds = CachedVolumes(index["path"].tolist()[:2], [0, 1], keys=("image", "sinus_mask"))
    x, m, y = ds[1]
    assert x.dtype == torch.float32 and m.dtype == torch.uint8 and int(y) == 1
    with pytest.raises(KeyError, match="roi_mask"):
        CachedVolumes(index["path"].tolist()[:1], [0], keys=("image", "roi_mask"))


@pytest.mark.parametrize("profile", ["smoke", "demo", "full"])
def test_every_profile_has_valid_mtlnet_settings_for_its_inputs(profile):
    from ecrs_analysis.config.params import load_params

    cfg = load_params(profile)
    s = MTLNetSettings.model_validate(cfg["mtlnet"])
    assert set(cfg["mtlnet"]) == set(MTLNetSettings.model_fields)  # every key written out in every profile
    study = cfg["studies"]["mtlnet2025"]
    assert s.mask in study["masks"] and study["preprocess"]["crop_to"] == "head_box"  # never the mask it segments
    levels = build_mtlnet(s).levels
    assert all(n % 2 ** (levels - 1) == 0 for n in study["preprocess"]["input_size"])


def test_the_classification_head_learns_a_tiny_separable_problem():
    """The endotype is the brightness of the box, a few percent of the pooled deep features: the head must still learn it."""
    from sklearn.metrics import roc_auc_score

    from ecrs_analysis.stats.learning import constant_loss, learning_check

    seed_everything(3)
    settings = _s(width=0.125, epochs=12, batch_size=8)
    model = build_mtlnet(settings)
    x, m, y = _volumes(32, seed=4)
    tr = make_loader(TensorDataset(x, m, y), batch_size=8, shuffle=True, seed=3)
    plain = make_loader(TensorDataset(x, m, y), batch_size=8, shuffle=False, seed=3, shard=False)
    task = MultitaskTask(MultitaskLoss(pos_weight=1.0), bn_loader=plain)
    cfg = TrainConfig(epochs=12, lr=3e-3, warmup_epochs=1, patience=99, seed=3, augment=False, weight_decay=1e-4)
    hist = train(model, tr, plain, optimizer=torch.optim.AdamW(model.parameters(), lr=3e-3), task=task, config=cfg, device="cpu")
    prob = predict_multitask(model, plain).prob
    check = learning_check(prob, train_losses=hist["train_cls_loss"], constant_train_loss=constant_loss(y.numpy(), class_weights=(1.0, 1.0), weighted_mean=False))
    assert check.learned, check.reason
    assert roc_auc_score(y.numpy(), prob) > 0.9


def test_monitor_follows_the_setting_and_the_variant():
    from ecrs_analysis.training.mtl import monitor_of

    assert monitor_of(_s(), "multitask") == "val_cls_loss" and monitor_of(_s(), "classification") == "val_cls_loss"
    assert monitor_of(_s(), "segmentation") == "val_loss"  # no classification head: its own loss
    assert monitor_of(_s(early_stopping="loss"), "multitask") == "val_loss"


def test_held_out_check_against_a_brute_force_constant():
    """The constant reference is the best constant BCE (with pos_weight) of the validation labels, found here by a grid search."""
    from ecrs_analysis.training.mtl import held_out_check

    y = np.array([0, 0, 0, 1, 1, 0, 1, 0, 0, 0])
    w = 2.5
    q = np.linspace(0.001, 0.999, 9999)
    brute = float(np.min(-(w * y.sum() * np.log(q) + (y.size - y.sum()) * np.log(1 - q)) / y.size))
    flat = held_out_check(y, np.full(y.size, 0.4) + 1e-9 * np.arange(y.size), validation_loss=brute + 0.01, pos_weight=w)
    assert flat.constant_validation_loss == pytest.approx(brute, abs=1e-4)
    assert not flat.learned and "not below the constant" in flat.reason  # worse than the constant and an AUC CI covering 0.5
    good = held_out_check(y, y * 0.8 + 0.1, validation_loss=brute + 0.01, pos_weight=w)
    assert good.learned and good.auc == 1.0  # a loss above the constant's, but an AUC CI above 0.5
    assert held_out_check(y, np.full(y.size, 0.4) + 1e-9 * np.arange(y.size), validation_loss=brute - 0.01, pos_weight=w).learned
