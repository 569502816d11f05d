"""Latent type-2 inflammation, clinical variables, sinus disease and the eCRS label.

Every patient has a latent type-2 inflammation ``z ~ N(mu_center, 1)``.  The tissue
eosinophil count is ``10 * exp(EOS_SLOPE * (z + LABEL_NOISE * e - c))`` per high-power
field and the label is eosinophilic when it exceeds 10/HPF.  Clinical variables and
the pattern of sinus disease depend on ``z`` only, so the Bayes probability of the
label given everything generated is ``Phi((z - c) / LABEL_NOISE)``: the generator
stores it and its AUC is the ceiling that no model can beat.

Effect directions follow the eCRS literature (Tokunaga 2015 JESREC; Meng 2016 E/M
ratio): asthma, NSAID intolerance, blood eosinophilia, high IgE, bilateral and
ethmoid-dominant disease and olfactory-cleft involvement go with eCRS; smoking and
maxillary-dominant, unilateral disease with non-eCRS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, ndtr

from ecrs_analysis.data.synth.anatomy import SIDES, SINUS_NAMES

__all__ = ["LABEL_NOISE", "LABEL_CUT", "PatientDraw", "draw_patient", "true_probability", "lund_mackay", "CLINICAL_COLUMNS"]

LABEL_NOISE = 0.65  # sd of the tissue-eosinophil noise on the latent scale
LABEL_CUT = 0.12  # latent cut-off giving ~45% eosinophilic cases
EOS_SLOPE = 1.4  # log tissue eosinophils per latent unit

# Clinical columns written to the manifest (name -> kind); the first block carries signal.
CLINICAL_COLUMNS = {
    "age": "continuous",
    "sex_male": "binary",
    "asthma": "binary",
    "allergic_rhinitis": "binary",
    "nsaid_intolerance": "binary",
    "smoking": "binary",
    "nasal_polyps": "binary",
    "bilateral_disease": "binary",
    "blood_eos_pct": "continuous",
    "blood_eos_count": "continuous",
    "total_ige": "continuous",
    "prior_surgery": "binary",
    # No effect on the label (negative controls).
    "bmi": "continuous",
    "hypertension": "binary",
    "diabetes": "binary",
}
MISSING_ALLOWED = ("blood_eos_pct", "blood_eos_count", "total_ige", "bmi", "allergic_rhinitis", "smoking")


@dataclass(frozen=True)
class PatientDraw:
    """Everything drawn for one patient before the CT is rendered."""

    latent: float
    tissue_eos_hpf: float
    label: int
    true_prob: float
    clinical: dict[str, float]
    opacification: dict[str, float]
    olfactory_cleft: tuple[bool, bool]
    polyps_mm: tuple[float, float]
    mucosa_hu: float


def true_probability(latent: np.ndarray | float) -> np.ndarray | float:
    """P(eosinophilic | latent): the Bayes probability the generator stores."""
    return ndtr((np.asarray(latent) - LABEL_CUT) / LABEL_NOISE)  # the standard normal CDF (what norm.cdf calls), without its per-call overhead


def _clip(x: float, lo: float, hi: float) -> float:
    """``np.clip`` of one number, without NumPy's per-call overhead (the generator draws ~30 per patient)."""
    return min(max(float(x), lo), hi)


def _bern(rng: np.random.Generator, logit: float) -> float:
    return float(rng.random() < expit(logit))


