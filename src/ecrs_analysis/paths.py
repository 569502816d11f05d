"""Every path a run reads or writes under ``results/<profile>/``, resolved in one place.

    results/<profile>/
        cohorts/<study>-<hash>/        synthetic cohort (manifest + images), keyed by generator parameters
        <study>/cohort.csv, cohort.json, truth.csv, identifiers.json, inputs.json   the validated cohort
        <study>/split.json             the split
        <study>/preprocessed.csv       patient -> cached model input
        <study>/folds.csv, deep/<model>/fold<k>/   CNN fold jobs (li2025)
        <study>/scores_*.csv           per-patient scores of each stage
        cache/preprocessed/<key>.npz   model inputs, keyed by file contents and parameters
        executed/<chapter>.ipynb       chapters as papermill executed them
        provenance/<job>.json          one per workflow job
        book/html                      the staged book
        run_record.json
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ResultPaths", "default_results_dir", "find_reference_ct", "scores_path"]


def default_results_dir(profile: str) -> Path:
    """``results/<profile>`` inside the checkout (or under ``ECRS_RESULTS``)."""
    root = Path(os.environ.get("ECRS_RESULTS", Path.cwd() / "results"))
    return root / profile


@dataclass(frozen=True)
class ResultPaths:
    """Every path a run writes, resolved in one place."""

    root: Path

    def study(self, study: str) -> Path:
        return self.root / study

    def cohort(self, study: str, key: str) -> Path:
        return self.root / "cohorts" / f"{study}-{key}"

    def split(self, study: str) -> Path:
        return self.study(study) / "split.json"

    def inputs(self, study: str) -> Path:
        return self.study(study) / "inputs.json"

    def preprocessed_index(self, study: str) -> Path:
        return self.study(study) / "preprocessed.csv"

    def cohort_table(self, study: str) -> Path:
        return self.study(study) / "cohort.csv"

    def cohort_meta(self, study: str) -> Path:
        return self.study(study) / "cohort.json"

    def truth(self, study: str) -> Path:
        return self.study(study) / "truth.csv"

    def deep(self, study: str) -> Path:
        """Per-(model, fold) training jobs: ``deep/<model>/fold<k>/``."""
        return self.study(study) / "deep"

    @property
    def provenance(self) -> Path:
        return self.root / "provenance"

    @property
    def executed(self) -> Path:
        return self.root / "executed"

    @property
    def cache(self) -> Path:
        return self.root / "cache" / "preprocessed"

    @property
    def run_record(self) -> Path:
        return self.root / "run_record.json"

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    @property
    def figures(self) -> Path:
        return self.root / "figures"


def find_reference_ct() -> Path | None:
    """The real head CT of ``shared/reference/ct`` if present (``ECRS_REFERENCE_CT`` overrides); else None.

    The book's default never depends on it: the comparison section is skipped without it.
    """
    env = os.environ.get("ECRS_REFERENCE_CT")
    candidates = [Path(env)] if env else []
    for base in (Path.cwd(), *Path.cwd().parents):
        candidates.append(base / "shared" / "reference" / "ct" / "invesalius_0051_headCT.nii.gz")
        candidates.append(base.parent / "shared" / "reference" / "ct" / "invesalius_0051_headCT.nii.gz")
    return next((c for c in candidates if c.exists()), None)


def scores_path(paths: ResultPaths, study: str, kind: str) -> Path:
    """Per-patient score table of one stage (``clinical``, ``deep``, ``integrated``)."""
    return paths.study(study) / f"scores_{kind}.csv"
