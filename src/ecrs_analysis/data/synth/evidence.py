"""How much of each evidence compartment the generator opacifies, per simulated patient.

The generator (:func:`~ecrs_analysis.data.synth.patients.draw_patient`) decides how much each
compartment is opacified from the latent inflammation that also sets the label.
:func:`compartment_burden` summarises one draw per compartment, and :func:`simulate_burden` draws
many patients of a study's design with their labels: what
:mod:`ecrs_analysis.explain.evidence` fits to decide which compartments argue for which class
(given the others: the maxillary sinus carries the label only jointly with the ethmoid).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ecrs_analysis.data.synth.anatomy import SIDES
from ecrs_analysis.data.synth.designs import DESIGNS
from ecrs_analysis.data.synth.patients import PatientDraw, draw_patient

__all__ = ["compartment_burden", "simulate_burden"]


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


@lru_cache(maxsize=4)
def simulate_burden(design: str, *, n: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Each compartment's burden (:func:`compartment_burden`) and the label of ``n`` simulated patients.

    Patients come from the design's hospitals in their proportions (each hospital's case mix).
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
    return pd.DataFrame(rows), np.asarray(labels, dtype=int)
