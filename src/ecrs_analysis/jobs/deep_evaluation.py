"""The computation behind chapter 03 (the three CNNs), one workflow job: did each network learn, and its AUCs beside the ceilings.

:func:`deep_evaluation_job` writes exactly the files its rule names (``out``: output name -> path):

- ``learning``: per network, whether it learned (``stats.learning.check_fold_models``: every
  fold's training loss below the constant predictor's, out-of-fold scores that vary and beat
  chance on the patients each fold's network never saw);
- ``auc``: the AUC of each network that learned, per set, with DeLong and bootstrap CIs, and on
  a synthetic cohort the two ceilings as rows of the same table: ``image_prob`` (P(label |
  what the CT shows), the population bound of a CT-only network, estimated on each set with
  its own error) and ``true_prob`` (P(label | latent inflammation)); the ``scores`` column says
  the training rows are out-of-fold (k-fold: each fold's network scores only its held-out fold);
- ``ceiling``: each network that learned against the image-only ceiling on the same patients
  (``evaluate.ceiling_table``: paired DeLong ΔAUC with its CI, (AUC − 0.5)/(ceiling − 0.5) with a
  paired bootstrap CI; empty on a real cohort);
- ``throughput``: training volumes per second of each network (median epoch);
- ``sizes``: parameters and GFLOPs of each network at the run's width and at the published
  width, for the run's input size (``models.size_table``; computed here so that the chapter only reads).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ecrs_analysis.atomic import write_csv

if TYPE_CHECKING:  # the workflow's rules import this module's names: no imaging stack at parse time
    from ecrs_analysis.data.study import LoadedStudy

__all__ = ["CEILING_MODELS", "DEEP_TABLES", "deep_evaluation_job"]

DEEP_TABLES = ("learning", "auc", "ceiling", "throughput", "sizes")
"""Tables the job writes (``tables/li2025_deep_<name>.csv``)."""

CEILING_MODELS = ("image_prob", "true_prob")
"""Generator columns shown beside the networks as the image-only and the latent ceiling (synthetic cohorts only)."""


def deep_evaluation_job(
    study: LoadedStudy, scores: pd.DataFrame, histories: pd.DataFrame, *, models: Sequence[str], n_resamples: int, seed: int,
    width: float, input_size: Sequence[int], out: Mapping[str, Path],
) -> None:
    """Check that each CNN learned, then its AUCs per set beside the ceilings, its throughput and its size."""
    from ecrs_analysis.stats import evaluate  # lazy: loads scipy, sklearn, statsmodels
    from ecrs_analysis.stats.learning import check_fold_models, learning_table  # lazy: loads sklearn

    train_set = study.split.train_name
    checks = check_fold_models(scores, histories, models=models, train_set=train_set)
    write_csv(learning_table(checks), out["learning"], index=True)
    learned = [m for m in models if checks[m].learned]
    table = scores
    truth = study.cohort.truth
    ceilings: list[str] = []
    if truth is not None:
        ceilings = [c for c in CEILING_MODELS if c in truth]
        table = scores.merge(truth[["patient_id", *ceilings]], on="patient_id", how="left")
    shown = [*learned, *ceilings]
    if shown:
        aucs = evaluate.auc_table(table, shown, sets=list(study.split.names), n_resamples=n_resamples, seed=seed)
        aucs = aucs.assign(scores=evaluate.score_origin(aucs, train_set=train_set), **{"AUC CI": "DeLong (low/high: DeLong; bootstrap: stratified percentile)"})
    else:  # no network learned, and a real cohort has no ceilings: the table has its columns and no row
        aucs = pd.DataFrame(columns=["set", "model", "n", "AUC", "DeLong low", "DeLong high", "bootstrap low", "bootstrap high", "scores", "AUC CI"]).set_index(["set", "model"])
    write_csv(aucs, out["auc"], index=True)
    if learned and "image_prob" in ceilings:
        ceiling = evaluate.ceiling_table(table, learned, ceiling="image_prob", sets=list(study.split.names), n_resamples=n_resamples, seed=seed)
        ceiling = ceiling.assign(ceiling="image_prob", scores=evaluate.score_origin(ceiling, train_set=train_set))
    else:
        ceiling = pd.DataFrame(columns=["set", "model", *evaluate.CEILING_COLUMNS, "ceiling", "scores"]).set_index(["set", "model"])
    write_csv(ceiling, out["ceiling"], index=True)
    throughput = histories.groupby("model")["volumes_per_s"].median().rename("training volumes/s (median epoch)").to_frame()
    write_csv(throughput, out["throughput"], index=True)
    from ecrs_analysis.models import size_table  # lazy: loads torch and MONAI (models.registry); the rules import this module

    write_csv(size_table(tuple(models), widths=tuple(sorted({float(width), 1.0})), input_size=tuple(input_size)), out["sizes"], index=True)
