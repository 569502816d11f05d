"""Every number the two studies' abstracts state, and what this run reproduced for each.

Five modules: :mod:`.registry` (what the papers state), :mod:`.rows` (claim rows from the
analysis tables), :mod:`.store` (the claims files), :mod:`.verdicts` (reported against
reproduced) and :mod:`.rendering` (the landing page's table).

The registry :data:`REPORTED` holds one :class:`Claim` per number (or finding) of the two
abstracts, with the sentence it comes from and the chapter that reproduces it. A chapter
writes its reproduced values with :func:`write_claims` into
``results/<profile>/claims/<chapter>.csv`` (declared among its ``outputs`` in
``workflow/chapters.yaml``); the landing page reads every such file with
:func:`collect_claims` and lays reported beside reproduced (:func:`claims_table`). A claim
whose chapter did not run shows as *not run*, never as a blank.

Reported values are only ever displayed: nothing in the analysis reads them.
"""

from ecrs_analysis.report.claims.registry import BY_ID, REPORTED, SHORT_TITLES, STUDY_TITLES, Claim, Kind
from ecrs_analysis.report.claims.rendering import claims_markdown, sources_table
from ecrs_analysis.report.claims.rows import (
    CLASSIFICATION_METRICS, auc_claims, cohort_claims, integrated_claims, metric_claims, operating_claims, proteomics_claims,
)
from ecrs_analysis.report.claims.store import CLAIM_COLUMNS, ClaimError, claims_path, collect_claims, write_claims
from ecrs_analysis.report.claims.verdicts import MARKS, Verdict, claims_table, verdict, verdict_counts

__all__ = [
    "Claim", "Kind", "REPORTED", "BY_ID", "STUDY_TITLES", "SHORT_TITLES", "CLAIM_COLUMNS", "ClaimError", "claims_path", "write_claims",
    "collect_claims", "claims_table", "verdict", "Verdict", "MARKS", "verdict_counts", "auc_claims", "operating_claims", "claims_markdown",
    "sources_table", "cohort_claims", "integrated_claims", "proteomics_claims", "metric_claims", "CLASSIFICATION_METRICS",
]
