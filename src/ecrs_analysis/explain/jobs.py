"""The explanation's workflow jobs, named without importing torch: which (study, model) jobs, their inputs, outputs, parameters.

``workflow/rules/explain.smk`` and the chapter's inputs (``{explain_outputs}`` in
``workflow/chapters.yaml``) read these, so the job list, the files a job writes and the files
chapter 06 reads are written in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecrs_analysis.paths import ResultPaths
from ecrs_analysis.training.mtl_settings import MULTITASK, VARIANT_FOLDERS

__all__ = ["MTLNET", "TABLES", "SUMMARY_TABLE", "SUMMARY_TABLES", "explain_jobs", "job_inputs", "job_outputs", "job_params", "summary_inputs", "summary_params", "chapter_inputs"]

TABLES = (
    "explained.csv", "metrics.csv", "sanity.csv", "deletion.csv", "controls.csv", "attention.csv", "attention_by_outcome.csv",
    "sanity_summary.csv", "deletion_curve.csv", "deletion_area.csv", "layers.csv",
)
"""What one (study, model) job writes under ``<study>/explain/<model>/``, besides ``maps/``."""
SUMMARY_TABLE = "image_summaries.csv"
SUMMARY_TABLES = (SUMMARY_TABLE, "evidence_definition.csv")
"""What one study's summary job writes under ``<study>/explain/``."""


MTLNET = VARIANT_FOLDERS[MULTITASK]
"""The explanation job of MTLNet is named after the multitask job's folder, whose checkpoint and scores it reads."""


_REL = ResultPaths(Path())  # paths relative to results/<profile>/, as the rules and workflow/chapters.yaml write them


def _data(study: str) -> list[str]:
    # load_study reads the cohort table beside cohort.json
    return [str(_REL.cohort_meta(study)), str(_REL.cohort_table(study)), str(_REL.split(study)), str(_REL.preprocessed_index(study))]


def explain_jobs(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(study, model) of every explanation job: the first study's CNNs and MTLNet."""
    return [("li2025", str(m)) for m in params["deep"]["models"]] + [("mtlnet2025", MTLNET)]


def job_inputs(params: Mapping[str, Any], study: str, model: str) -> list[str]:
    """Artefacts (relative to ``results/<profile>/``) a job reads: the study, the scores and every checkpoint it loads
    (deleting a checkpoint re-trains it and re-explains the network)."""
    common = _data(study)
    if study == "mtlnet2025":
        job = _REL.mtlnet_job(study, MTLNET)
        return common + [str(_REL.job_scores(job)), str(_REL.checkpoint(job))]
    folds = range(int(params["deep"]["folds"]))
    return common + [str(_REL.folds(study)), str(_REL.scores(study, "deep"))] + [str(_REL.checkpoint(_REL.fold(study, model, k))) for k in folds]


def job_outputs(study: str, model: str) -> list[str]:
    """The tables one job writes, and its ``maps/`` folder (a directory output)."""
    return [f"{study}/explain/{model}/{t}" for t in TABLES] + [f"{study}/explain/{model}/maps"]


def job_params(study: str) -> tuple[str, ...]:
    """The parameters a job of ``study`` reads (dotted keys)."""
    own = "deep" if study == "li2025" else "mtlnet"
    return ("seed", "stats", "explain", own, f"studies.{study}")


def summary_inputs(study: str) -> list[str]:
    scores = _REL.scores(study, "deep") if study == "li2025" else _REL.job_scores(_REL.mtlnet_job(study, MTLNET))
    return _data(study) + [str(scores)]


def summary_params(study: str) -> tuple[str, ...]:
    return ("deep.models",) + (f"studies.{study}",) if study == "li2025" else (f"studies.{study}",)


def chapter_inputs(params: Mapping[str, Any]) -> list[str]:
    """Everything chapter 06 reads from the explanation jobs: every job's tables and maps, and the summaries."""
    out = [f for study, model in explain_jobs(params) for f in job_outputs(study, model)]
    return out + [f"{s}/explain/{t}" for s in ("li2025", "mtlnet2025") for t in SUMMARY_TABLES]