def draw_patient(rng: np.random.Generator, *, latent_mean: float = 0.0, all_polyps: bool = False) -> PatientDraw:
    """Draw latent inflammation, label, clinical variables and per-sinus disease.

    Parameters
    ----------
    rng : numpy.random.Generator
        Seeded source of randomness.
    latent_mean : float
        Centre-specific shift of the latent variable (case mix).
    all_polyps : bool
        True for a CRSwNP-only cohort (MTLNet): every patient has nasal polyps.
    """
    z = float(rng.normal(latent_mean, 1.0))
    e = float(rng.normal())
    eos = 10.0 * float(np.exp(EOS_SLOPE * (z + LABEL_NOISE * e - LABEL_CUT)))
    label = int(eos > 10.0)

    # Disease pattern.
    bilateral = _bern(rng, 1.2 + 1.6 * z)
    severity = float(expit(0.6 + 0.5 * z + rng.normal(0, 0.5)))
    eth = float(expit(-0.2 + 1.5 * z + rng.normal(0, 0.45)))
    maxi = float(expit(0.2 - 1.1 * z + rng.normal(0, 0.45)))
    polyps = 1.0 if all_polyps else _bern(rng, 0.6 + 1.0 * z)
    healthy_side = int(rng.integers(0, 2))
    opac: dict[str, float] = {}
    for s, side in enumerate(SIDES):
        side_factor = 1.0 if (bilateral or s != healthy_side) else 0.08
        local = lambda base, sd=0.08: float(_clip(base * side_factor + rng.normal(0, sd), 0.0, 1.0))  # noqa: E731
        opac[f"{side}_maxillary"] = local(severity * (0.25 + 0.75 * maxi))
        opac[f"{side}_anterior_ethmoid"] = local(severity * (0.15 + 0.85 * eth), 0.1)
        opac[f"{side}_posterior_ethmoid"] = local(severity * (0.05 + 0.9 * eth ** 1.3), 0.1)
        opac[f"{side}_frontal"] = local(severity * 0.7 * eth)
        opac[f"{side}_sphenoid"] = local(severity * 0.5 * eth ** 1.5)
    # Every CRS patient has visible disease somewhere: keep at least one clearly opacified sinus.
    if max(opac.values()) < 0.35:
        opac[f"{SIDES[1 - healthy_side]}_maxillary"] = 0.35 + 0.3 * float(rng.random())
    cleft_p = float(expit(-1.2 + 1.8 * z))
    cleft = (bool(rng.random() < cleft_p), bool(rng.random() < cleft_p))
    polyp_mm = tuple(float(rng.uniform(4.0, 9.0)) if polyps and (bilateral or s != healthy_side) else 0.0 for s in range(2))

    eos_pct = float(np.exp(np.log(2.6) + 0.62 * z + rng.normal(0, 0.38)))
    wbc = float(_clip(rng.normal(6.5, 1.5), 3.0, 12.0))
    clinical = {
        "age": float(_clip(rng.normal(46.0 + 1.5 * z, 13.0), 18.0, 85.0)),
        "sex_male": _bern(rng, 0.4 + 0.1 * z),
        "asthma": _bern(rng, -1.5 + 1.1 * z),
        "allergic_rhinitis": _bern(rng, -0.7 + 0.55 * z),
        "nsaid_intolerance": _bern(rng, -3.6 + 1.0 * z),
        "smoking": _bern(rng, -1.0 - 0.45 * z),
        "nasal_polyps": polyps,
        "bilateral_disease": bilateral,
        "blood_eos_pct": round(eos_pct, 2),
        "blood_eos_count": round(eos_pct / 100.0 * wbc, 3),
        "total_ige": round(float(np.exp(np.log(70.0) + 0.45 * z + rng.normal(0, 0.9))), 1),
        "prior_surgery": _bern(rng, -1.3 + 0.5 * z),
        "bmi": round(float(_clip(rng.normal(24.5, 3.5), 16.0, 42.0)), 1),
        "hypertension": _bern(rng, -1.6),
        "diabetes": _bern(rng, -2.4),
    }
    clinical["age"] = round(clinical["age"])
    return PatientDraw(
        latent=z,
        tissue_eos_hpf=round(eos, 1),
        label=label,
        true_prob=float(true_probability(z)),
        clinical=clinical,
        opacification=opac,
        olfactory_cleft=cleft,
        polyps_mm=polyp_mm,  # type: ignore[arg-type]
        mucosa_hu=float(_clip(rng.normal(30.0, 8.0), 10.0, 50.0)),
    )


def lund_mackay(fractions: dict[str, float]) -> dict[str, int]:
    """Lund-Mackay scores from measured opacified fractions.

    The generator passes the fractions measured on the rendered CT
    (``anatomy.Rendered.opacified_fraction``: opacified voxels over sinus voxels, per
    compartment), as a reader scores what the scan shows, not the opacification it meant to draw.

    Each sinus per side: 0 clear (< 2% opacified), 1 partial, 2 total (> 90%); the ostiomeatal
    complex (OMC) 0 or 2, scored occluded when the anterior ethmoid is mostly opacified.
    Returns ``lm_<side>_<sinus>``, ``lm_<side>_omc`` and ``lm_total`` (0-24).
    """
    out: dict[str, int] = {}
    for side in SIDES:
        for name in SINUS_NAMES:
            f = fractions[f"{side}_{name}"]
            out[f"lm_{side}_{name}"] = 0 if f < 0.02 else (2 if f > 0.9 else 1)
        out[f"lm_{side}_omc"] = 2 if fractions[f"{side}_anterior_ethmoid"] > 0.5 else 0
    out["lm_total"] = int(sum(out.values()))
    return out
