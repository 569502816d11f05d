"""The computations behind exhibits the chapters used to compute themselves, one workflow job each.

Each function is the body of one job of ``workflow/rules/exhibits.smk``: ROC curves with their
bootstrap bands (chapters 02, 04, 05), chapter 02's paired DeLong tests, calibration and decision
curve, the subgroup AUCs of chapter 98, and chapter 01's phantom anatomies and HU statistics. Each
calls the same domain functions with the same arguments the notebooks called (same seeds, same
resample order), so the book shows the numbers it showed before; the chapters read the tables and
draw them (:mod:`ecrs_analysis.plotting`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ecrs_analysis.atomic import write_csv

if TYPE_CHECKING:  # the workflow's rules import this module's names: no imaging stack at parse time
    from ecrs_analysis.data.study import LoadedStudy

__all__ = [
    "ROC_COLUMNS", "roc_table", "clinical_exhibits_job", "CLINICAL_EXHIBITS", "roc_job", "mtlnet_roc_job", "subgroups_job",
    "phantom_anatomies_job", "hu_tissues_job", "PHANTOM_ANATOMIES", "segmentation_examples_job",
]

ROC_COLUMNS = ["set", "model", "n", "kind", "fpr", "tpr", "low", "high", "AUC", "CI low", "CI high"]
"""Columns of :func:`roc_table`: ``kind`` ``curve`` rows carry the empirical curve (``fpr``, ``tpr``),
``band`` rows the pointwise bootstrap band (``fpr`` grid, ``low``, ``high``); ``AUC`` and its DeLong CI repeat per row."""

CLINICAL_EXHIBITS = ("paired", "roc", "calibration", "calibration_curve", "decision_curve", "unavailable")
"""Tables the clinical exhibits job writes (chapter 02 reads them)."""

PHANTOM_ANATOMIES = 200
"""How many phantom anatomies chapter 01 samples to compare the generator's sinus volumes with CT volumetry."""


def roc_table(scores: pd.DataFrame, models: Sequence[str], *, sets: Sequence[str], n_resamples: int, seed: int) -> pd.DataFrame:
    """ROC curve, bootstrap band and DeLong AUC of each model on each set, as one long table (:data:`ROC_COLUMNS`).

    Each (model, set) band is drawn with ``seed`` and named ``"<model> on <set>"``, as the
    chapters' ROC figures drew them (``stats.roc.roc_band``; ``stats.delong.delong_ci``).
    """
    from ecrs_analysis.stats.delong import delong_ci
    from ecrs_analysis.stats.roc import roc, roc_band

    parts = []
    for s in sets:
        part = scores[scores["set"] == s]
        y = part["label"]
        for m in models:
            name = f"{m} on {s}"
            band = roc_band(y, part[m], n_resamples=n_resamples, seed=seed, name=name)
            d = delong_ci(y, part[m], name=name)
            curve = roc(y, part[m])
            common = {"set": s, "model": m, "n": len(part), "AUC": d.auc, "CI low": d.ci_low, "CI high": d.ci_high}
            parts.append(pd.DataFrame({**common, "kind": "curve", "fpr": curve.fpr, "tpr": curve.tpr}))
            parts.append(pd.DataFrame({**common, "kind": "band", "fpr": band.fpr, "low": band.low, "high": band.high}))
    if not parts:
        return pd.DataFrame(columns=ROC_COLUMNS)
    return pd.concat(parts, ignore_index=True).reindex(columns=ROC_COLUMNS)


def clinical_exhibits_job(study: LoadedStudy, scores: pd.DataFrame, *, n_resamples: int, seed: int, out: Mapping[str, Path]) -> None:
    """Chapter 02's exhibits from the clinical job's scores: ROC bands, paired DeLong tests, calibration, decision curve.

    Writes ``roc`` (:func:`roc_table` of the signature and the clinical rules present), ``paired``
    (``stats.evaluate.paired_delong_table``: the signature minus each rule, per set),
    ``calibration`` (Brier, intercept, slope per set) and ``calibration_curve`` of
    ``clinical_prob`` (quantile bins: 8, or 4 on a set under 80 patients), and ``decision_curve``
    (net benefit of ``clinical_prob`` on the last set, with its prevalence), and ``unavailable``: the clinical
    rules this cohort lacks the columns for, with the reason (a real cohort without Lund-Mackay scores).
    """
    from ecrs_analysis.modelling import clinical
    from ecrs_analysis.stats import evaluate
    from ecrs_analysis.stats.calibration import calibration, net_benefit

    sets = list(study.split.names)
    models = ["clinical_signature", *(m for m in clinical.COMPARATORS if m in scores)]
    skipped = clinical.unavailable_comparators(study.cohort.clinical_columns)
    write_csv(pd.DataFrame({"rule": list(skipped), "why": list(skipped.values())}), out["unavailable"])
    write_csv(roc_table(scores, models, sets=sets, n_resamples=n_resamples, seed=seed), out["roc"])
    write_csv(evaluate.paired_delong_table(scores, "clinical_signature", models[1:], sets=sets), out["paired"], index=True)
    curves, rows = [], {}
    for s in sets:
        part = scores[scores["set"] == s]
        c = calibration(part["label"], part["clinical_prob"], n_bins=8 if len(part) >= 80 else 4)
        curves.append(c.curve.assign(set=s))
        rows[s] = {"Brier": c.brier, "calibration intercept": c.intercept, "calibration slope": c.slope}
    write_csv(pd.DataFrame.from_dict(rows, orient="index").rename_axis("set"), out["calibration"], index=True)
    write_csv(pd.concat(curves), out["calibration_curve"])
    last = scores[scores["set"] == sets[-1]]
    decision = net_benefit(last["label"], last["clinical_prob"]).assign(set=sets[-1], prevalence=float(last["label"].mean()))
    write_csv(decision, out["decision_curve"])


