"""Which voxels of the evidence label map argue for which endotype, derived from the generator.

The generator (:func:`~ecrs_analysis.data.synth.patients.draw_patient`) decides how much each
compartment is opacified from the latent inflammation that also sets the label.  A compartment
is *evidence* when its opacification, on its own, separates the labels: its AUC for the label,
over many simulated patients of the study's design, departs from 0.5 by more than a margin.
Then its opacified voxels argue for the class its opacification goes with, and its aerated
(clear) voxels for the other class.  A compartment whose AUC stays within the margin (the
maxillary sinus: severity and maxillary dominance cancel) argues for neither, and so does a
feature every patient has (nasal polyps in the MTLNet design).

Derived by simulation rather than written down, so that the definition follows the generator
whenever its effect sizes change (``GENERATOR_VERSION``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from ecrs_analysis.data.synth.anatomy import AERATED_OFFSET, OPACIFIED_LABELS, SIDES
from ecrs_analysis.data.synth.designs import DESIGNS
from ecrs_analysis.data.synth.patients import PatientDraw, draw_patient

__all__ = ["compartment_burden", "compartment_auc", "endotype_evidence", "describe_evidence", "DEFAULT_MARGIN"]

DEFAULT_MARGIN = 0.05
"""|AUC - 0.5| a compartment's opacification must exceed to count as evidence."""


def compartment_burden(draw: PatientDraw) -> dict[str, float]:
    """How much of each evidence compartment (:data:`~anatomy.OPACIFIED_LABELS`) one draw opacifies, both sides."""
    o = draw.opacification
    mean = lambda names: float(np.mean([o[f"{side}_{n}"] for side in SIDES for n in names]))  # noqa: E731
    return {
        "ethmoid": mean(("anterior_ethmoid", "posterior_ethmoid")),
        "olfactory_cleft": float(np.mean(draw.olfactory_cleft)),
        "frontal": mean(("frontal",)),
        "sphenoid": mean(("sphenoid",)),
        "maxillary": mean(("maxillary",)),
        "nasal_polyp": float(np.mean(draw.polyps_mm)),
    }


@lru_cache(maxsize=16)
def compartment_auc(design: str, *, n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """AUC of each compartment's opacification for the eCRS label over ``n`` simulated patients of a design.

    Patients come from the design's hospitals in their proportions (each hospital's case mix).
    Returns one row per compartment: ``compartment``, ``label`` (of the evidence map), ``auc``
    (NaN when the compartment is the same in every patient, e.g. polyps in a CRSwNP-only cohort).
    """
    if design not in DESIGNS:
        raise ValueError(f"unknown design {design!r}; valid designs: {sorted(DESIGNS)}")
    d = DESIGNS[design]
    rng = np.random.default_rng(seed)
    weights = np.array([c.fraction for c in d.centers], dtype=float)
    centres = rng.choice(len(d.centers), size=n, p=weights / weights.sum())
    rows, labels = [], []
    for c in centres:
        draw = draw_patient(rng, latent_mean=d.centers[int(c)].latent_mean, all_polyps=d.all_polyps)
        rows.append(compartment_burden(draw))
        labels.append(draw.label)
    burden, y = pd.DataFrame(rows), np.asarray(labels)
    out = []
    for label, name in OPACIFIED_LABELS.items():
        x = burden[name].to_numpy()
        auc = float(roc_auc_score(y, x)) if np.ptp(x) > 0 else float("nan")
        out.append({"compartment": name, "label": label, "auc": auc})
    return pd.DataFrame(out)


def endotype_evidence(design: str, *, margin: float = DEFAULT_MARGIN, n: int = 4000, seed: int = 0) -> dict[int, tuple[int, ...]]:
    """Class (1 = eCRS, 0 = non-eCRS) -> the evidence-map labels that argue for it in a design.

    A compartment with AUC > 0.5 + ``margin``: opacified voxels (its label) argue for eCRS, aerated
    voxels (label + :data:`~anatomy.AERATED_OFFSET`) for non-eCRS; AUC < 0.5 - ``margin`` the other
    way round; otherwise neither.  Polyps have no aerated label.
    """
    table = compartment_auc(design, n=n, seed=seed)
    out: dict[int, list[int]] = {0: [], 1: []}
    aerated_exists = {k for k, name in OPACIFIED_LABELS.items() if name != "nasal_polyp"}
    for r in table.itertuples():
        if not np.isfinite(r.auc) or abs(r.auc - 0.5) <= margin:
            continue
        opacified_for = 1 if r.auc > 0.5 else 0
        out[opacified_for].append(int(r.label))
        if r.label in aerated_exists:
            out[1 - opacified_for].append(int(r.label) + AERATED_OFFSET)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def describe_evidence(design: str, *, margin: float = DEFAULT_MARGIN) -> pd.DataFrame:
    """The definition for the reader: per compartment, its AUC and which class its opacified and aerated voxels argue for."""
    ev = endotype_evidence(design, margin=margin)
    names = {1: "eCRS", 0: "non-eCRS"}
    rows = []
    for r in compartment_auc(design).itertuples():
        opac = next((names[k] for k, v in ev.items() if r.label in v), "neither")
        aer = next((names[k] for k, v in ev.items() if r.label + AERATED_OFFSET in v), "neither" if r.compartment != "nasal_polyp" else "–")
        rows.append({"compartment": r.compartment.replace("_", " "), "AUC of its opacification": round(r.auc, 3) if np.isfinite(r.auc) else float("nan"), "opacified argues for": opac, "aerated argues for": aer})
    return pd.DataFrame(rows).set_index("compartment")
