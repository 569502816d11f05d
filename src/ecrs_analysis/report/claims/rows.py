"""Claim rows from the analysis tables (AUCs, operating points, cohort counts, proteomics, headline metrics), for :func:`~ecrs_analysis.report.claims.store.write_claims`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ecrs_analysis.data.splits import EXTERNAL_TEST, INTERNAL_TEST
from ecrs_analysis.report.claims.registry import BY_ID
from ecrs_analysis.stats.learning import LearningCheck

__all__ = ["CLASSIFICATION_METRICS", "auc_claims", "operating_claims", "cohort_claims", "integrated_claims", "proteomics_claims", "metric_claims"]


def auc_claims(aucs: pd.DataFrame, *, model: str, claims: Mapping[str, str], ceiling_model: str | None = None) -> list[dict[str, Any]]:
    """Claim rows from an :func:`ecrs_analysis.stats.evaluate.auc_table` (DeLong 95% CI).

    Parameters
    ----------
    aucs : DataFrame
        Indexed by (set, model) with ``n``, ``AUC``, ``DeLong low``, ``DeLong high``.
    model : str
        The model whose AUC the claims are about.
    claims : mapping of str to str
        Set name -> claim id (sets missing from ``aucs`` are skipped).
    ceiling_model : str, optional
        A model row (``true_prob``) whose AUC is the ceiling on each set.
    """
    rows = []
    for s, cid in claims.items():
        if (s, model) not in aucs.index:
            continue
        r = aucs.loc[(s, model)]
        ceiling = aucs.loc[(s, ceiling_model), "AUC"] if ceiling_model and (s, ceiling_model) in aucs.index else None
        rows.append({"claim": cid, "value": r["AUC"], "ci_low": r["DeLong low"], "ci_high": r["DeLong high"], "ceiling": ceiling, "n": r["n"], "note": "DeLong 95% CI"})
    return rows


def operating_claims(ops: pd.DataFrame, *, model: str, claims: Mapping[tuple[str, str], str]) -> list[dict[str, Any]]:
    """Claim rows from an :func:`ecrs_analysis.stats.evaluate.operating_table` (Wilson 95% CIs).

    ``claims`` maps (metric, set), e.g. ``("sensitivity", "external_test")``, to a claim id;
    pairs missing from ``ops`` are skipped.
    """
    rows = []
    for (metric, s), cid in claims.items():
        if (model, s) not in ops.index:
            continue
        r = ops.loc[(model, s)]
        rows.append({"claim": cid, "value": r[metric], "ci_low": r[f"{metric} low"], "ci_high": r[f"{metric} high"],
                     "n": int(r["TP"] + r["FP"] + r["TN"] + r["FN"]), "note": f"at the threshold chosen by {r['rule']}; Wilson 95% CI"})
    return rows


def cohort_claims(studies: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Claim rows of the cohorts: patients (in all and per set) and hospitals, for each loaded study.

    ``studies`` maps a study name to its :class:`ecrs_analysis.data.study.LoadedStudy`; only
    counts the registry has a claim for are written.
    """
    rows = []
    for name, st in studies.items():
        t = st.table
        synthetic = st.cohort.truth is not None
        note = (f"synthetic cohort: set by the parameters studies.{name}.synthetic.n_patients, centers and split, "
                "chosen to match the paper; compared on a real cohort") if synthetic else "real cohort"
        counts = {f"{name}.patients": len(t)}
        if "center" in t:
            counts[f"{name}.hospitals"] = t["center"].nunique()
        counts.update({f"{name}.patients.{s}": int((t["set"] == s).sum()) for s in st.split.names})
        rows += [{"claim": cid, "value": v, "n": v, "by_design": synthetic, "note": note} for cid, v in counts.items() if cid in BY_ID]
    return rows


def integrated_claims(aucs: pd.DataFrame, ops: pd.DataFrame, *, model: str = "integrated") -> list[dict[str, Any]]:
    """Claim rows of Li et al.'s integrated model: AUC, sensitivity, specificity, accuracy on both test sets."""
    sets = (INTERNAL_TEST, EXTERNAL_TEST)
    rows = auc_claims(aucs, model=model, claims={s: f"li2025.auc.{s}" for s in sets}, ceiling_model="true_prob")
    rows += operating_claims(ops, model=model, claims={(m, s): f"li2025.{m}.{s}" for m in ("sensitivity", "specificity", "accuracy") for s in sets})
    return rows


