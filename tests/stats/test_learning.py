"""The did-it-learn guard: the constant predictor's loss against brute force, and models built to fail it."""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from ecrs_analysis.stats.learning import constant_loss, learning_check, learning_table
from ecrs_analysis.training.helper import TrainConfig, class_weights, make_loader, predict_proba, seed_everything, train


@pytest.mark.parametrize("labels", [[0, 0, 0, 1], [0, 1, 1, 1, 1, 0, 1], [1, 0] * 5])
@pytest.mark.parametrize("weighting", ["none", "balanced CE", "BCE pos_weight"])
def test_constant_loss_is_the_minimum_over_constant_predictions(labels, weighting):
    """Brute force: PyTorch's own losses at every constant probability on a fine grid."""
    y = torch.tensor(labels)
    q = torch.linspace(1e-4, 1 - 1e-4, 20001, dtype=torch.float64)
    logit = torch.log(q / (1 - q))
    if weighting == "BCE pos_weight":
        w = float((y == 0).sum() / (y == 1).sum())
        losses = [nn.functional.binary_cross_entropy_with_logits(torch.full((len(y),), float(z), dtype=torch.float64), y.double(), pos_weight=torch.tensor(w, dtype=torch.float64)) for z in logit]
        expected = constant_loss(labels, class_weights=(1.0, w), weighted_mean=False)
    else:
        cw = class_weights(labels).double() if weighting == "balanced CE" else torch.ones(2, dtype=torch.float64)
        losses = [nn.functional.cross_entropy(torch.stack([torch.zeros(len(y), dtype=torch.float64), torch.full((len(y),), float(z), dtype=torch.float64)], 1), y, weight=cw) for z in logit]
        expected = constant_loss(labels, class_weights=tuple(cw.tolist()))
    assert expected == pytest.approx(float(torch.stack(losses).min()), abs=1e-6)
    if weighting == "balanced CE":
        assert expected == pytest.approx(math.log(2))


def test_constant_loss_refuses_non_binary_labels():
    with pytest.raises(ValueError, match="binary labels"):
        constant_loss([0, 2, 1])


def _separable(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 4, 4, 4, generator=g) * 0.3
    y = torch.arange(n) % 2
    x[y == 1, :, :2] += 1.0  # class 1: a bright left half
    return x, y


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 2))

    def forward(self, x):
        return self.net(x)


def _fit(model, *, lr):
    x, y = _separable()
    tr = make_loader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)
    loss = nn.CrossEntropyLoss(weight=class_weights(y.numpy()))
    history = train(model, tr, None, optimizer=torch.optim.SGD(model.parameters(), lr=lr), loss_fn=loss, config=TrainConfig(epochs=5, augment=False, channels_last=False, warmup_epochs=0, lr=1e-3, weight_decay=1e-4, patience=5, seed=0), device="cpu")
    prob = predict_proba(model, make_loader(TensorDataset(x, y), batch_size=16, shuffle=False, seed=0, shard=False))
    return prob, history, constant_loss(y.numpy(), class_weights=tuple(class_weights(y.numpy()).tolist()))


def test_a_model_that_learns_passes():
    seed_everything(0)
    prob, history, const = _fit(_Tiny(), lr=0.5)
    check = learning_check(prob, train_losses=history["train_loss"], constant_train_loss=const)
    assert check.learned and check.reason == ""
    assert check.best_train_loss < const


def test_a_constant_output_is_caught():
    """The failure MTLNet's head had: the last layer cannot reach the input, every probability is the same."""
    seed_everything(0)
    model = _Tiny()
    with torch.no_grad():
        model.net[3].weight.zero_()
    model.net[3].weight.requires_grad_(False)  # frozen at zero: the output is the bias alone
    prob, history, const = _fit(model, lr=0.5)
    assert np.ptp(prob) < 1e-6
    check = learning_check(prob, train_losses=history["train_loss"], constant_train_loss=const)
    assert not check.learned
    assert "do not vary" in check.reason


