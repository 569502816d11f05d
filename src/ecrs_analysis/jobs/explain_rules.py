"""The explanation's workflow jobs, named without importing torch: which (study, model) jobs, their inputs, outputs, parameters.

The job bodies are :mod:`ecrs_analysis.jobs.explain`; what they compute, :mod:`ecrs_analysis.explain`.

``workflow/rules/explain.smk`` and the chapter's inputs (``{explain_outputs}`` in
``workflow/chapters.yaml``) read these, so the job list, the files a job writes and the files
chapter 06 reads are written in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecrs_analysis.explain.networks import CNN_STUDY, MTLNET, MTLNET_STUDY, SUMMARY_TABLE, SUMMARY_TABLES, TABLES, explained_networks
from ecrs_analysis.paths import ResultPaths

__all__ = ["MTLNET", "CNN_STUDY", "MTLNET_STUDY", "ExplainJob", "job_of", "TABLES", "SUMMARY_TABLE", "SUMMARY_TABLES", "explain_jobs", "job_inputs", "job_outputs", "job_params", "summary_inputs", "summary_params", "chapter_inputs"]

@dataclass(frozen=True)
class ExplainJob:
    """One explanation job: what differs between the studies' networks, decided here once.

    Attributes
    ----------
    study, model : str
        The job's wildcards.
    multitask : bool
        MTLNet (one network with its own width, ``mtlnet`` parameters and scores table, scored
        by that one network) rather than a CNN of ``deep.models`` (a network per fold, the
        deep scores table, ``deep.test_scoring``).
    """

    study: str
    model: str
    multitask: bool

    @property
    def own_params(self) -> str:
        """The parameter section of the network: ``mtlnet`` or ``deep``."""
        return "mtlnet" if self.multitask else "deep"


def job_of(study: str, model: str) -> ExplainJob:
    """The job of a (study, model) pair of :func:`explain_jobs`; an unknown study raises, naming the two that are explained."""
    if study not in (CNN_STUDY, MTLNET_STUDY):
        raise ValueError(f"no explanation job for study {study!r}: the explained studies are {CNN_STUDY} (its CNNs) and {MTLNET_STUDY} ({MTLNET})")
    return ExplainJob(study, model, multitask=study == MTLNET_STUDY and model == MTLNET)


_REL = ResultPaths(Path())  # paths relative to results/<profile>/, as the rules and workflow/chapters.yaml write them


def _data(study: str) -> list[str]:
    # load_study reads the cohort table beside cohort.json
    return [str(_REL.cohort_meta(study)), str(_REL.cohort_table(study)), str(_REL.split(study)), str(_REL.preprocessed_index(study))]


def explain_jobs(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(study, model) of every explanation job: the first study's CNNs and MTLNet (:func:`~ecrs_analysis.explain.networks.explained_networks`)."""
    return explained_networks(params["deep"]["models"])


def job_inputs(params: Mapping[str, Any], study: str, model: str) -> list[str]:
    """Artefacts (relative to ``results/<profile>/``) a job reads: the study, the scores and every checkpoint it loads
    (deleting a checkpoint re-trains it and re-explains the network)."""
    common = _data(study)
    if job_of(study, model).multitask:
        job = _REL.mtlnet_job(study, MTLNET)
        return common + [str(_REL.job_scores(job)), str(_REL.checkpoint(job))]
    folds = range(int(params["deep"]["folds"]))
    return common + [str(_REL.folds(study)), str(_REL.scores(study, "deep"))] + [str(_REL.checkpoint(_REL.fold(study, model, k))) for k in folds]


def job_outputs(study: str, model: str) -> list[str]:
    """The tables one job writes, and its ``maps/`` folder (a directory output)."""
    return [f"{study}/explain/{model}/{t}" for t in TABLES] + [f"{study}/explain/{model}/maps"]


def job_params(study: str) -> tuple[str, ...]:
    """The parameters a job of ``study`` reads (dotted keys)."""
    own = job_of(study, MTLNET).own_params  # a study's jobs all read the same section: li2025's CNNs deep, MTLNet mtlnet
    return ("seed", "stats", "explain", own, f"studies.{study}")


def summary_inputs(study: str) -> list[str]:
    """What a study's summary job reads: the study and the scores of every network it explains."""
    scores = _REL.job_scores(_REL.mtlnet_job(study, MTLNET)) if job_of(study, MTLNET).multitask else _REL.scores(study, "deep")
    return _data(study) + [str(scores)]


def summary_params(study: str) -> tuple[str, ...]:
    """The parameters a study's summary job reads: the CNNs' names where it explains CNNs."""
    return (f"studies.{study}",) if job_of(study, MTLNET).multitask else ("deep.models", f"studies.{study}")


def chapter_inputs(params: Mapping[str, Any]) -> list[str]:
    """Everything chapter 06 reads from the explanation jobs: every job's tables and maps, and the summaries."""
    out = [f for study, model in explain_jobs(params) for f in job_outputs(study, model)]
    return out + [f"{s}/explain/{t}" for s in (CNN_STUDY, MTLNET_STUDY) for t in SUMMARY_TABLES]
