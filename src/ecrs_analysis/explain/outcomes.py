"""Which test patients a network's maps are computed for: outcomes at the book's operating point, a seeded pick per outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecrs_analysis.stats.threshold import choose_threshold

__all__ = ["OUTCOMES", "label_outcomes", "choose_patients", "scoring_folds"]

OUTCOMES = ("TP", "FP", "FN", "TN")


def label_outcomes(scores: pd.DataFrame, *, train_set: str, rule: str, target: float | None) -> tuple[pd.DataFrame, float]:
    """Operating point chosen on the training set (the book's rule), then TP/FP/FN/TN of every patient."""
    train = scores[scores["set"] == train_set]
    threshold = choose_threshold(train["label"], train["score"], rule=rule, target=target, name=f"training set ({train_set})")
    pred = (scores["score"] >= threshold).astype(int)
    y = scores["label"].astype(int)
    outcome = np.select([(pred == 1) & (y == 1), (pred == 1) & (y == 0), (pred == 0) & (y == 1)], ["TP", "FP", "FN"], "TN")
    return scores.assign(predicted=pred, outcome=outcome), threshold


def choose_patients(scores: pd.DataFrame, *, sets: list[str], n_per_set: int | None, seed: int) -> pd.DataFrame:
    """``n_per_set`` patients of each set (None: all), taken in turn from TP, FP, FN and TN (each shuffled with the seed)."""
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for name in sets:
        if n_per_set is None:
            chosen += [int(i) for i in np.flatnonzero((scores["set"] == name).to_numpy())]
            continue
        pools = [list(rng.permutation(np.flatnonzero(((scores["set"] == name) & (scores["outcome"] == o)).to_numpy()))) for o in OUTCOMES]
        picked: list[int] = []
        while len(picked) < n_per_set and any(pools):
            for pool in pools:
                if pool and len(picked) < n_per_set:
                    picked.append(pool.pop(0))
        chosen += picked
    return scores.iloc[chosen].reset_index(drop=True)


def scoring_folds(folds: tuple[int, ...], fold: int | None, *, test_scoring: str, network: str) -> tuple[int, ...]:
    """The fold model(s) whose score the book reports for a patient: its fold (single), every fold (ensemble).

    Parameters
    ----------
    folds : tuple of int
        The folds that have a trained network (one entry: the network was trained once).
    fold : int or None
        The patient's fold in ``folds.csv`` (None: one network, no folds).
    test_scoring : {"single", "ensemble"}
        ``deep.test_scoring``.
    network : str
        The network's name, for the error.
    """
    if len(folds) == 1:
        return folds
    if test_scoring == "ensemble":
        return folds
    if fold is None or int(fold) not in folds:
        raise ValueError(f"{network}: the patient's fold {fold} has no checkpoint (folds found: {list(folds)}); folds.csv and the training jobs disagree")
    return (int(fold),)
