"""Which voxels of the synthetic evidence label map argue for which class: from the generator's conditional dependence.

The generator (:func:`~ecrs_analysis.data.synth.patients.draw_patient`) draws one latent
inflammation ``z`` that sets the label, and renders every compartment's opacification from
``z`` through a few disease-pattern variables: severity and ethmoid dominance rise with ``z``,
maxillary dominance falls with it (the ethmoid/maxillary ratio of the eCRS literature).  A
compartment's opacification *alone* can therefore carry almost no label information (the
maxillary sinus: severity and maxillary dominance cancel, its marginal AUC is about 0.5) while
the image, read as a whole, still ties it to the label: at a given ethmoid burden, more
maxillary opacification means less eCRS.  A network sees the whole image, so the evidence is
defined by the **conditional** dependence: over simulated patients of the study's design, a
logistic regression of the label on every compartment's burden together (statsmodels), one
coefficient per compartment given the others.

- coefficient > 0 with its 95% CI: the compartment's opacified voxels argue for eCRS, its
  aerated voxels for non-eCRS;
- < 0 with its CI: the other way round (opacified maxillary argues for non-eCRS);
- a CI that includes 0: neither (at the simulated sample size, the compartment adds nothing the
  others do not already say); so does a burden every simulated patient shares.

The marginal AUC is kept beside it for the reader.  Bilaterality also carries the label, but it
is a relation between the sides, not a place a map can point at.  Derived by simulation, not
written down, so that the definition follows the generator when its effect sizes change.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from ecrs_analysis.data.synth.anatomy import AERATED_OFFSET, OPACIFIED_LABELS
from ecrs_analysis.data.synth.evidence import simulate_burden
from ecrs_analysis.data.synth.designs import DESIGNS
from ecrs_analysis.explain.deletion import CLASS_NAMES

if TYPE_CHECKING:
    from ecrs_analysis.data.study import LoadedStudy

__all__ = ["conditional_evidence", "evidence_labels", "evidence_files", "evidence_definition", "N_SIMULATED", "NEITHER"]

N_SIMULATED = 4000
"""Simulated patients per design (seeded): enough for the six coefficients' CIs to be a few tenths wide."""
NEITHER = "neither"
COLUMNS = ("compartment", "opacified label", "aerated label", "AUC of its opacification alone", "log-odds per SD given the others",
           "low", "high", "opacified argues for", "aerated argues for", "simulated patients")


def conditional_evidence(design: str, *, n: int = N_SIMULATED, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Per compartment: its marginal AUC, its coefficient given the other compartments (with CI), and the class each of its states argues for.

    Returns one row per compartment of :data:`~ecrs_analysis.data.synth.anatomy.OPACIFIED_LABELS`
    with the :data:`COLUMNS`; the labels are those of the evidence map (``aerated label`` is
    NaN for polyps, which have no aerated state).
    """
    import statsmodels.api as sm

    burden, y = simulate_burden(design, n=n, seed=seed)
    sd = burden.std()
    varying = [c for c in burden.columns if sd[c] > 0]
    z = (burden[varying] - burden[varying].mean()) / sd[varying]  # coefficients per SD: comparable across compartments
    fit = sm.Logit(y, sm.add_constant(z)).fit(disp=0)
    ci = fit.conf_int(alpha=1.0 - level)
    rows = []
    for label, name in OPACIFIED_LABELS.items():
        x = burden[name].to_numpy()
        auc = float(roc_auc_score(y, x)) if np.ptp(x) > 0 else float("nan")
        coef, lo, hi = (float(fit.params[name]), float(ci.loc[name, 0]), float(ci.loc[name, 1])) if name in varying else (float("nan"),) * 3
        opacified_for = 1 if lo > 0 else (0 if hi < 0 else None)
        has_aerated = name != "nasal_polyp"
        rows.append({
            "compartment": name.replace("_", " "),
            "opacified label": label,
            "aerated label": label + AERATED_OFFSET if has_aerated else float("nan"),
            "AUC of its opacification alone": auc,
            "log-odds per SD given the others": coef, "low": lo, "high": hi,
            "opacified argues for": CLASS_NAMES[opacified_for] if opacified_for is not None else NEITHER,
            "aerated argues for": (CLASS_NAMES[1 - opacified_for] if opacified_for is not None else NEITHER) if has_aerated else "–",
            "simulated patients": int(n),
        })
    return pd.DataFrame(rows, columns=list(COLUMNS))


def evidence_labels(table: pd.DataFrame) -> dict[int, tuple[int, ...]]:
    """Class (1 = eCRS, 0 = non-eCRS) -> the evidence-map labels that argue for it, read from :func:`conditional_evidence`'s table."""
    missing = [c for c in ("opacified label", "aerated label", "opacified argues for", "aerated argues for") if c not in table]
    if missing:
        raise ValueError(f"the evidence definition table lacks {missing}: re-run the explain_summaries job")
    index = {v: k for k, v in CLASS_NAMES.items()}
    out: dict[int, list[int]] = {0: [], 1: []}
    for r in table.to_dict("records"):
        for state in ("opacified", "aerated"):
            cls, label = index.get(str(r[f"{state} argues for"])), r[f"{state} label"]
            if cls is not None and pd.notna(label):
                out[cls].append(int(label))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def evidence_files(study: LoadedStudy) -> dict[str, Path]:
    """Patient -> the synthetic evidence label map of the cohort's ground truth (empty for a real cohort)."""
    truth = study.cohort.truth
    if truth is None or "evidence_mask" not in truth:
        return {}
    base = study.cohort.manifest_path.parent
    return {pid: base / rel for pid, rel in zip(truth["patient_id"], truth["evidence_mask"]) if isinstance(rel, str)}


def evidence_definition(study: LoadedStudy) -> dict[int, tuple[int, ...]] | None:
    """Class -> evidence labels for a synthetic cohort (the generator's conditional dependence), None for a real one."""
    if not evidence_files(study):
        return None
    return evidence_labels(conditional_evidence(study.name)) if study.name in DESIGNS else None  # a synthetic study is generated by its design
