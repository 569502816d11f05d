"""Training helper: determinism, resume = uninterrupted, early stopping, checkpoints, DDP on CPU (gloo)."""

import os
import socket

import numpy as np
import pandas as pd
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.utils.data import TensorDataset

from ecrs_analysis.models import build_model
from ecrs_analysis.training.helper import TrainConfig, augment, class_weights, load_checkpoint, make_loader, predict_proba, seed_everything, train


def _data(n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 1, 8, 8, 8, generator=g) * 0.3 + y.view(-1, 1, 1, 1, 1).float() * 0.5
    return TensorDataset(x, y)


def _tiny():
    return nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(4, 2))


def _run(tmp, *, epochs=4, stop_after=None, resume=False, seed=3):
    seed_everything(seed)
    model = _tiny()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    tr = make_loader(_data(), batch_size=6, shuffle=True, seed=seed)
    va = make_loader(_data(12, seed=1), batch_size=6, shuffle=False, seed=seed)
    cfg = TrainConfig(epochs=epochs, lr=1e-2, weight_decay=1e-4, warmup_epochs=1, patience=99, seed=seed, augment=True, checkpoint_dir=str(tmp))
    if resume:  # a fresh process would rebuild everything, then load last.pt
        seed_everything(seed + 100)
    hist = train(model, tr, va, optimizer=opt, loss_fn=nn.CrossEntropyLoss(), config=cfg, device="cpu", resume=resume, stop_after=stop_after)
    return model, hist, va


def test_same_parameters_give_identical_scores(tmp_path):
    m1, h1, va = _run(tmp_path / "a")
    m2, h2, _ = _run(tmp_path / "b")
    assert np.array_equal(predict_proba(m1, va), predict_proba(m2, va))
    pd.testing.assert_frame_equal(h1.drop(columns=["volumes_per_s", "seconds"]), h2.drop(columns=["volumes_per_s", "seconds"]))


def test_resume_after_interruption_equals_uninterrupted(tmp_path):
    full, hist_full, va = _run(tmp_path / "full")
    _run(tmp_path / "cut", stop_after=2)  # "interrupted" after epoch 2
    assert load_checkpoint(tmp_path / "cut" / "last.pt")["epoch"] == 1
    resumed, hist, _ = _run(tmp_path / "cut", resume=True)
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    assert len(hist) == 4 and hist["epoch"].tolist() == [1, 2, 3, 4]
    # the written history equals the uninterrupted one's, timings aside (the epoch column included: "1", not "1.0")
    timings = ["volumes_per_s", "seconds"]
    written = [pd.read_csv(tmp_path / run / "history.csv", dtype=str).drop(columns=timings) for run in ("full", "cut")]
    assert written[0].equals(written[1]), (written[0].head(), written[1].head())


def test_checkpoints_history_and_early_stopping(tmp_path):
    seed_everything(0)
    model = _tiny()
    tr = make_loader(_data(), batch_size=6, shuffle=True, seed=0)
    noise = TensorDataset(torch.randn(12, 1, 8, 8, 8), torch.arange(12) % 2)  # validation without signal
    va = make_loader(noise, batch_size=6, shuffle=False, seed=0)
    cfg = TrainConfig(epochs=30, lr=1e-2, weight_decay=1e-4, warmup_epochs=1, patience=2, seed=0, augment=True, checkpoint_dir=str(tmp_path))
    hist = train(model, tr, va, optimizer=torch.optim.AdamW(model.parameters(), lr=1e-2), loss_fn=nn.CrossEntropyLoss(), config=cfg, device="cpu")
    assert len(hist) < 30
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["val_auc"] == pytest.approx(hist["val_auc"].max())
    assert list(pd.read_csv(tmp_path / "history.csv")["epoch"]) == list(hist["epoch"])
    assert {"train_loss", "val_auc", "lr", "volumes_per_s"} <= set(hist.columns)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_learning_rate_warms_up_then_decays(tmp_path):
    _, hist, _ = _run(tmp_path, epochs=6)
    lr = hist["lr"].to_numpy()
    assert lr.argmax() <= 1 and lr[-1] < lr.max() / 5


def test_loader_reshuffles_per_epoch_and_class_weights():
    s = make_loader(_data(10), batch_size=4, shuffle=True, seed=1).sampler
    s.set_epoch(3)
    a = list(s)
    s.set_epoch(4)
    assert sorted(a) == list(range(10)) and a != list(s)
    s.set_epoch(3)
    assert list(s) == a
    assert list(make_loader(_data(10), batch_size=4, shuffle=False, seed=1).sampler) == list(range(10))
    assert class_weights([0, 0, 0, 1]).tolist() == pytest.approx([4 / 6, 2.0])
    with pytest.raises(ValueError, match="missing"):
        class_weights([0, 0])


