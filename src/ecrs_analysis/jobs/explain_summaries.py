"""The explanation's summary job (``rule explain_summaries``): what simple image summaries predict, per study, and the evidence definition.

Writes ``<study>/explain/image_summaries.csv`` (:mod:`ecrs_analysis.explain.summaries`) and
``evidence_definition.csv`` (:func:`ecrs_analysis.explain.evidence.conditional_evidence`; empty
for a real cohort).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ecrs_analysis.atomic import write_csv
from ecrs_analysis.data.study import LoadedStudy, ResultPaths, load_study
from ecrs_analysis.explain.evidence import COLUMNS, conditional_evidence, evidence_definition
from ecrs_analysis.explain.summaries import image_summaries, summary_table
from ecrs_analysis.jobs.explain_rules import MTLNET, job_of

__all__ = ["write_image_summaries"]


def _networks_and_scores(cfg: Any, paths: ResultPaths, study_name: str) -> tuple[list[str], pd.DataFrame]:
    """The networks a study's explanation jobs explain, and their scores (one column per network)."""
    if job_of(study_name, MTLNET).multitask:
        sc = pd.read_csv(paths.job_scores(paths.mtlnet_job(study_name, MTLNET)), dtype={"patient_id": str})
        return [MTLNET], sc[["patient_id", "set", "label", "prob"]].rename(columns={"prob": MTLNET})
    return list(cfg.deep.models), pd.read_csv(paths.scores(study_name, "deep"), dtype={"patient_id": str})


def write_image_summaries(cfg: Any, paths: ResultPaths, study_name: str) -> pd.DataFrame:
    """The workflow job (``rule explain_summaries``): ``<study>/explain/image_summaries.csv`` for a study's test sets and networks, and ``evidence_definition.csv``."""
    study = load_study(cfg, study_name, paths)
    index = pd.read_csv(paths.preprocessed_index(study_name), dtype={"patient_id": str})
    networks, scores = _networks_and_scores(cfg, paths, study_name)
    test_sets = list(study.split.test_names)
    index = index[index["patient_id"].isin(scores.loc[scores["set"].isin(test_sets), "patient_id"])]
    features = image_summaries(index, hu_window=getattr(cfg.studies, study_name).preprocess.hu_window)
    out = summary_table(features, scores[["patient_id", "set", "label", *networks]], networks=networks, sets=test_sets)
    write_csv(out, paths.study(study_name) / "explain" / "image_summaries.csv")
    write_csv(_evidence_table(study), paths.study(study_name) / "explain" / "evidence_definition.csv")
    return out


def _evidence_table(study: LoadedStudy) -> pd.DataFrame:
    """The per-class evidence definition of a synthetic study (:func:`~ecrs_analysis.explain.evidence.conditional_evidence`); empty for a real cohort."""
    if evidence_definition(study) is None:
        return pd.DataFrame(columns=list(COLUMNS))
    return conditional_evidence(study.name)
