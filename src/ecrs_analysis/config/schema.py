"""The schema of ``params/<profile>.yaml``: the whole profile, composed of the domain rooms' section models.

Each domain room owns the model of its section: ``data.settings`` (``studies.<design>``: cohort,
split, preprocessing), ``stats.settings`` (``stats``), ``training.settings`` (``deep``),
``training.mtl_settings`` (``mtlnet``), ``omics.settings`` (``omics``), ``explain.settings``
(``explain``); this module only composes them into :class:`Params` (and re-exports them for the
rooms above ``config``). Types are strict (``epochs: 3.5`` or ``seed: true`` are errors, not silently
converted); rules between fields raise ``settings_base.problems``, one entry per offending key, so that
``config.params`` can report every error as one line naming the dotted key.
"""

from __future__ import annotations

from pydantic import Field

from ecrs_analysis.config.seeds import MAX_TRAINING_SEED
from ecrs_analysis.data.settings import HEAD_BOX, PreprocessSettings, SplitSettings, Studies, StudySettings, SyntheticSettings
from ecrs_analysis.explain.settings import ExplainSettings
from ecrs_analysis.omics.settings import OmicsSettings
from ecrs_analysis.settings_base import RULE_ERROR, Section, problems
from ecrs_analysis.stats.settings import StatsSettings
from ecrs_analysis.training.mtl_settings import MTLNetSettings
from ecrs_analysis.training.settings import DeepSettings

__all__ = [
    "RULE_ERROR", "problems", "HEAD_BOX", "StatsSettings", "DeepSettings", "SyntheticSettings", "SplitSettings",
    "PreprocessSettings", "StudySettings", "Studies", "OmicsSettings", "ExplainSettings", "MTLNetSettings", "Params",
]


class Params(Section):
    """A whole profile.  Sections of other modules are added as optional fields, e.g. ``omics: OmicsSettings | None = None``."""

    seed: int = Field(ge=0)
    training_seed: int = Field(default=0, ge=0, le=MAX_TRAINING_SEED)  # offset of the training randomness only (config.seeds); 0 = the book's numbers
    n_jobs: int = Field(ge=1)
    stats: StatsSettings
    deep: DeepSettings
    studies: Studies
    omics: OmicsSettings | None = None
    explain: ExplainSettings | None = None
    mtlnet: MTLNetSettings | None = None
