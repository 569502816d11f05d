"""Embedded synthetic sinus-CT cohort with the two studies' designs and a known ground truth.

``designs`` holds the designs (light); ``cohort`` generates a cohort (imports the imaging stack).
The names below are loaded on first use, so importing ``data.synth.designs`` stays light.
"""

from typing import Any

__all__ = ["DESIGNS", "generate_cohort"]


def __getattr__(name: str) -> Any:
    if name == "DESIGNS":
        from ecrs_analysis.data.synth.designs import DESIGNS  # lazy: a package attribute loaded on first use

        return DESIGNS
    if name == "generate_cohort":
        from ecrs_analysis.data.synth.cohort import generate_cohort  # lazy: loads SimpleITK, scipy, sklearn

        return generate_cohort
    raise AttributeError(name)
