"""The computation behind chapter 05 (MTLNet), one workflow job: every table the chapter shows, and its claims.

:func:`mtlnet_evaluation_job` reads the MTLNet training jobs (``training.mtl.load_jobs``), checks
that the classifier learned (``stats.learning``) before any classification statistic is
written, and writes exactly the files its rule names (``out``: output name -> path).  The
chapter only reads them.  Classification metrics of a classifier that did not learn are
written as missing, with the reason, never as numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ecrs_analysis.atomic import write_csv
from ecrs_analysis.training.mtl_settings import MULTITASK

if TYPE_CHECKING:  # the workflow's rules import this module's names: no imaging stack at parse time
    from ecrs_analysis.data.study import LoadedStudy

__all__ = ["MTLNET_TABLES", "CLAIMS_CHAPTER", "mtlnet_evaluation_job", "mtlnet_ceiling_test"]

CLAIMS_CHAPTER = "05_mtlnet"
"""The chapter whose claims (``claims/05_mtlnet.csv``) this job writes."""

MTLNET_TABLES = ("segmentation", "auc", "operating_point", "unpaired_delong", "ablation", "headline", "reported_vs_reproduced", "ceilings", "learning", "sizes", "ceiling_test")
"""Tables the job writes (``<name>.csv``), besides the claims."""


def mtlnet_evaluation_job(
    study: LoadedStudy, runs: Mapping[str, Any], *, n_resamples: int, seed: int, rule: str, target: float | None, width: float, input_size: Sequence[int],
    out: Mapping[str, Path],
) -> None:
    """Evaluate the MTLNet jobs of a profile and write the chapter's tables and claims.

    Parameters
    ----------
    study : LoadedStudy
        The MTLNet cohort and its split (training, validation, external).
    runs : mapping
        Variant -> :class:`~ecrs_analysis.training.mtl.MTLNetRun` (``"multitask"`` first).
    n_resamples, seed, rule, target
        The ``stats`` settings: bootstrap resamples, seed, the operating-point rule and its target.
    width, input_size
        ``mtlnet.width`` and the study's input size: the ``sizes`` table (parameters and GFLOPs
        at this width and at the published one).
    out : mapping
        Output name -> path: each of :data:`MTLNET_TABLES` and ``claims``.
    """
    from ecrs_analysis.report.claims import metric_claims, write_claims
    from ecrs_analysis.report.paper import MTLNET_REPORTED, reported_vs_reproduced
    from ecrs_analysis.data.study import IMAGE_CEILING, LATENT_CEILING, ceiling_auc
    from ecrs_analysis.stats import evaluate
    from ecrs_analysis.training.mtl import ablation_table, learning_of

    sets = list(study.split.names)
    train_set = study.split.train_name
    main = runs[MULTITASK]
    learning = learning_of(main)
    learned = learning is None or learning.learned
    scores = main.scores
    write_csv(evaluate.segmentation_table(scores, sets=sets, n_resamples=n_resamples, seed=seed), out["segmentation"], index=True)
    not_computable = ""
    if learned:
        try:
            pairs = [(a, b) for a, b in zip(sets[1:], sets[2:])]
            classification = {
                "auc": evaluate.auc_table(scores, ["prob"], sets=sets, n_resamples=n_resamples, seed=seed),
                "operating_point": evaluate.operating_table(scores, ["prob"], threshold_set=train_set, sets=sets, rule=rule, target=target),
                "unpaired_delong": evaluate.unpaired_delong_table(scores, ["prob"], pairs=pairs),
            }
        except ValueError as exc:  # a set too small for the statistic (e.g. one case): said, not a failed job
            not_computable = str(exc)
    if learned and not not_computable:
        for name, table in classification.items():
            write_csv(table, out[name], index=True)
    else:
        why = "the classifier did not learn" if not learned else f"not computable on these sets: {not_computable}"
        for name in ("auc", "operating_point", "unpaired_delong"):
            write_csv(pd.DataFrame({"note": [f"{why}: no classification statistic is reported"]}), out[name])
    ablation, indexed = pd.DataFrame({"note": ["the ablation is off in this profile (mtlnet.ablation: false)"]}), False
    if len(runs) > 1:
        try:
            ablation, indexed = ablation_table(runs, sets=sets, n_resamples=n_resamples, seed=seed), True
        except ValueError as exc:  # a set too small for the statistic: said in the table, not a failed job
            ablation = pd.DataFrame({"note": [f"not computable on these sets: {exc}"]})
    write_csv(ablation, out["ablation"], index=indexed)
    try:
        headline = evaluate.headline_metrics(scores, threshold_set=train_set, sets=sets, n_resamples=n_resamples, seed=seed, rule=rule, target=target)
    except ValueError as exc:
        not_computable = not_computable or str(exc)
        headline = pd.DataFrame(columns=["value", "CI low", "CI high"], index=pd.MultiIndex.from_tuples([], names=["set", "metric"]))
    write_csv(headline, out["headline"], index=True)
    ceiling = ceiling_auc(study)
    write_csv(reported_vs_reproduced(MTLNET_REPORTED, headline, ceiling=ceiling, learned=learned), out["reported_vs_reproduced"], index=True)
    write_csv(ceiling if ceiling is not None else pd.DataFrame({"note": ["a real cohort has no known ceiling"]}), out["ceilings"], index=ceiling is not None)
    write_csv(pd.DataFrame([{
        "learned": learned, "why not": "" if learning is None else learning.reason,
        "score SD (training and validation)": None if learning is None else learning.score_sd,
        "best training classification loss": None if learning is None else learning.best_train_loss,
        "constant predictor's loss": None if learning is None else learning.constant_train_loss,
        "best epoch": main.info.get("best_epoch"), "epochs run": main.info.get("epochs_run"), "early stopping on": main.info.get("monitor"),
        "not computable": not_computable,
    }]), out["learning"])
    from ecrs_analysis.models import size_table

    write_csv(size_table(("mtlnet",), widths=tuple(sorted({float(width), 1.0})), input_size=tuple(input_size)), out["sizes"], index=True)
    # MTLNet sees only the CT: its AUC is compared with the image-only ceiling, not the latent one
    image_ceiling = None if ceiling is None else ceiling[IMAGE_CEILING if IMAGE_CEILING in ceiling else LATENT_CEILING]
    note = "bootstrap 95% CI; ceiling: the image-only ceiling (what the CT shows)" if ceiling is not None else "bootstrap 95% CI"
    write_claims(Path(out["claims"]).parents[1], CLAIMS_CHAPTER, metric_claims(headline, study="mtlnet2025", note=note, auc_ceiling=image_ceiling, learning=learning), path=out["claims"])
    ceiling_test = mtlnet_ceiling_test(study, scores, train_set=train_set, learned=learned, n_resamples=n_resamples, seed=seed)
    write_csv(ceiling_test, out["ceiling_test"], index="note" not in ceiling_test)


def mtlnet_ceiling_test(study: LoadedStudy, scores: pd.DataFrame, *, train_set: str, learned: bool, n_resamples: int, seed: int) -> pd.DataFrame:
    """MTLNet's AUC against the image-only ceiling on the same patients, per set (``evaluate.ceiling_table``).

    The ceiling is a population bound estimated on each set: the paired DeLong ΔAUC (MTLNet −
    ceiling) with its 95% CI and (AUC − 0.5)/(ceiling − 0.5) with a paired bootstrap CI say how
    far MTLNet is from it; ``scores`` marks the training rows in-sample (MTLNet was fitted on
    those patients). One ``note`` row on a real cohort, or when the classifier did not learn.
    """
    from ecrs_analysis.stats import evaluate

    truth = study.cohort.truth
    if truth is None or "image_prob" not in truth:
        return pd.DataFrame({"note": ["a real cohort has no known ceiling"]})
    if not learned:
        return pd.DataFrame({"note": ["the classifier did not learn: no comparison with the ceiling"]})
    table = scores.astype({"patient_id": str}).merge(truth[["patient_id", "image_prob"]].astype({"patient_id": str}), on="patient_id", how="left")
    try:
        out = evaluate.ceiling_table(table.dropna(subset=["prob", "image_prob"]), ["prob"], ceiling="image_prob", sets=list(study.split.names), n_resamples=n_resamples, seed=seed)
    except ValueError as exc:  # a set too small for the statistic: said, not a failed job
        return pd.DataFrame({"note": [f"not computable on these sets: {exc}"]})
    out = out.rename(index={"prob": "mtlnet"}, level="model")
    return out.assign(ceiling="image_prob", scores=evaluate.score_origin(out, train_set=train_set, in_sample=["mtlnet"]))
