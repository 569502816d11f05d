"""The schema of ``params/<profile>.yaml``: one pydantic model per section, checked before anything runs.

Types are strict (``epochs: 3.5`` or ``seed: true`` are errors, not silently converted);
choices come from the one place that defines them: study designs from
``data.synth.designs.DESIGNS``, model names from ``models.names.MODEL_NAMES``.
Rules between fields raise :func:`problems`, one entry per offending key, so that
``book.params`` can report every error as one line naming the dotted key.

Sections defined by other modules plug into :class:`Params` as optional fields
(``omics: OmicsSettings | None = None``); their own validators may raise ``ValueError``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from ecrs_analysis.explain.settings import ExplainSettings
from ecrs_analysis.omics.settings import OmicsSettings
from ecrs_analysis.training.mtl_settings import MTLNetSettings
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ecrs_analysis.config.seeds import MAX_TRAINING_SEED
from ecrs_analysis.data.synth.designs import DESIGNS

__all__ = [
    "RULE_ERROR", "problems", "StatsSettings", "DeepSettings", "SyntheticSettings", "SplitSettings",
    "PreprocessSettings", "StudySettings", "Studies", "Params",
]

RULE_ERROR = "ecrs_rules"

HEAD_BOX = "head_box"
"""``preprocess.crop_to`` value: crop a fixed, head-relative box found from the image alone (no mask)."""
Fraction = Annotated[float, Field(gt=0, lt=1)]
Positive = Annotated[float, Field(gt=0)]
Names = Annotated[list[str], Field(min_length=1)]


def problems(issues: list[tuple[str, str]]) -> None:
    """Raise every broken rule of one model at once: ``[(key relative to the model, what is wrong), ...]``."""
    if issues:
        text = "; ".join(f"{k}: {m}" for k, m in issues)
        raise PydanticCustomError(RULE_ERROR, "{text}", {"text": text, "issues": issues})


def _duplicates(values: list[Any]) -> list[Any]:
    return sorted({v for v in values if values.count(v) > 1}, key=str)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class StatsSettings(_Section):
    n_resamples: int = Field(ge=100)
    roc_band_resamples: int = Field(ge=20)
    alpha: Fraction
    threshold_rule: Literal["youden", "sensitivity", "specificity"]
    threshold_target: Fraction | None = None

    @model_validator(mode="after")
    def _target_for_rule(self) -> StatsSettings:
        if self.threshold_rule != "youden" and self.threshold_target is None:
            problems([("threshold_target", f"threshold_rule {self.threshold_rule} needs a target {self.threshold_rule} in (0, 1), e.g. 0.9; got null")])
        return self


class DeepSettings(_Section):
    models: Names
    width: Positive
    folds: int = Field(ge=2)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: Positive
    weight_decay: float = Field(ge=0)
    patience: int = Field(ge=1)
    validation_fraction: Fraction
    svm_folds: int = Field(ge=2)
    test_scoring: Literal["single", "ensemble"] = "single"

    @field_validator("models")
    @classmethod
    def _registered(cls, names: list[str]) -> list[str]:
        from ecrs_analysis.models.names import MODEL_NAMES  # the registry's names, without torch

        issues = [(f"[{i}]", f"unknown model {n!r}; valid: {', '.join(MODEL_NAMES)}") for i, n in enumerate(names) if n not in MODEL_NAMES]
        issues += [("", f"{n!r} is listed twice") for n in _duplicates(names)]
        problems(issues)
        return names


class SyntheticSettings(_Section):
    n_patients: int = Field(ge=20)
    spacing_scale: Positive
    missing_rate: float = Field(default=0.03, ge=0, lt=1)


_SPLIT_NEEDS = {"center": ("train_centers", "internal_fraction"), "temporal": ("cutoff", "validation_fraction")}


class SplitSettings(_Section):
    """How a study's patients are split; which keys a mode needs is checked here, which modes a design allows in ``_study_model``."""

    mode: Literal["random", "center", "temporal"]
    train_centers: Names | None = None
    internal_fraction: Fraction | None = None
    validation_fraction: Fraction | None = None
    cutoff: Annotated[dt.date | None, Field(strict=False)] = None

    @model_validator(mode="after")
    def _keys_for_mode(self) -> SplitSettings:
        if self.mode == "random":
            given = [k for k in ("internal_fraction", "validation_fraction") if getattr(self, k) is not None]
            if len(given) != 1:
                problems([("mode", f"random needs exactly one of internal_fraction (sets train/internal_test) or validation_fraction (sets train/validation); got {' and '.join(given) or 'neither'}")])
        else:
            needs = _SPLIT_NEEDS[self.mode]
            problems([(k, f"split mode {self.mode} needs {' and '.join(needs)}; {k} is missing") for k in needs if getattr(self, k) is None])
        return self


