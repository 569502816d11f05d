"""The image-only ceiling: the best a CT-only model could do on the synthetic cohort.

The latent ceiling (``true_prob``, P(label | latent inflammation)) is out of reach for any model
that sees only the CT: the scan shows just what the generator renders into it — how much of
each sinus is opacified, per side (and so bilaterality), the olfactory clefts and the nasal
polyps.  The label also depends on the latent inflammation through tissue eosinophils, which
no CT shows.

:func:`fit_image_ceiling` estimates P(label | everything rendered) by simulation: it draws many
patients of a design with :func:`~ecrs_analysis.data.synth.patients.draw_patient` (the same
function that makes the cohort), keeps only the rendered quantities, and fits a flexible
classifier (scikit-learn's histogram gradient boosting) to the labels.  Its probability for a
cohort patient is the ``image_prob`` column of ``truth.csv``, and its AUC on a set is the image
ceiling that the book compares each CNN and MTLNet with; the integrated model, which also sees
the clinical variables, is compared with the latent ceiling.  Being a fitted estimate it is a
slight *under*-estimate of the true image ceiling (the fit is not perfect), never an
over-estimate on fresh draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from ecrs_analysis.data.synth.anatomy import SIDES, SINUS_NAMES
from ecrs_analysis.data.synth.patients import PatientDraw, draw_patient

__all__ = ["RENDERED_FEATURES", "rendered_features", "ImageCeiling", "fit_image_ceiling"]

RENDERED_FEATURES: tuple[str, ...] = (
    *(f"opac_{side}_{name}" for side in SIDES for name in SINUS_NAMES),
    *(f"olfactory_cleft_{side}" for side in SIDES),
    *(f"polyp_mm_{side}" for side in SIDES),
)
"""What the generator renders into the CT that can carry label information (mucosal HU is drawn independently of the label)."""


def rendered_features(draw: PatientDraw) -> dict[str, float]:
    """The rendered quantities of one drawn patient (:data:`RENDERED_FEATURES`)."""
    out = {f"opac_{k}": float(v) for k, v in draw.opacification.items()}
    out.update({f"olfactory_cleft_{side}": float(c) for side, c in zip(SIDES, draw.olfactory_cleft)})
    out.update({f"polyp_mm_{side}": float(r) for side, r in zip(SIDES, draw.polyps_mm)})
    return {k: out[k] for k in RENDERED_FEATURES}


@dataclass(frozen=True)
class ImageCeiling:
    """A fitted estimate of P(label | rendered quantities) for one design."""

    model: HistGradientBoostingClassifier
    population_auc: float
    """AUC of the estimate on fresh simulated draws (not those it was fitted on)."""
    latent_auc: float
    """AUC of the latent ceiling ``true_prob`` on the same fresh draws, for comparison."""
    n_draws: int

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        """P(eCRS | rendered quantities) of patients given their :data:`RENDERED_FEATURES` columns."""
        missing = [c for c in RENDERED_FEATURES if c not in features]
        if missing:
            raise KeyError(f"image ceiling: the table lacks rendered columns {missing}")
        return self.model.predict_proba(features[list(RENDERED_FEATURES)].to_numpy(dtype=float))[:, 1]


def _simulate(n: int, *, latent_means: Sequence[float], weights: Sequence[float], all_polyps: bool, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centre = rng.choice(len(latent_means), size=n, p=np.asarray(weights, dtype=float) / np.sum(weights))
    rows, labels, true = [], np.empty(n, dtype=int), np.empty(n)
    for i, c in enumerate(centre):
        d = draw_patient(rng, latent_mean=float(latent_means[c]), all_polyps=all_polyps)
        rows.append(rendered_features(d))
        labels[i], true[i] = d.label, d.true_prob
    return pd.DataFrame(rows, columns=list(RENDERED_FEATURES)), labels, true


def fit_image_ceiling(
    *,
    latent_means: Sequence[float],
    weights: Sequence[float],
    all_polyps: bool,
    seed: int,
    n_draws: int = 20_000,
) -> ImageCeiling:
    """Fit P(label | rendered quantities) on simulated draws of a design.

    Parameters
    ----------
    latent_means, weights : sequences of float
        The design's hospitals: their latent-inflammation means and shares of patients.
    all_polyps : bool
        The design's CRSwNP-only flag (every patient has polyps).
    seed : int
        Seeds the draws and the classifier.
    n_draws : int
        Simulated patients to fit on; as many again (a quarter, at least 2,000) measure it.

    Returns
    -------
    ImageCeiling
    """
    if n_draws < 1000:
        raise ValueError(f"n_draws={n_draws}: the image ceiling needs at least 1,000 simulated draws to be a ceiling")
    x, y, _ = _simulate(n_draws, latent_means=latent_means, weights=weights, all_polyps=all_polyps, seed=seed)
    model = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0, random_state=seed)
    model.fit(x.to_numpy(dtype=float), y)
    n_test = max(2000, n_draws // 4)
    xt, yt, true = _simulate(n_test, latent_means=latent_means, weights=weights, all_polyps=all_polyps, seed=seed + 1)
    auc = float(roc_auc_score(yt, model.predict_proba(xt.to_numpy(dtype=float))[:, 1]))
    return ImageCeiling(model=model, population_auc=auc, latent_auc=float(roc_auc_score(yt, true)), n_draws=n_draws)
