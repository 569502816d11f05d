"""Which job writes each chapter's claims file: names only, so that the workflow's rules can be
built without importing the jobs themselves (their statistics stack)."""

from __future__ import annotations

__all__ = ["CLAIMS_JOBS", "MTLNET_CLAIMS_CHAPTER"]

# Chapters whose claims a claims job writes (the other chapters write none, or are reworked in issue 16).
CLAIMS_JOBS = ("01_cohort", "04_integrated_model", "07_proteomics")

MTLNET_CLAIMS_CHAPTER = "05_mtlnet"
"""The chapter whose claims (``claims/05_mtlnet.csv``) the MTLNet evaluation job writes."""