class PreprocessSettings(_Section):
    spacing_mm: Annotated[list[Positive], Field(min_length=3, max_length=3)]
    hu_window: Annotated[list[float], Field(min_length=2, max_length=2)]
    margin_mm: float = Field(ge=0)
    input_size: Annotated[list[Annotated[int, Field(ge=8)]], Field(min_length=3, max_length=3)]
    crop_to: str | None
    head_box: Annotated[list[Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=3, max_length=3)]], Field(min_length=2, max_length=2)] | None = None
    """With ``crop_to: head_box``: [[x0, y0, z0], [x1, y1, z1]], the sub-box of the head's bounding box (fractions, RAS
    index order) that holds the paranasal sinuses; chosen on training anatomy only (``data.preprocess.head_box_select``)."""

    @model_validator(mode="after")
    def _box(self) -> PreprocessSettings:
        issues = []
        if self.crop_to == HEAD_BOX and self.head_box is None:
            issues.append(("head_box", "crop_to: head_box needs head_box: [[x0, y0, z0], [x1, y1, z1]] (fractions of the head's bounding box)"))
        if self.head_box is not None and not all(lo < hi for lo, hi in zip(*self.head_box)):
            issues.append(("head_box", f"each lower fraction must be below its upper one; got {self.head_box}"))
        problems(issues)
        return self

    @field_validator("hu_window")
    @classmethod
    def _ordered(cls, hw: list[float]) -> list[float]:
        problems([("", f"must be [low, high] with low < high; got {hw}")] if hw[0] >= hw[1] else [])
        return hw


class StudySettings(_Section):
    manifest: str | None = None
    dictionary: str | None = None
    split_file: str | None = None
    centers: Names
    masks: Names
    synthetic: SyntheticSettings
    split: SplitSettings
    preprocess: PreprocessSettings

    @field_validator("manifest", "dictionary", "split_file")
    @classmethod
    def _exists(cls, path: str | None) -> str | None:
        if path is not None and not Path(path).is_file():
            problems([("", f"file {path} not found; give an existing file or null")])
        return path

    @model_validator(mode="after")
    def _consistent(self) -> StudySettings:
        issues = [("centers", f"{c!r} is listed twice") for c in _duplicates(self.centers)]
        issues += [("masks", f"{m!r} is listed twice") for m in _duplicates(self.masks)]
        crop = self.preprocess.crop_to
        if crop is not None and crop != HEAD_BOX and crop not in self.masks:
            issues.append(("preprocess.crop_to", f"{crop!r} is not one of the study's masks {self.masks}; use one of them, head_box (a fixed sub-box of the head) or null (the whole head)"))
        if self.split.mode == "center" and self.split.train_centers:
            unknown = [c for c in self.split.train_centers if c not in self.centers]
            if unknown:
                issues.append(("split.train_centers", f"{unknown} not among the study's centers {self.centers}"))
            elif set(self.centers) <= set(self.split.train_centers):
                issues.append(("split.train_centers", f"{self.split.train_centers} takes every centre; leave at least one of {self.centers} for the external test"))
        problems(issues)
        return self


def _study_model(design: str) -> type[StudySettings]:
    """:class:`StudySettings` whose ``split.mode`` accepts only the modes the design supports."""
    modes = DESIGNS[design].split_modes
    split = create_model(f"SplitSettings_{design}", __base__=SplitSettings, mode=(Literal[modes], ...))  # type: ignore[valid-type]
    return create_model(f"StudySettings_{design}", __base__=StudySettings, split=(split, ...))


Studies = create_model("Studies", __base__=_Section, __doc__="One entry per study design.", **{name: (_study_model(name), ...) for name in DESIGNS})  # type: ignore[call-overload]


class Params(_Section):
    """A whole profile.  Sections of other modules are added as optional fields, e.g. ``omics: OmicsSettings | None = None``."""

    seed: int = Field(ge=0)
    training_seed: int = Field(default=0, ge=0, le=MAX_TRAINING_SEED)  # offset of the training randomness only (config.seeds); 0 = the book's numbers
    n_jobs: int = Field(ge=1)
    stats: StatsSettings
    deep: DeepSettings
    studies: Studies  # type: ignore[valid-type]
    omics: OmicsSettings | None = None
    explain: ExplainSettings | None = None
    mtlnet: MTLNetSettings | None = None