def roc_job(scores: pd.DataFrame, models: Sequence[str], *, sets: Sequence[str], n_resamples: int, seed: int, out: Mapping[str, Path]) -> None:
    """``out["roc"]``: :func:`roc_table` of ``models`` (chapter 04: the integrated model, its components and the ceilings)."""
    write_csv(roc_table(scores, [m for m in models if m in scores], sets=sets, n_resamples=n_resamples, seed=seed), out["roc"])


def mtlnet_roc_job(scores: pd.DataFrame, learning: pd.DataFrame, *, sets: Sequence[str], n_resamples: int, seed: int, out: Mapping[str, Path]) -> None:
    """``out["roc"]``: :func:`roc_table` of MTLNet's ``prob`` per set, only when its classifier learned and the AUC
    is computable on these sets (``learning``: the evaluation job's verdict); else an empty table (chapter 05 shows none)."""
    row = learning.iloc[0]
    computable = bool(row["learned"]) and not isinstance(row.get("not computable"), str)
    table = roc_table(scores, ["prob"], sets=sets, n_resamples=n_resamples, seed=seed) if computable else pd.DataFrame(columns=ROC_COLUMNS)
    write_csv(table, out["roc"])


def subgroups_job(study: LoadedStudy, scores: pd.DataFrame, *, out: Mapping[str, Path]) -> None:
    """``out["subgroups"]``: AUC of the integrated model by sex, centre and age band per set (``stats.subgroups``; chapter 98)."""
    from ecrs_analysis.stats.subgroups import subgroup_auc_table, subgroup_columns

    table = subgroup_auc_table(scores, subgroup_columns(study.table), score="integrated", sets=study.split.names)
    write_csv(table, out["subgroups"], index=True)


def phantom_anatomies_job(*, seed: int, out: Mapping[str, Path]) -> None:
    """``out["volumes"]``: sinus air volumes of :data:`PHANTOM_ANATOMIES` sampled phantom anatomies beside adult CT volumetry (chapter 01)."""
    from ecrs_analysis.data.synth.anatomy import phantom_volume_table

    write_csv(phantom_volume_table(n=PHANTOM_ANATOMIES, seed=seed), out["volumes"], index=True)


def hu_tissues_job(study: LoadedStudy, *, reference: Path | None, out: Mapping[str, Path]) -> None:
    """``out["tissues"]``: HU by tissue of the study's first synthetic phantom and of the real reference head CT (chapter 01).

    Without the reference CT (``paths.find_reference_ct``) the table is empty and the chapter skips the comparison.
    """
    from ecrs_analysis.data import ctstats
    from ecrs_analysis.data.imageio import read_image

    if reference is None:
        write_csv(pd.DataFrame(), out["tissues"])
        return
    synthetic = read_image(study.cohort.table["image"].iloc[0])
    real = read_image(reference)
    tissues = pd.concat([ctstats.tissue_summary(synthetic, name="synthetic"), ctstats.tissue_summary(real, name="real (InVesalius 0051)")]).pivot(index="tissue", columns="source")
    write_csv(tissues, out["tissues"], index=True)


def segmentation_examples_job(folder: Path, index: pd.DataFrame, *, set_name: str, out: Mapping[str, Path]) -> None:
    """``out["examples"]``: the best, median and worst ``set_name`` patient by Dice of the MTLNet job in ``folder``
    (``training.mtl.segmentation_examples``: image, ground truth, prediction, voxel size), as one ``.npz``
    (``title_<i>``, ``image_<i>``, ``truth_<i>``, ``prediction_<i>``, ``spacing_mm_<i>``; chapter 05 reads it back with
    ``report.mtlnet_chapter.read_segmentation_examples``). Titles name rank and Dice, never the patient."""
    import numpy as np

    from ecrs_analysis.jobs.explain_views import write_npz
    from ecrs_analysis.training.mtl import load_job, segmentation_examples

    cases = segmentation_examples(load_job(folder), index, set_name=set_name)
    arrays: dict[str, np.ndarray] = {}
    for i, (title, c) in enumerate(cases):
        arrays[f"title_{i}"] = np.array(title)
        arrays.update({f"{k}_{i}": np.asarray(v) for k, v in c.items()})
    write_npz(arrays, out["examples"])
