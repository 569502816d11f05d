"""Did a model learn?  The check that comes before any AUC is published.

A statistic of a model that learned nothing is noise with a confidence interval.  Two things
betray such a model, and both are checked here:

- its predicted probabilities hardly vary between patients (a constant output: any AUC of it
  is the order of ±0.001 of noise, e.g. MTLNet's head before its pooled features were
  normalised: every probability within 0.509–0.511);
- its training loss never fell below the loss of the best *constant* predictor, the one that
  gives every patient the same probability: whatever the network does, it does no better
  than ignoring the image;
- on patients it was not fitted on (held-out: the out-of-fold scores of a k-fold, or a
  validation set) it does no better than chance: its held-out log loss is not below the
  constant predictor's (the training prevalence given to every patient) *and* the DeLong 95%
  CI of its held-out AUC includes 0.5. A memorising network passes the training-loss test
  (HRNet reached a training loss of 0.08) and fails this one.

:func:`constant_loss` gives that reference for a (class-weighted) cross-entropy, and
:func:`learning_check` combines both tests into a :class:`LearningCheck` with the reason in
words, which the chapters show and the landing page carries ("did not learn — no AUC
reported").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.utils.class_weight import compute_class_weight

__all__ = ["MIN_SCORE_SD", "LearningCheck", "constant_loss", "learning_check", "held_out_evidence", "check_fold_models", "learning_table"]

MIN_SCORE_SD = 0.01
"""Scores whose standard deviation over patients is below this are treated as constant (probability scale)."""


def constant_loss(labels: ArrayLike, *, class_weights: Sequence[float] = (1.0, 1.0), weighted_mean: bool = True) -> float:
    """Cross-entropy of the best constant predictor of binary labels.

    Parameters
    ----------
    labels : array of {0, 1}
        The training labels.
    class_weights : (w0, w1)
        Weights of the two classes in the loss (``nn.CrossEntropyLoss(weight=...)``, or
        ``(1, pos_weight)`` for ``BCEWithLogitsLoss(pos_weight=...)``).
    weighted_mean : bool
        True: the loss is a weighted mean, divided by the sum of the weights (PyTorch's
        ``CrossEntropyLoss`` with ``weight``); False: divided by the number of samples
        (``BCEWithLogitsLoss`` with ``pos_weight``).

    Returns
    -------
    float
        ``min_q -(a log q + b log(1 - q))`` with ``a``, ``b`` the weighted shares of the
        classes; the minimum is at ``q = a / (a + b)``.  With balanced weights and a
        weighted mean it is ``log 2``.

    Examples
    --------
    >>> round(constant_loss([0, 0, 0, 1]), 4)  # unweighted: the entropy of a 25% prevalence
    0.5623
    >>> round(constant_loss([0, 0, 0, 1], class_weights=(2 / 3, 2.0)), 4)  # balanced weights
    0.6931
    """
    y = np.asarray(labels)
    if y.size == 0 or not np.isin(y, (0, 1)).all():
        raise ValueError(f"constant_loss needs binary labels 0/1, got values {np.unique(y).tolist()[:5]}")
    w0, w1 = (float(w) for w in class_weights)
    n1 = float((y == 1).sum())
    n0 = float(y.size - n1)
    a, b = w1 * n1, w0 * n0
    denominator = (a + b) if weighted_mean else float(y.size)
    a, b = a / denominator, b / denominator
    if a == 0 or b == 0:  # one class only: a constant predicts it perfectly
        return 0.0
    q = a / (a + b)
    return float(-(a * math.log(q) + b * math.log(1.0 - q)))


@dataclass(frozen=True)
class LearningCheck:
    """The verdict on one model: did it learn, and if not, why."""

    learned: bool
    reason: str
    """Empty when the model learned; otherwise one sentence for the chapter and the landing page."""
    score_sd: float
    """Standard deviation of the predicted probabilities over the patients checked."""
    best_train_loss: float
    """Lowest training loss over the epochs (NaN when no history was given)."""
    constant_train_loss: float
    """The loss of the best constant predictor on the same training labels (NaN when not given)."""
    held_out_loss: float = float("nan")
    """Unweighted log loss of the held-out scores (NaN when no held-out scores were given)."""
    constant_held_out_loss: float = float("nan")
    """Log loss of the constant predictor (the training prevalence) on the same held-out labels."""
    held_out_auc: float = float("nan")
    held_out_auc_low: float = float("nan")
    """Lower bound of the DeLong 95% CI of the held-out AUC."""
    held_out_auc_high: float = float("nan")


def held_out_evidence(labels: ArrayLike, probabilities: ArrayLike, *, prevalence: float | None = None) -> dict[str, float]:
    """Log loss and AUC (DeLong 95% CI) of held-out scores, beside the constant predictor's log loss.

    ``prevalence``: the constant predictor's probability (the training prevalence; default the
    held-out labels' own, which flatters the constant). Returns ``held_out_loss``,
    ``constant_held_out_loss``, ``held_out_auc``, ``held_out_auc_low``, ``held_out_auc_high``.
    """
    from sklearn.metrics import log_loss

    from ecrs_analysis.stats.delong import delong_ci  # lazy: loads scipy

    y = np.asarray(labels).astype(int)
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-6, 1 - 1e-6)
    if y.shape != p.shape or y.size < 2:
        raise ValueError(f"held_out_evidence: {y.size} labels and {p.size} probabilities; give one probability per held-out patient (at least two)")
    q = float(np.clip(y.mean() if prevalence is None else prevalence, 1e-6, 1 - 1e-6))
    out = {"held_out_loss": float(log_loss(y, p, labels=[0, 1])), "constant_held_out_loss": float(log_loss(y, np.full(y.size, q), labels=[0, 1]))}
    if np.unique(y).size == 2:
        d = delong_ci(y, p, name="held-out scores")
        out.update(held_out_auc=d.auc, held_out_auc_low=d.ci_low, held_out_auc_high=d.ci_high)
    else:
        out.update(held_out_auc=float("nan"), held_out_auc_low=float("nan"), held_out_auc_high=float("nan"))
    return out


def learning_check(
    probabilities: ArrayLike,
    *,
    train_losses: ArrayLike | None = None,
    constant_train_loss: float | None = None,
    held_out_labels: ArrayLike | None = None,
    held_out_probabilities: ArrayLike | None = None,
    prevalence: float | None = None,
    min_sd: float = MIN_SCORE_SD,
) -> LearningCheck:
    """Did the model learn?  Its scores must vary, its training loss fall below the constant predictor's,
    and, when held-out scores are given, it must beat chance on them (:func:`held_out_evidence`):
    held-out log loss below the constant predictor's, or a held-out AUC whose DeLong 95% CI lies above 0.5.

    Parameters
    ----------
    probabilities : array
        Predicted P(class 1) of the patients whose statistics would be reported.
    train_losses : array, optional
        The training loss of each epoch (the classification part, for a multitask network).
    constant_train_loss : float, optional
        :func:`constant_loss` of the training labels with the loss's class weights.
    held_out_labels, held_out_probabilities : arrays, optional
        Labels and predicted P(class 1) of patients the model was not fitted on (out-of-fold
        scores, a validation set). Without them only training evidence is checked, and a
        memorising model passes: give them wherever they exist.
    prevalence : float, optional
        The constant predictor's probability on the held-out patients (the training prevalence).
    min_sd : float
        Scores with a smaller standard deviation count as constant.

    Returns
    -------
    LearningCheck
    """
    p = np.asarray(probabilities, dtype=float)
    p = p[np.isfinite(p)]
    sd = float(p.std(ddof=1)) if p.size > 1 else float("nan")
    losses = np.asarray(train_losses, dtype=float) if train_losses is not None else np.array([])
    losses = losses[np.isfinite(losses)]
    best = float(losses.min()) if losses.size else float("nan")
    const = float(constant_train_loss) if constant_train_loss is not None else float("nan")
    reasons = []
    if p.size < 2:
        reasons.append("fewer than two scored patients")
    elif not sd >= min_sd:
        reasons.append(f"its predicted probabilities do not vary (SD {sd:.4f} < {min_sd} over {p.size} patients)")
    if losses.size and math.isfinite(const) and not best < const:
        reasons.append(f"its training loss never fell below the constant predictor's ({best:.3f} ≥ {const:.3f})")
    held: dict[str, float] = {}
    if held_out_labels is not None and held_out_probabilities is not None:
        held = held_out_evidence(held_out_labels, held_out_probabilities, prevalence=prevalence)
        beats_loss = held["held_out_loss"] < held["constant_held_out_loss"]
        beats_auc = held["held_out_auc_low"] > 0.5
        if not (beats_loss or beats_auc):
            reasons.append(
                f"on held-out patients it does no better than chance (log loss {held['held_out_loss']:.3f} ≥ the constant predictor's "
                f"{held['constant_held_out_loss']:.3f}; AUC {held['held_out_auc']:.3f}, DeLong 95% CI {held['held_out_auc_low']:.3f}–{held['held_out_auc_high']:.3f}, includes 0.5)"
            )
    return LearningCheck(learned=not reasons, reason="; ".join(reasons), score_sd=sd, best_train_loss=best, constant_train_loss=const, **held)


def check_fold_models(scores: pd.DataFrame, histories: pd.DataFrame, *, models: Sequence[str], train_set: str) -> dict[str, LearningCheck]:
    """Did each cross-validated network learn?  Every fold's training loss, and the out-of-fold scores:
    they must vary and beat chance on the patients each fold's network never saw (held-out log loss
    below the constant predictor's at the training prevalence, or out-of-fold AUC with a DeLong CI above 0.5).

    Parameters
    ----------
    scores : DataFrame
        ``set``, ``label`` and one column of P(class 1) per model (``scores_deep.csv``: out-of-fold
        scores on the training set).
    histories : DataFrame
        Per (model, fold, epoch) ``train_loss`` (``histories_deep.csv``) of a class-balanced
        cross-entropy (``nn.CrossEntropyLoss(weight=class_weights(...))``).
    models : sequence of str
        The networks to check.
    train_set : str
        The training set's name (its patients' scores are out-of-fold).

    Returns
    -------
    dict
        Model -> :class:`LearningCheck`; the training-loss test must pass in every fold (the
        worst fold's lowest loss is reported).
    """
    train = scores[scores["set"] == train_set]
    y = train["label"].to_numpy().astype(int)
    # the folds' loss weights: scikit-learn's "balanced" weights, as training.helper.class_weights gives them
    balanced = tuple(compute_class_weight("balanced", classes=np.array([0, 1]), y=y)) if np.unique(y).size == 2 else (1.0, 1.0)
    const = constant_loss(y, class_weights=balanced)
    out = {}
    for m in models:
        h = histories[histories["model"] == m]
        per_fold = h.groupby("fold")["train_loss"].min() if not h.empty else pd.Series(dtype=float)
        worst = float(per_fold.max()) if len(per_fold) else None
        check = learning_check(train[m], train_losses=None if worst is None else [worst], constant_train_loss=const,
                               held_out_labels=y, held_out_probabilities=train[m].to_numpy(dtype=float), prevalence=float(y.mean()))
        if check.learned or worst is None or worst < const:
            out[m] = check
            continue
        failing = [int(k) for k, v in per_fold.items() if not v < const]
        out[m] = replace(check, reason=check.reason.replace("its training loss", f"the training loss of fold(s) {failing}"))
    return out


def learning_table(checks: dict[str, LearningCheck]) -> pd.DataFrame:
    """One row per model: learned, the SD of its scores, its best training loss beside the constant predictor's,
    its held-out (out-of-fold) log loss beside the constant predictor's and its held-out AUC (DeLong 95% CI), the reason."""
    rows = [{"model": m, "learned": "yes" if c.learned else "NO", "score SD": round(c.score_sd, 4),
             "best training loss": round(c.best_train_loss, 3), "constant predictor's loss": round(c.constant_train_loss, 3),
             "held-out log loss": round(c.held_out_loss, 3), "constant predictor's held-out log loss": round(c.constant_held_out_loss, 3),
             "held-out AUC": round(c.held_out_auc, 3), "held-out AUC low (DeLong)": round(c.held_out_auc_low, 3),
             "held-out AUC high (DeLong)": round(c.held_out_auc_high, 3), "why not": c.reason} for m, c in checks.items()]
    return pd.DataFrame(rows).set_index("model")