def test_a_registry_model_trains_on_cpu(tmp_path):
    seed_everything(0)
    model = build_model("resnet3d", width=0.125)
    ds = TensorDataset(torch.randn(8, 1, 16, 16, 16), torch.arange(8) % 2)
    tr = make_loader(ds, batch_size=4, shuffle=True, seed=0)
    hist = train(model, tr, None, optimizer=torch.optim.AdamW(model.parameters()), loss_fn=nn.CrossEntropyLoss(), config=TrainConfig(epochs=1, lr=1e-3, weight_decay=1e-4, warmup_epochs=1, patience=5, seed=0, augment=True), device="cpu")
    assert np.isfinite(hist["train_loss"]).all()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world, port, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = _tiny()
    tr = make_loader(_data(), batch_size=4, shuffle=True, seed=0)
    assert isinstance(tr.sampler, torch.utils.data.DistributedSampler)
    train(model, tr, None, optimizer=torch.optim.AdamW(model.parameters(), lr=1e-2), loss_fn=nn.CrossEntropyLoss(), config=TrainConfig(epochs=2, augment=False, lr=1e-3, weight_decay=1e-4, warmup_epochs=1, patience=5, seed=0), device="cpu")
    torch.save({k: v.clone() for k, v in model.state_dict().items()}, f"{out}/rank{rank}.pt")
    dist.destroy_process_group()


def test_ddp_with_gloo_keeps_two_processes_in_step(tmp_path):
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    a, b = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for k in a:
        assert torch.allclose(a[k], b[k]), k
    torch.manual_seed(0)
    first = _tiny()
    assert not torch.equal(first.state_dict()["0.weight"], a["0.weight"])  # it did train


def test_resuming_an_early_stopped_run_trains_no_further(tmp_path):
    def run(resume):
        seed_everything(0)
        model = _tiny()
        tr = make_loader(_data(), batch_size=6, shuffle=True, seed=0)
        va = make_loader(TensorDataset(torch.randn(12, 1, 8, 8, 8), torch.arange(12) % 2), batch_size=6, shuffle=False, seed=0)
        cfg = TrainConfig(epochs=30, lr=1e-2, weight_decay=1e-4, warmup_epochs=1, patience=1, seed=0, augment=True, checkpoint_dir=str(tmp_path))
        return train(model, tr, va, optimizer=torch.optim.AdamW(model.parameters(), lr=1e-2), loss_fn=nn.CrossEntropyLoss(), config=cfg, device="cpu", resume=resume)

    first = run(False)
    assert len(first) < 30
    again = run(True)
    assert len(again) == len(first)


def test_augmentation_flips_left_right_only():
    """A head flipped upside down or front to back swaps frontal/ethmoid with maxillary/sphenoid sinuses: never done."""
    torch.manual_seed(3)
    # a distinct value at every voxel: each output must be the input, its left-right mirror, or (intensity) an affine copy of one
    base = torch.arange(6 * 5 * 4, dtype=torch.float32).reshape(1, 1, 6, 5, 4) / 120.0
    x = base.repeat(64, 1, 1, 1, 1)
    mask = (torch.rand(1, 1, 6, 5, 4) > 0.5).to(torch.uint8).repeat(64, 1, 1, 1, 1)  # no symmetry along any axis
    xa, ma = augment(x, mask)
    mirrored = base.flip(2)[0]
    flipped = [torch.equal(m, mask[0].flip(1)) for m in ma]  # axis 1 of one sample (C, X, Y, Z) is X: left-right
    for i in range(64):
        assert torch.equal(ma[i], mask[0]) or flipped[i], f"sample {i}: the mask was flipped along an axis other than left-right"
        ref = mirrored if flipped[i] else base[0]
        # undo the per-sample intensity scale/shift by least squares; the residual is the 0.02-sd noise
        a = torch.stack([ref.flatten(), torch.ones(ref.numel())], 1)
        coef = torch.linalg.lstsq(a, xa[i].flatten()[:, None]).solution
        resid = xa[i].flatten() - (a @ coef).flatten()
        assert resid.std() < 0.03, f"sample {i}: the image does not follow its mask's flip"
    assert 10 < sum(flipped) < 54  # about half were mirrored
    for axis in (3, 4):  # anterior-posterior, inferior-superior: the mask is never flipped this way
        assert not any(torch.equal(m[None], mask[:1].flip(axis)) for m in ma)


def test_augmentation_refuses_a_volume_without_batch_axes():
    with pytest.raises(ValueError, match=r"\(B, C, X, Y, Z\)"):
        augment(torch.zeros(1, 4, 4, 4))


def test_one_log_line_per_epoch_with_the_history_values(tmp_path, caplog):
    with caplog.at_level("INFO", logger="ecrs_analysis.training.helper"):
        _, hist, _ = _run(tmp_path, epochs=3)
    lines = [r.getMessage() for r in caplog.records if r.name == "ecrs_analysis.training.helper"]
    assert [ln.split(" · ")[0] for ln in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    # the numbers are the history's, rounded as shown
    assert lines[-1].split(" · ")[1] == f"loss {hist['train_loss'].iloc[-1]:.3f}"
    assert lines[-1].split(" · ")[2] == f"val_auc {hist['val_auc'].iloc[-1]:.3f}"
