"""The ``stats`` section of the parameters: resamples, alpha and the threshold rule of every statistic."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ecrs_analysis.settings_base import Section, problems

__all__ = ["StatsSettings"]

Fraction = Annotated[float, Field(gt=0, lt=1)]


class StatsSettings(Section):
    """The ``stats`` section: bootstrap resamples, alpha and the operating-point rule (no values of its own)."""

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
