"""Which networks are explained, and the tables an explanation consists of.

The first study's CNNs (``deep.models``, one network per fold) and MTLNet of the second study (one
network, named after the multitask job's folder).  The workflow's jobs
(:mod:`ecrs_analysis.jobs.explain_rules`) and chapter 06 (:mod:`ecrs_analysis.report.explain_chapter`)
both read the list from here, so the jobs that run and the tables the chapter reads are named once.
"""

from __future__ import annotations

from collections.abc import Sequence

from ecrs_analysis.training.mtl_settings import MULTITASK, VARIANT_FOLDERS

__all__ = ["MTLNET", "CNN_STUDY", "MTLNET_STUDY", "TABLES", "SUMMARY_TABLE", "SUMMARY_TABLES", "explained_networks"]

MTLNET = VARIANT_FOLDERS[MULTITASK]
"""The explanation of MTLNet is named after the multitask job's folder, whose checkpoint and scores it reads."""
CNN_STUDY = "li2025"
"""The study whose CNNs (``deep.models``, one network per fold) are explained."""
MTLNET_STUDY = "mtlnet2025"
"""The study whose MTLNet (one network, trained once) is explained."""

TABLES = (
    "explained.csv", "metrics.csv", "sanity.csv", "deletion.csv", "controls.csv", "attention.csv", "attention_by_outcome.csv",
    "sanity_summary.csv", "deletion_curve.csv", "deletion_area.csv", "layers.csv",
)
"""The tables of the explanation of one network (``<study>/explain/<model>/``), besides its ``maps/``."""
SUMMARY_TABLE = "image_summaries.csv"
SUMMARY_TABLES = (SUMMARY_TABLE, "evidence_definition.csv")
"""The tables of one study's image summaries and evidence definition (``<study>/explain/``)."""


def explained_networks(cnn_models: Sequence[str]) -> list[tuple[str, str]]:
    """(study, network) of every explanation: the first study's CNNs ``cnn_models`` (``deep.models``), then MTLNet."""
    return [(CNN_STUDY, str(m)) for m in cnn_models] + [(MTLNET_STUDY, MTLNET)]