def proteomics_claims(*, patients: int, dysregulated: int, gsea: pd.DataFrame, pathway: str, fdr: float, synthetic: bool = False) -> list[dict[str, Any]]:
    """Claim rows of the proteomics: patients, dysregulated proteins, and whether ``pathway`` is enriched (GSEA FDR < ``fdr``).

    ``synthetic``: the proteomics were simulated for ``omics.synthetic.n_patients`` patients, so
    their number is set by design."""
    hit = gsea[gsea["term"] == pathway]
    if hit.empty:
        enriched, note = 0.0, f"{pathway}: not among the {len(gsea)} gene sets tested"
    else:
        q = float(hit["fdr"].iloc[0])
        rank = int(np.flatnonzero(gsea["term"].to_numpy() == pathway)[0]) + 1
        enriched, note = float(q < fdr), f"GSEA: {pathway} ranked {rank} of {len(gsea)}, FDR {q:.3g} (threshold {fdr:g})"
    return [
        {"claim": "li2025.proteomics.patients", "value": patients, "n": patients, "by_design": synthetic,
         **({"note": "synthetic proteomics: the parameter omics.synthetic.n_patients"} if synthetic else {})},
        {"claim": "li2025.proteomics.dysregulated", "value": dysregulated,
         "note": f"limma, FDR < {fdr:g}; the paper states no definition: chapter 07 counts every usual one; the count depends on how many proteins were quantified"},
        {"claim": "li2025.proteomics.chemokine", "value": enriched, "note": note},
    ]


_CI_PHRASE = re.compile(r"(?:stratified )?(?:bootstrap|Wilson|DeLong) 95% CI(?:; )?")


def _with_method(note: str, method: str) -> str:
    """``note`` with the row's own CI method in front (a note naming another method for every row loses that phrase)."""
    rest = _CI_PHRASE.sub("", note).strip().strip(";").strip()
    return f"{method} 95% CI" + (f"; {rest}" if rest else "")


def metric_claims(
    table: pd.DataFrame, *, study: str, note: str = "", auc_ceiling: Mapping[str, float] | None = None, learning: LearningCheck | None = None,
) -> list[dict[str, Any]]:
    """Claim rows from a table indexed by (set, metric) with ``value``, ``CI low``, ``CI high``.

    The claim id is ``<study>.<metric>.<set>`` (metric lower-cased: ``AUC`` -> ``auc``);
    rows the registry has no claim for are skipped, so a chapter can pass its whole
    headline table (e.g. MTLNet's Dice, AUC, sensitivity and specificity per set). An
    optional ``ceiling`` column is carried over; ``auc_ceiling`` (set -> the synthetic
    cohort's ceiling AUC, e.g. the ``ceiling AUC`` column of ``data.study.ceiling_auc``)
    fills the AUC rows' ceiling; None for a real cohort.  ``learning`` (the classifier's
    :func:`~ecrs_analysis.stats.learning.learning_check`): when it did not learn, the
    classification rows (AUC, sensitivity, specificity, ...) carry ``learned=False`` and the
    reason instead of a value; segmentation rows (Dice) are not the classifier's and stay.
    """
    rows = []
    for (s, metric), r in table.iterrows():
        cid = f"{study}.{str(metric).lower()}.{s}"
        if cid in BY_ID:
            ceiling = r.get("ceiling")
            if auc_ceiling is not None and str(metric).lower() == "auc" and s in auc_ceiling:
                ceiling = float(auc_ceiling[s])
            method = r.get("CI method")
            row_note = _with_method(note, str(method)) if isinstance(method, str) and method else note
            row = {"claim": cid, "value": r["value"], "ci_low": r.get("CI low"), "ci_high": r.get("CI high"), "ceiling": ceiling, "note": row_note}
            if learning is not None and not learning.learned and str(metric).lower() in CLASSIFICATION_METRICS:
                row.update(learned=False, note=f"did not learn — no value reported: {learning.reason}")
            rows.append(row)
    return rows


CLASSIFICATION_METRICS = ("auc", "sensitivity", "specificity", "accuracy", "ppv", "npv")
"""Metrics (lower-case) that describe a classifier's scores, withheld when the classifier did not learn."""
