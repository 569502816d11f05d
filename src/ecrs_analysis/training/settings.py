"""The ``deep`` section of the parameters: the CNNs of the first study, their folds and training."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from ecrs_analysis.models.names import MODEL_NAMES  # the registry's names, without torch
from ecrs_analysis.settings_base import Section, duplicates, problems

__all__ = ["DeepSettings"]

Fraction = Annotated[float, Field(gt=0, lt=1)]
Positive = Annotated[float, Field(gt=0)]
Names = Annotated[list[str], Field(min_length=1)]


class DeepSettings(Section):
    """The ``deep`` section: which CNNs, their width, folds and training (no values of its own but ``test_scoring``)."""

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
        issues = [(f"[{i}]", f"unknown model {n!r}; valid: {', '.join(MODEL_NAMES)}") for i, n in enumerate(names) if n not in MODEL_NAMES]
        issues += [("", f"{n!r} is listed twice") for n in duplicates(names)]
        problems(issues)
        return names
