"""The study sections of the parameters (``studies.<design>``): cohort, split and preprocessing of each study.

Choices come from the one place that defines them: study designs (and the splits each allows)
from ``data.synth.designs.DESIGNS``.  ``config.schema`` composes these models into the profile.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, create_model, field_validator, model_validator

from ecrs_analysis.data.synth.designs import DESIGNS
from ecrs_analysis.settings_base import Section, duplicates, problems

__all__ = ["HEAD_BOX", "SyntheticSettings", "SplitSettings", "PreprocessSettings", "StudySettings", "study_model", "Studies"]

HEAD_BOX = "head_box"
"""``preprocess.crop_to`` value: crop a fixed, head-relative box found from the image alone (no mask)."""
Fraction = Annotated[float, Field(gt=0, lt=1)]
Positive = Annotated[float, Field(gt=0)]
Names = Annotated[list[str], Field(min_length=1)]


class SyntheticSettings(Section):
    n_patients: int = Field(ge=20)
    spacing_scale: Positive
    missing_rate: float = Field(default=0.03, ge=0, lt=1)


_SPLIT_NEEDS = {"center": ("train_centers", "internal_fraction"), "temporal": ("cutoff", "validation_fraction")}


class SplitSettings(Section):
    """How a study's patients are split; which keys a mode needs is checked here, which modes a design allows in :func:`study_model`."""

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


class PreprocessSettings(Section):
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


class StudySettings(Section):
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
        issues = [("centers", f"{c!r} is listed twice") for c in duplicates(self.centers)]
        issues += [("masks", f"{m!r} is listed twice") for m in duplicates(self.masks)]
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


def study_model(design: str) -> type[StudySettings]:
    """:class:`StudySettings` whose ``split.mode`` accepts only the modes the design supports."""
    modes = DESIGNS[design].split_modes
    split = create_model(f"SplitSettings_{design}", __base__=SplitSettings, mode=(Literal[modes], ...))  # type: ignore[arg-type]  # a Literal of the design's modes, built at run time: no static type
    return create_model(f"StudySettings_{design}", __base__=StudySettings, split=(split, ...))


Studies = create_model("Studies", __base__=Section, __doc__="One entry per study design.", **{name: (study_model(name), ...) for name in DESIGNS})  # type: ignore[call-overload]
