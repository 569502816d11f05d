"""The registry: one :class:`Claim` per number (or finding) the two abstracts state (:data:`REPORTED`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ecrs_analysis.report.paper import LI2025_PROTEOMICS, LI2025_REPORTED, MTLNET_REPORTED

__all__ = ["Claim", "Kind", "REPORTED", "BY_ID", "STUDY_TITLES", "SHORT_TITLES"]


Kind = Literal["estimate", "count", "finding"]

STUDY_TITLES = {"li2025": "Li et al. 2025 (integrated model)", "mtlnet2025": "MTLNet"}
SHORT_TITLES = {"li2025": "Li 2025", "mtlnet2025": "MTLNet"}

LI = "Li et al., Int Forum Allergy Rhinol 2025 (doi:10.1002/alr.23595), abstract"
MTL = "MTLNet study (PubMed 42270301), abstract"


@dataclass(frozen=True)
class Claim:
    """One number (or finding) an abstract states.

    Attributes
    ----------
    id : str
        ``<study>.<quantity>[.<set>]``, the key chapters write their values under.
    quantity : str
        What is measured, as a reader says it ("AUC of the integrated model").
    set : str
        The set of the split it refers to (set names as in the split), or ``"all"``.
    kind : {"estimate", "count", "finding"}
        An estimate is compared with the reproduced 95% CI; a count must match exactly;
        a finding is reproduced or not.
    reported : float or str or None
        The stated value; None when the abstract does not state it.
    reported_ci : tuple of float, optional
        The stated 95% CI.
    chapter : str
        The chapter (notebook name) that reproduces it.
    source : str
        Where the abstract says it (study and sentence, paraphrased).
    in_sample : bool
        The value is measured on the patients the model was fitted on (a training-set AUC):
        not evidence about new patients; the landing page marks it.
    """

    id: str
    study: str
    quantity: str
    set: str
    kind: Kind
    reported: float | str | None
    chapter: str
    source: str
    reported_ci: tuple[float, float] | None = None
    in_sample: bool = False


def _li_auc(s: str, where: str) -> Claim:
    r = LI2025_REPORTED[s]
    return Claim(f"li2025.auc.{s}", "li2025", "AUC, integrated model", s, "estimate", r["AUC"], "04_integrated_model",
                 f"{LI}, Results: AUC of the integrated model {r['AUC']} (95% CI {r['CI low']}–{r['CI high']}) in the {where} test set",
                 (r["CI low"], r["CI high"]))


def _li_unstated(metric: str, s: str) -> Claim:
    return Claim(f"li2025.{metric}.{s}", "li2025", f"{metric}, integrated model", s, "estimate", None, "04_integrated_model",
                 f"{LI}, Methods: {metric} was used to evaluate the model; the abstract states no value")


_MTL_SET = {"train": "training", "validation": "validation", "external": "temporal external test"}


def _mtl(metric: str, s: str, quantity: str) -> Claim:
    value = MTLNET_REPORTED[s][metric]
    shown = f"{value:.1%}" if metric in ("sensitivity", "specificity") else f"{value}"
    return Claim(f"mtlnet2025.{metric.lower()}.{s}", "mtlnet2025", quantity, s, "estimate", value, "05_mtlnet",
                 f"{MTL}, Results: {quantity} {shown} in the {_MTL_SET[s]} set", in_sample=s == "train")


REPORTED: tuple[Claim, ...] = (
    Claim("li2025.patients", "li2025", "patients", "all", "count", 1098, "01_cohort", f"{LI}, Methods: 1098 patients with sinus CT were included"),
    Claim("li2025.hospitals", "li2025", "hospitals", "all", "count", 2, "01_cohort", f"{LI}, Methods: patients came from two hospitals"),
    _li_auc("internal_test", "internal"),
    _li_auc("external_test", "external"),
    *(_li_unstated(m, s) for m in ("sensitivity", "specificity", "accuracy") for s in ("internal_test", "external_test")),
    Claim("li2025.proteomics.patients", "li2025", "patients with proteomics", "all", "count", LI2025_PROTEOMICS["patients"], "07_proteomics",
          f"{LI}, Methods: proteomic analysis was performed on {LI2025_PROTEOMICS['patients']} patients"),
    Claim("li2025.proteomics.dysregulated", "li2025", "dysregulated genes (predicted eCRS vs non-eCRS)", "all", "count", LI2025_PROTEOMICS["dysregulated"],
          "07_proteomics", f"{LI}, Results: proteomics found {LI2025_PROTEOMICS['dysregulated']} dysregulated genes"),
    Claim("li2025.proteomics.chemokine", "li2025", "chemokine signalling among the enriched pathways", "all", "finding", "enriched", "07_proteomics",
          f"{LI}, Results: {LI2025_PROTEOMICS['pathway_claim']}"),
    Claim("mtlnet2025.patients", "mtlnet2025", "patients", "all", "count", 257, "01_cohort", f"{MTL}, Results: 257 CRSwNP patients were included"),
    *(Claim(f"mtlnet2025.patients.{s}", "mtlnet2025", "patients", s, "count", n, "01_cohort", f"{MTL}, Results: {n} patients in the {_MTL_SET[s]} set")
      for s, n in (("train", 172), ("validation", 41), ("external", 44))),
    *(_mtl("Dice", s, "Dice of the sinus segmentation") for s in ("train", "validation", "external")),
    *(_mtl("AUC", s, "AUC of the endotype classification") for s in ("train", "validation", "external")),
    _mtl("sensitivity", "external", "sensitivity"),
    _mtl("specificity", "external", "specificity"),
)

BY_ID = {c.id: c for c in REPORTED}
