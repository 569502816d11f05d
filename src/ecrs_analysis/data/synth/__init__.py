"""Embedded synthetic sinus-CT cohort with the two studies' designs and a known ground truth."""

from ecrs_analysis.data.synth.cohort import DESIGNS, generate_cohort

__all__ = ["DESIGNS", "generate_cohort"]