def test_a_model_whose_loss_never_falls_is_caught():
    """Scores vary (random weights) but nothing was learned: the loss stays at the constant predictor's or above."""
    seed_everything(1)
    prob, history, const = _fit(_Tiny(), lr=0.0)
    check = learning_check(prob, train_losses=history["train_loss"], constant_train_loss=const, min_sd=1e-9)
    assert not check.learned
    assert "never fell below the constant predictor" in check.reason


def test_too_few_scores_is_not_evidence():
    assert not learning_check([0.4]).learned


def test_fold_models_are_checked_fold_by_fold():
    import pandas as pd

    from ecrs_analysis.stats.learning import check_fold_models

    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    scores = pd.DataFrame({"set": "train", "label": y, "good": np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.1, 40), 0, 1), "flat": 0.5 + rng.normal(0, 1e-4, 40), "stuck": rng.random(40)})
    hist = pd.concat([
        pd.DataFrame({"model": m, "fold": k, "epoch": [1, 2], "train_loss": losses})
        for m, per_fold in {"good": [[0.69, 0.5], [0.7, 0.6]], "flat": [[0.69, 0.6], [0.7, 0.6]], "stuck": [[0.7, 0.6], [0.71, 0.70]]}.items()
        for k, losses in enumerate(per_fold)
    ])
    checks = check_fold_models(scores, hist, models=["good", "flat", "stuck"], train_set="train")
    assert checks["good"].learned
    assert not checks["flat"].learned and "do not vary" in checks["flat"].reason
    assert not checks["stuck"].learned and "fold(s) [1]" in checks["stuck"].reason  # log 2 = 0.693 < 0.70


def test_a_memorising_model_fails_on_held_out_patients_and_a_learning_one_passes():
    """HRNet's failure: a training loss of 0.08, far below the constant predictor's, while its
    out-of-fold scores are noise. Training evidence alone passes it; held-out evidence does not."""
    import pandas as pd
    from sklearn.metrics import log_loss

    from ecrs_analysis.stats.learning import check_fold_models

    rng = np.random.default_rng(3)
    n = 120
    y = np.arange(n) % 2
    memorised = rng.random(n)  # out-of-fold: no relation to the label
    learned = np.clip(0.5 + 0.35 * (y - 0.5) + rng.normal(0, 0.15, n), 0.01, 0.99)
    scores = pd.DataFrame({"set": "train", "label": y, "memoriser": memorised, "learner": learned})
    hist = pd.concat([pd.DataFrame({"model": m, "fold": k, "epoch": [1, 2], "train_loss": [0.69, 0.08]}) for m in ("memoriser", "learner") for k in range(3)])
    # the training-only check passes the memoriser
    assert learning_check(memorised, train_losses=[0.08], constant_train_loss=np.log(2)).learned
    checks = check_fold_models(scores, hist, models=["memoriser", "learner"], train_set="train")
    assert not checks["memoriser"].learned and "held-out patients it does no better than chance" in checks["memoriser"].reason
    assert checks["learner"].learned, checks["learner"].reason
    # the held-out numbers are those of independent references
    c = checks["learner"]
    assert c.held_out_loss == pytest.approx(log_loss(y, learned))
    assert c.constant_held_out_loss == pytest.approx(log_loss(y, np.full(n, 0.5)))
    assert c.held_out_auc_low > 0.5 and checks["memoriser"].held_out_auc_low < 0.5 < checks["memoriser"].held_out_auc_high
    table = learning_table(checks)
    assert table.loc["memoriser", "learned"] == "NO" and "held-out AUC" in table.columns


def test_held_out_auc_alone_is_enough_for_a_class_weighted_model():
    """A class-balanced network's probabilities sit near 0.5 (log loss close to the constant's) yet rank well: its AUC CI above 0.5 counts."""
    rng = np.random.default_rng(5)
    y = np.arange(200) % 2
    p = 0.5 + 0.02 * (y - 0.5) + rng.normal(0, 0.005, 200)  # tiny spread, good ranking
    check = learning_check(p, held_out_labels=y, held_out_probabilities=p, min_sd=1e-9)
    assert check.learned and check.held_out_auc_low > 0.5
