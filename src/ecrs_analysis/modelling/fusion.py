"""The integrated SVM model of the first study (the CNN scores it combines: :mod:`training.folds`).

Integrated model (:func:`fit_integrated`): scikit-learn ``Pipeline(StandardScaler,
SVC)`` with Platt-scaled probabilities on [clinical signature, three DL scores], hyper-parameters by
cross-validated grid search (AUC) on the training set only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ecrs_analysis.stats.calibration import PLATT_FOLDS
from ecrs_analysis.stats.threshold import choose_threshold, operating_point

__all__ = ["fit_integrated", "fit_on_training_rows", "IntegratedModel", "held_out_operating_points", "out_of_fold_integrated", "HELD_OUT"]

HELD_OUT = "integrated_held_out"
"""Score column of the integrated model from a model not fitted on the patient: out-of-fold on the
training set (:func:`out_of_fold_integrated`), the model fitted on all training patients on the test sets."""


@dataclass(frozen=True)
class IntegratedModel:
    pipeline: Pipeline
    features: tuple[str, ...]
    best_params: dict
    cv_auc: float

    def predict(self, table: pd.DataFrame) -> np.ndarray:
        """P(eCRS) of the integrated model."""
        return self.pipeline.predict_proba(table[list(self.features)].to_numpy(dtype=float))[:, 1]


def fit_integrated(train: pd.DataFrame, features: Sequence[str], *, seed: int, folds: int = 5) -> IntegratedModel:
    """StandardScaler + SVC(probability=True), grid-searched by stratified CV AUC on the training set."""
    x, y = train[list(features)].to_numpy(dtype=float), train["label"].to_numpy()
    if not np.isfinite(x).all():
        raise ValueError(f"integrated model: non-finite values in the features {list(features)} of the training set")
    # SVC(probability=True) is deprecated since scikit-learn 1.9; its replacement is the same Platt
    # scaling on cross-validated decision values: CalibratedClassifierCV(SVC(), ensemble=False).
    svm = CalibratedClassifierCV(SVC(random_state=seed), method="sigmoid", ensemble=False, cv=StratifiedKFold(PLATT_FOLDS, shuffle=True, random_state=seed))
    pipe = Pipeline([("scale", StandardScaler()), ("svm", svm)])
    grid = [
        {"svm__estimator__kernel": ["linear"], "svm__estimator__C": [0.01, 0.1, 1.0]},
        {"svm__estimator__kernel": ["rbf"], "svm__estimator__C": [0.1, 1.0, 10.0], "svm__estimator__gamma": ["scale", 0.01, 0.1]},
    ]
    search = GridSearchCV(pipe, grid, scoring="roc_auc", cv=StratifiedKFold(folds, shuffle=True, random_state=seed), n_jobs=1)
    search.fit(x, y)
    return IntegratedModel(search.best_estimator_, tuple(features), dict(search.best_params_), float(search.best_score_))


def fit_on_training_rows(scores: pd.DataFrame, features: Sequence[str], *, train_set: str, seed: int, folds: int = 5) -> tuple[pd.DataFrame, IntegratedModel]:
    """The integrated model fitted on the rows of ``train_set`` only, and every row's ``integrated`` score.

    The other sets' rows (the test sets) are only scored: nothing of them reaches the fit.
    """
    train = scores[scores["set"] == train_set]
    if train.empty:
        raise ValueError(f"integrated model: no patient in the training set {train_set!r}; sets: {sorted(scores['set'].dropna().unique())}")
    model = fit_integrated(train, features, seed=seed, folds=folds)
    return scores.assign(integrated=model.predict(scores)), model


def out_of_fold_integrated(
    train: pd.DataFrame, features: Sequence[str], *, folds: pd.Series | np.ndarray, seed: int, svm_folds: int = 5,
    held_out_features: pd.DataFrame | None = None,
) -> np.ndarray:
    """Out-of-fold integrated score of every training patient: the whole fit (grid search, Platt
    scaling) repeated without each fold k and applied to fold k.

    The CNN features are already out-of-fold on the same folds. ``held_out_features`` (same rows
    as ``train``) gives the features the held-out fold is scored with, e.g. the out-of-fold clinical
    signature in place of the in-sample one (``clinical.HELD_OUT``), so that fold k's score owes
    nothing of the clinical fit to fold k's labels. (The other folds' clinical feature, on which
    the fold model is fitted, still comes from the signature fitted on all training patients: a
    nested refit of the signature inside each fold is not done.)
    """
    f = np.asarray(folds)
    scoring = train if held_out_features is None else held_out_features
    out = np.full(len(train), np.nan)
    for k in np.unique(f):
        model = fit_integrated(train[f != k], features, seed=seed, folds=svm_folds)
        out[f == k] = model.predict(scoring[f == k])
    return out


def held_out_operating_points(
    train: pd.DataFrame,
    features: Sequence[str],
    *,
    folds: pd.Series,
    seed: int,
    svm_folds: int = 5,
    rule: str = "youden",
    target: float | None = None,
) -> pd.DataFrame:
    """Does the training-set threshold keep its sensitivity on patients the SVM never saw?

    For each CNN fold k, the integrated model is fitted (grid search included) on the
    training patients outside fold k, its threshold chosen on them by ``rule``, and both
    are applied unchanged to fold k. One row per fold: the in-sample and held-out
    sensitivity and specificity at that threshold.
    """
    rows = []
    for k in sorted(folds.unique()):
        inside = train[(folds != k).to_numpy()]
        held = train[(folds == k).to_numpy()]
        model = fit_integrated(inside, features, seed=seed, folds=svm_folds)
        p_in, p_out = model.predict(inside), model.predict(held)
        thr = choose_threshold(inside["label"], p_in, rule=rule, target=target, name=f"integrated model without fold {k}")
        a = operating_point(inside["label"], p_in, threshold=thr)
        b = operating_point(held["label"], p_out, threshold=thr)
        rows.append({
            "held-out fold": int(k), "patients held out": len(held), "threshold": thr,
            "sensitivity (fitted folds)": a.sensitivity.value, "sensitivity (held-out fold)": b.sensitivity.value,
            "specificity (fitted folds)": a.specificity.value, "specificity (held-out fold)": b.specificity.value,
        })
    return pd.DataFrame(rows).set_index("held-out fold")
