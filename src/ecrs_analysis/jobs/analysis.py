"""The computations behind chapters 01, 02, 04 and 07, one workflow job each.

Each function is the body of one job of ``workflow/rules/analysis.smk``: it takes the loaded
artefacts and the typed settings its rule declared, computes, and writes exactly the files
the rule names (the ``out`` mapping: output name -> path, Snakemake's ``{output}``). The
chapters' notebooks then only read these files and show them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ecrs_analysis.atomic import read_indexed, write_csv, write_json  # read_indexed: also re-exported for the chapters

if TYPE_CHECKING:  # the workflow's rules import this module's names: no imaging stack at parse time
    from ecrs_analysis.data.study import LoadedStudy

__all__ = [
    "TABLE1_BY", "table_one_job", "clinical_job", "integrated_job", "integrated_evaluation_job", "INTEGRATED_EVALUATION_TABLES", "IN_SAMPLE",
    "held_out_auc_rows", "label_auc_rows", "proteomics_job",
    "running_score_table", "dysregulated_definitions", "read_indexed", "chapter_claims",
]


# Table 1 of each study is shown by set and by endotype.
TABLE1_BY = ("set", "endotype")
ENDOTYPES = {1: "eosinophilic", 0: "non-eosinophilic"}


def table_one_job(study: LoadedStudy, *, out: Mapping[str, Path]) -> None:
    """Table 1 of a study by set (``out["by_set"]``) and by endotype over all sets (``out["by_endotype"]``)."""
    from ecrs_analysis.data import study as S  # lazy: loads SimpleITK, scipy, sklearn
    from ecrs_analysis.stats import table1  # lazy: loads scipy, sklearn

    variables = S.table1_variables(study.cohort)
    by_set = table1.table_one(study.table, by="set", variables=variables, order=list(study.split.names))
    by_label = study.table.assign(endotype=study.table["label"].map(ENDOTYPES))
    by_endotype = table1.table_one(by_label, by="endotype", variables=variables, order=list(ENDOTYPES.values()))
    write_csv(by_set, out["by_set"], index=True)
    write_csv(by_endotype, out["by_endotype"], index=True)


def held_out_auc_rows(scores: pd.DataFrame, *, model: str, held_out: str, train_set: str, n_resamples: int, seed: int) -> pd.DataFrame:
    """The training-set AUC row of ``held_out`` (out-of-fold scores of ``model``), named ``"<model> (out-of-fold)"``."""
    from ecrs_analysis.stats import evaluate  # lazy: loads scipy, sklearn, statsmodels

    rows = evaluate.auc_table(scores, [held_out], sets=[train_set], n_resamples=n_resamples, seed=seed)
    return rows.rename(index={held_out: f"{model} (out-of-fold)"}, level="model")


def label_auc_rows(aucs: pd.DataFrame, *, train_set: str, in_sample: Sequence[str]) -> pd.DataFrame:
    """``aucs`` with the ``scores`` column (in-sample / out-of-fold / held-out) and the CI methods named."""
    from ecrs_analysis.stats import evaluate  # lazy: loads scipy, sklearn, statsmodels

    origin = evaluate.score_origin(aucs, train_set=train_set, in_sample=in_sample)
    origin = origin.where(~origin.index.get_level_values("model").str.endswith("(out-of-fold)"), "out-of-fold")
    return aucs.assign(scores=origin, **{"AUC CI": "DeLong (low/high: DeLong; bootstrap: stratified percentile)"})


def clinical_job(
    study: LoadedStudy, *, alpha: float, n_resamples: int, seed: int, rule: str, target: float | None, out: Mapping[str, Path], folds: pd.DataFrame | None = None,
) -> None:
    """The clinical signature fitted on the training set, every patient's scores, and its tables.

    Writes ``scores`` (``scores_clinical.csv``; with ``folds``, also the out-of-fold signature
    ``clinical_signature_held_out``), ``univariable``, ``signature``, ``imputed`` (values filled
    per variable in the training set), ``auc`` (per set and model, DeLong and bootstrap CIs, a
    ``scores`` column saying which training rows are in-sample, and the out-of-fold training row
    of the signature) and ``operating_points`` (thresholds chosen on the training set — on the
    signature's out-of-fold scores when ``folds`` is given — applied to every set).
    """
    from ecrs_analysis.modelling import clinical  # lazy: loads sklearn, statsmodels
    from ecrs_analysis.stats import evaluate  # lazy: loads scipy, sklearn, statsmodels

    train_set = study.split.train_name
    sets = list(study.split.names)
    scores, signature, uni = clinical.clinical_scores(study.table, study.cohort.clinical_columns, train_set=train_set, alpha=alpha, folds=folds)
    imputed = pd.Series(signature.imputer.counts, name="values imputed", dtype=int).rename_axis("variable")
    models = ["clinical_signature", *(m for m in clinical.COMPARATORS if m in scores)]
    aucs = evaluate.auc_table(scores, models, sets=sets, n_resamples=n_resamples, seed=seed)
    threshold_scores = None
    if clinical.HELD_OUT in scores:
        aucs = pd.concat([aucs, held_out_auc_rows(scores, model="clinical_signature", held_out=clinical.HELD_OUT, train_set=train_set, n_resamples=n_resamples, seed=seed)])
        threshold_scores = scores.loc[scores["set"] == train_set, ["label", clinical.HELD_OUT]].rename(columns={clinical.HELD_OUT: "clinical_signature"})
    aucs = label_auc_rows(aucs, train_set=train_set, in_sample=["clinical_signature"])
    fixed = {"jesrec": clinical.JESREC_CUTOFF} if "jesrec" in scores else {}
    ops = evaluate.operating_table(scores, models, threshold_set=train_set, sets=sets, rule=rule, target=target, fixed=fixed, threshold_scores=threshold_scores)
    ops = ops.assign(scores=evaluate.score_origin(ops, train_set=train_set, in_sample=["clinical_signature"]), **{"CI": "Wilson"})
    write_csv(scores, out["scores"])
    write_csv(uni, out["univariable"], index=True)
    write_csv(signature.table, out["signature"], index=True)
    write_csv(imputed.to_frame(), out["imputed"], index=True)
    write_csv(aucs, out["auc"], index=True)
    write_csv(ops, out["operating_points"], index=True)


def integrated_job(
    clinical_scores: pd.DataFrame, deep_scores: pd.DataFrame, *, models: Sequence[str], train_set: str, seed: int, svm_folds: int,
    truth: pd.DataFrame | None, out: Mapping[str, Path],
) -> None:
    """The integrated SVM fitted on the training rows only; every patient's integrated score.

    Writes ``scores`` (``scores_integrated.csv``: clinical and deep scores, ``integrated`` and,
    on a synthetic cohort, ``true_prob``) and ``model`` (features, chosen settings, CV AUC).
    """
    from ecrs_analysis.modelling import fusion  # lazy: loads scipy, sklearn, statsmodels

    scores = clinical_scores.merge(deep_scores.drop(columns=["set", "label"]), on="patient_id", validate="one_to_one")
    features = ["clinical_signature", *models]
    scores, model = fusion.fit_on_training_rows(scores, features, train_set=train_set, seed=seed, folds=svm_folds)
    if truth is not None:
        ceilings = [c for c in ("image_prob", "true_prob") if c in truth]  # image-only (CT models) and latent (the integrated model) ceilings
        scores = scores.merge(truth[["patient_id", *ceilings]].astype({"patient_id": str}), on="patient_id", how="left")
    write_csv(scores, out["scores"])
    write_json({"features": features, "best_params": model.best_params, "cv_auc": model.cv_auc, "svm_folds": svm_folds, "train_set": train_set}, out["model"])


INTEGRATED_EVALUATION_TABLES = ("auc", "operating_points", "threshold_held_out", "held_out_scores", "ceiling", "paired", "calibration", "calibration_curve", "decision_curve")
"""Tables the integrated evaluation job writes (chapter 04 reads them)."""

IN_SAMPLE = ("integrated", "clinical_signature")
"""Models whose training-set scores are in-sample (fitted on those patients); the CNNs' are out-of-fold."""


def integrated_evaluation_job(
    scores: pd.DataFrame, folds: pd.DataFrame, *, models: Sequence[str], sets: Sequence[str], train_set: str, seed: int, svm_folds: int,
    n_resamples: int, rule: str, target: float | None, out: Mapping[str, Path],
) -> None:
    """AUCs, operating points, ceiling and paired tests, calibration and decision curves of the integrated model and its components.

    Writes

    - ``held_out_scores``: every patient's score from models not fitted on them: ``integrated_held_out``
      (out-of-fold on the training set: the SVM refitted without each CNN fold, the fold scored with its
      out-of-fold clinical signature; the final model on the test sets), ``clinical_signature_held_out``,
      the CNN scores (out-of-fold already) and the ceilings;
    - ``auc`` (per set and model, DeLong and bootstrap CIs, the ceilings ``image_prob`` (CT only) and
      ``true_prob`` (latent) when present, a ``scores`` column: in-sample / out-of-fold / held-out,
      and the out-of-fold training rows of the integrated model and the clinical signature);
    - ``operating_points``: thresholds chosen on the training set's *out-of-fold* scores, applied unchanged;
    - ``threshold_held_out``: the in-sample threshold of the SVM refitted without each CNN fold, on that fold;
    - ``ceiling``: the integrated model and the clinical signature against the latent ceiling (``evaluate.ceiling_table``: paired
      DeLong ΔAUC, normalised share with bootstrap CI), with their out-of-fold training rows; the CNNs' are chapter 03's;
    - ``paired``: paired DeLong tests of the integrated model against each component per set, with Holm and Bonferroni p;
    - ``calibration`` (Brier, intercept, slope, Hosmer-Lemeshow per set; training: out-of-fold), ``calibration_curve``
      (reliability curve, quantile bins) and ``decision_curve`` (net benefit per set and threshold probability).
    """
    from ecrs_analysis.modelling import clinical, fusion  # lazy: loads scipy, sklearn, statsmodels
    from ecrs_analysis.stats import calibration as CAL  # lazy: loads scipy, sklearn, statsmodels
    from ecrs_analysis.stats import evaluate  # lazy: loads scipy, sklearn, statsmodels

    features = ["clinical_signature", *models]
    shown = ["integrated", *features]
    sets = list(sets)
    train_mask = (scores["set"] == train_set).to_numpy()
    fold_of = dict(zip(folds["patient_id"].astype(str), folds["fold"]))
    train_ids = scores.loc[train_mask, "patient_id"].astype(str)
    missing = sorted(set(train_ids) - set(fold_of))
    if missing:
        raise ValueError(f"integrated evaluation: training patient(s) {missing[:5]} have no fold in the folds table; re-run the folds stage")
    train_rows = scores[train_mask]
    fold = train_ids.map(fold_of).to_numpy()
    held = scores.copy()
    if clinical.HELD_OUT not in held:  # scores of a run before the clinical job wrote it: the in-sample signature, said in the table
        held[clinical.HELD_OUT] = held["clinical_signature"]
    scoring = train_rows.assign(clinical_signature=held.loc[train_mask, clinical.HELD_OUT].to_numpy())
    held[fusion.HELD_OUT] = held["integrated"]
    held.loc[train_mask, fusion.HELD_OUT] = fusion.out_of_fold_integrated(train_rows, features, folds=fold, seed=seed, svm_folds=svm_folds, held_out_features=scoring)
    ceilings = [c for c in ("image_prob", "true_prob") if c in scores]
    keep = ["patient_id", "set", "label", fusion.HELD_OUT, clinical.HELD_OUT, *models, *ceilings]
    write_csv(held[keep], out["held_out_scores"])

    aucs = evaluate.auc_table(scores, shown + ceilings, sets=sets, n_resamples=n_resamples, seed=seed)
    for model, column in (("integrated", fusion.HELD_OUT), ("clinical_signature", clinical.HELD_OUT)):
        aucs = pd.concat([aucs, held_out_auc_rows(held, model=model, held_out=column, train_set=train_set, n_resamples=n_resamples, seed=seed)])
    write_csv(label_auc_rows(aucs, train_set=train_set, in_sample=IN_SAMPLE), out["auc"], index=True)

    threshold_scores = held.loc[train_mask, ["label", fusion.HELD_OUT, clinical.HELD_OUT, *models]].rename(
        columns={fusion.HELD_OUT: "integrated", clinical.HELD_OUT: "clinical_signature"})
    ops = evaluate.operating_table(scores, shown, threshold_set=train_set, sets=sets, rule=rule, target=target, threshold_scores=threshold_scores)
    ops = ops.assign(scores=evaluate.score_origin(ops, train_set=train_set, in_sample=IN_SAMPLE), CI="Wilson")
    write_csv(ops, out["operating_points"], index=True)

    held_out = fusion.held_out_operating_points(train_rows.assign(fold=fold), features, folds=pd.Series(fold), seed=seed, svm_folds=svm_folds, rule=rule, target=target)
    write_csv(held_out, out["threshold_held_out"], index=True)

    # the integrated model (CT and clinical data) and the clinical signature against the latent ceiling; the CNNs
    # against the image-only ceiling are chapter 03's (deep_evaluation: only the networks that learned)
    if "true_prob" in scores:
        pair = ["integrated", "clinical_signature"]
        ceiling = evaluate.ceiling_table(scores, pair, ceiling="true_prob", sets=sets, n_resamples=n_resamples, seed=seed)
        oof = evaluate.ceiling_table(held, [fusion.HELD_OUT, clinical.HELD_OUT], ceiling="true_prob", sets=[train_set], n_resamples=n_resamples, seed=seed)
        oof = oof.rename(index={fusion.HELD_OUT: "integrated (out-of-fold)", clinical.HELD_OUT: "clinical_signature (out-of-fold)"}, level="model")
        ceiling = pd.concat([ceiling, oof]).assign(ceiling="true_prob")
        origin = evaluate.score_origin(ceiling, train_set=train_set, in_sample=IN_SAMPLE)
        ceiling["scores"] = origin.where(~ceiling.index.get_level_values("model").str.endswith("(out-of-fold)"), "out-of-fold")
    else:
        ceiling = pd.DataFrame(columns=["set", "model", *evaluate.CEILING_COLUMNS, "ceiling", "scores"]).set_index(["set", "model"])
    write_csv(ceiling, out["ceiling"], index=True)

    paired = evaluate.adjust_p(evaluate.paired_delong_table(scores, "integrated", features, sets=sets))
    paired = paired.assign(scores=["in-sample" if s == train_set else "held-out" for s in paired.index.get_level_values("set")], tests=paired.attrs["tests"])
    write_csv(paired, out["paired"], index=True)

    cal_rows, curves, decision = [], [], []
    for s in sets:
        part = held[held["set"] == s]
        c = CAL.calibration(part["label"], part[fusion.HELD_OUT], n_bins=8 if len(part) >= 80 else 4, name=f"integrated model on {s}")
        cal_rows.append({"set": s, "n": len(part), "scores": "out-of-fold" if s == train_set else "held-out", "Brier": c.brier,
                         "calibration intercept": c.intercept, "calibration slope": c.slope, "Hosmer-Lemeshow": c.hl_statistic, "Hosmer-Lemeshow p": c.hl_p_value})
        curves.append(c.curve.assign(set=s))
        decision.append(CAL.net_benefit(part["label"], part[fusion.HELD_OUT], name=f"integrated model on {s}").assign(set=s))
    write_csv(pd.DataFrame(cal_rows).set_index("set"), out["calibration"], index=True)
    write_csv(pd.concat(curves, ignore_index=True), out["calibration_curve"])
    write_csv(pd.concat(decision, ignore_index=True), out["decision_curve"])


def running_score_table(gsea: pd.DataFrame, result: object, ranking: pd.Series, *, top_n: int = 3) -> pd.DataFrame:
    """Running enrichment score of the ``top_n`` gene sets of ``gsea`` along the ranking, one row per (term, position).

    Columns ``term, position, es, hit, score`` (``score``: the ranking's value at that position,
    sorted descending), read back by :func:`ecrs_analysis.plotting.omics.plot_running_score`.
    """
    from ecrs_analysis.omics.enrichment import running_score  # lazy: loads gseapy

    order = ranking.sort_values(ascending=False).to_numpy(dtype=float)
    parts = []
    for term in gsea["term"].head(top_n):
        res, hits = running_score(result, str(term))
        hit = np.zeros(len(res), dtype=bool)
        hit[hits[hits < len(res)]] = True
        parts.append(pd.DataFrame({"term": str(term), "position": np.arange(len(res)), "es": res, "hit": hit, "score": order[: len(res)]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["term", "position", "es", "hit", "score"])


def dysregulated_definitions(table: pd.DataFrame, *, planted: pd.DataFrame | None) -> pd.DataFrame:
    """Proteins called dysregulated under the usual definitions, and how many of them were planted.

    The paper's "594 dysregulated genes" does not say which definition it used; these are the
    common ones: unadjusted p < 0.05 or BH FDR < 0.05, each alone and with |log2 FC| >= log2 1.2
    (a 1.2-fold change) or >= 1 (a 2-fold change).
    """
    rows = []
    planted_genes = set(planted["gene"].astype(str)) if planted is not None else None
    for p_col, p_name in (("p_value", "unadjusted p < 0.05"), ("fdr", "FDR < 0.05")):
        for fc, fc_name in ((0.0, ""), (math.log2(1.2), " and |log2 FC| >= log2 1.2"), (1.0, " and |log2 FC| >= 1")):
            called = (table[p_col] < 0.05) & (table["log_fc"].abs() >= fc)
            row: dict[str, Any] = {"definition": p_name + fc_name, "proteins": int(called.sum())}
            if planted_genes is not None:
                row["of them planted"] = int(table.loc[called, "gene"].astype(str).isin(planted_genes).sum())
            rows.append(row)
    out = pd.DataFrame(rows).set_index("definition")
    out.attrs["planted"] = None if planted_genes is None else len(planted_genes)
    return out


def proteomics_job(
    study: LoadedStudy, scores: pd.DataFrame, *, settings: Any, seed: int, rule: str, target: float | None, out: Mapping[str, Path],
    comparisons: Sequence[str],
) -> None:
    """Chapter 07's proteomics: predicted calls, pre-processing, limma/Welch, ORA and GSEA for each comparison.

    Writes every table the chapter shows (``out``: ``summary`` JSON; ``samples``, ``log2_raw``,
    ``normalized``, ``steps``, ``definitions``, ``limma_welch``, ``planted``, ``planted_pathways``;
    ``de_<c>``, ``ora_<c>``, ``gsea_<c>``, ``running_<c>`` per comparison ``c``) and, for
    synthetic proteomics, the generated data under ``out["synthetic"]``. A cohort without
    proteomics writes its reason into the summary and empty tables (the chapter is skipped).
    """
    from ecrs_analysis.omics import analysis as A  # lazy: loads gseapy, scipy, sklearn, statsmodels
    from ecrs_analysis.omics.preprocess import preprocess  # lazy: loads pylimma (with scipy.stats), which no other job of this module needs
    from ecrs_analysis.omics.synth import CHEMOKINE_PATHWAY  # lazy: loads gseapy, scipy

    calls = A.predicted_calls(scores, rule=rule, target=target, train_set=study.split.train_name)
    try:
        inputs = A.load_inputs(settings, seed=seed, calls=calls.table, cohort_ids=list(study.table["patient_id"]), truth=study.cohort.truth, folder=out["synthetic"])
    except A.OmicsNotAvailable as exc:  # the chapter is then skipped (jobs.skip.ChapterSkipped) with this reason
        for name, path in out.items():
            if name not in ("summary", "synthetic"):
                write_csv(pd.DataFrame(), path)
        Path(out["synthetic"]).mkdir(parents=True, exist_ok=True)
        write_json({"skipped": str(exc)}, out["summary"])
        return
    samples = A.sample_table(inputs.data, calls.table, study.table)
    genes = inputs.data.proteins["gene"]
    pre = preprocess(
        inputs.data, samples["predicted"], min_fraction=settings.min_valid_fraction, valid_in=settings.valid_in, method=settings.normalization,
        impute=settings.impute, impute_width=settings.impute_width, impute_shift=settings.impute_shift, seed=seed,
    )
    values = pre.normalized
    done = {c: A.compare(values, samples, c, settings=settings, genes=genes, seed=seed) for c in comparisons}
    for c, comparison in done.items():
        full = comparison.table.join(comparison.welch.add_prefix("welch_"))
        write_csv(full.rename_axis("protein").reset_index(), out[f"de_{c}"])
        write_csv(comparison.ora, out[f"ora_{c}"])
        write_csv(comparison.gsea, out[f"gsea_{c}"])
        write_csv(running_score_table(comparison.gsea, comparison.gsea_result, comparison.ranking), out[f"running_{c}"])
    first = done[comparisons[0]]
    recovery = None
    if inputs.planted is not None:
        recovery = A.planted_recovery(first.table, first.table["gene"], inputs.planted, fdr=settings.fdr, min_abs_log2_fc=settings.min_abs_log2_fc)
    names = {"predicted": "predicted eCRS vs non-eCRS", "label": "eCRS vs non-eCRS (label)"}
    summary = A.summary_table({names.get(c, c): done[c] for c in comparisons}, planted=inputs.planted, fdr=settings.fdr, pathway=CHEMOKINE_PATHWAY)
    write_csv(samples, out["samples"], index=True)
    write_csv(pre.log2_raw, out["log2_raw"], index=True)
    write_csv(values, out["normalized"], index=True)
    write_csv(pre.steps, out["steps"])
    write_csv(dysregulated_definitions(first.table, planted=inputs.planted), out["definitions"], index=True)
    write_csv(A.limma_vs_welch(first, fdr=settings.fdr), out["limma_welch"], index=True)
    write_csv(inputs.planted if inputs.planted is not None else pd.DataFrame(columns=["gene"]), out["planted"])
    write_csv(A.planted_pathway_ranks(first, inputs.planted_pathways), out["planted_pathways"], index=True)
    write_json({
        "threshold": calls.threshold, "samples": len(samples), "patients": int(samples["patient_id"].nunique()), "proteins": int(inputs.data.n_proteins),
        "proteins_tested": len(first.table), "synthetic": inputs.synthetic, "source": None if inputs.synthetic else inputs.data.source.name,
        "dropped_samples": len(samples.attrs["dropped"]), "missing_share": float(pre.log2_raw.isna().to_numpy().mean()), "imputed_share": float(pre.share_imputed),
        "covariates": {c: list(done[c].covariates) for c in comparisons}, "dysregulated": {c: done[c].n_dysregulated for c in comparisons},
        "pathway": CHEMOKINE_PATHWAY, "recovery": recovery, "summary": summary.reset_index().to_dict(orient="records"),
    }, out["summary"])


def chapter_claims(chapter: str, *, inputs: Mapping[str, Path], config: Any, studies: Mapping[str, LoadedStudy]) -> list[dict[str, Any]]:
    """The claim rows one chapter reproduces, from the artefacts its claims job reads.

    ``01_cohort``: the loaded ``studies``; ``04_integrated_model``: the integrated model's
    ``auc`` and ``operating_points`` tables; ``07_proteomics``: its ``summary`` and
    ``gsea`` table (none when the chapter was skipped for lack of proteomics). ``config``: the claims
    job's declared parameters (``ecrs_analysis.config.declared``; ``omics.fdr`` for chapter 07).
    """
    import json

    from ecrs_analysis.report import claims as C  # lazy: loads scipy, sklearn

    if chapter == "01_cohort":
        return C.cohort_claims(studies)
    if chapter == "04_integrated_model":
        return C.integrated_claims(read_indexed(inputs["auc"], levels=2), read_indexed(inputs["operating_points"], levels=2))
    if chapter == "07_proteomics":
        summary = json.loads(Path(inputs["summary"]).read_text(encoding="utf-8"))
        if "skipped" in summary:
            return []
        return C.proteomics_claims(
            patients=summary["patients"], dysregulated=summary["dysregulated"]["predicted"], gsea=pd.read_csv(inputs["gsea"]),
            pathway=summary["pathway"], fdr=config.omics.fdr, synthetic=bool(summary["synthetic"]),
        )
    raise ValueError(f"no claims job for chapter {chapter!r}; chapters with one: 01_cohort, 04_integrated_model, 07_proteomics")
