"""Every path a run reads or writes under ``results/<profile>/``, resolved in one place.

    results/<profile>/
        cohorts/<study>-<hash>/        synthetic cohort (manifest + images), keyed by generator parameters
        <study>/cohort.csv, cohort.json, truth.csv, identifiers.json, inputs.json   the validated cohort
        <study>/split.json             the split
        <study>/preprocessed.csv       patient -> cached model input
        <study>/folds.csv, deep/<model>/fold<k>/   CNN fold jobs (li2025)
        <study>/scores_*.csv           per-patient scores of each stage
        <study>/clinical/*.csv         the clinical signature's tables (li2025)
        <study>/integrated_model.json  the integrated SVM's chosen settings (li2025)
        <study>/omics/*                proteomics comparison tables (li2025)
        tables/<study>_*.csv           Table 1 and the performance tables the chapters show
        claims/<chapter>.csv           the claims each chapter reproduces
        cache/preprocessed/<key>.npz   model inputs, keyed by file contents and parameters
        executed/<chapter>.ipynb       chapters as papermill executed them
        provenance/<job>.json          one per workflow job
        book/html                      the staged book
        run_record.json
        spread/seed-<k>/               `ecrs spread`: one workflow run per training seed (headline tables only)
        tables/seed_spread.csv, .json  their headline metrics over the seeds, and how they were made
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ecrs_analysis.checkout import CheckoutError, checkout_root

__all__ = [
    "ResultPaths", "default_results_dir", "results_base", "last_built_profile", "find_reference_ct", "scores_path", "OMICS_COMPARISONS",
    "CHECKPOINT", "LAST_CHECKPOINT", "HISTORY", "JOB_SCORES", "JOB_INFO", "PREDICTED_MASKS",
]

# What a training job (a CNN fold, an MTLNet variant) writes into its own folder, named once here.
CHECKPOINT = "best.pt"
"""Weights of the epoch early stopping chose."""
LAST_CHECKPOINT = "last.pt"
"""Weights and optimiser state of the last epoch (a killed job resumes from it)."""
HISTORY = "history.csv"
"""One row per epoch."""
JOB_SCORES = "scores.csv"
"""One row per patient the job scored."""
JOB_INFO = "job.json"
"""Settings, seed, best epoch and the did-it-learn verdict of an MTLNet job."""
PREDICTED_MASKS = "masks.npz"
"""Predicted masks of an MTLNet job with a segmentation head."""

# The two proteomics comparisons of chapter 07: the integrated model's calls, and the true endotype.
OMICS_COMPARISONS = ("predicted", "label")


def results_base() -> Path:
    """``results/`` of the checkout the command runs in (``ECRS_RESULTS`` overrides it).

    Resolved against the checkout, not the working folder: a notebook opened in JupyterLab
    runs with ``notebooks/`` as its working folder and must find the same results.
    """
    env = os.environ.get("ECRS_RESULTS")
    if env:
        return Path(env)
    try:
        return checkout_root() / "results"
    except CheckoutError:
        return Path.cwd() / "results"


def default_results_dir(profile: str) -> Path:
    """``results/<profile>`` inside the checkout (or under ``ECRS_RESULTS``)."""
    return results_base() / profile


def last_built_profile(default: str = "demo") -> str:
    """The profile whose run finished last (newest ``results/<profile>/run_record.json``); ``default`` if none."""
    records = sorted(results_base().glob("*/run_record.json"), key=lambda p: p.stat().st_mtime)
    return records[-1].parent.name if records else default


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

    def fold(self, study: str, model: str, fold: int | str) -> Path:
        """One CNN training job's folder: ``deep/<model>/fold<k>/`` (``best.pt``, ``scores.csv``, ``history.csv``)."""
        return self.deep(study) / str(model) / f"fold{fold}"

    def checkpoint(self, folder: Path) -> Path:
        """The best checkpoint a training job writes into its folder."""
        return Path(folder) / CHECKPOINT

    def job_scores(self, folder: Path) -> Path:
        """The per-patient scores a training job writes into its folder."""
        return Path(folder) / JOB_SCORES

    def mtlnet_job(self, study: str, folder: str) -> Path:
        """One MTLNet job's folder (``training.mtl_settings.VARIANT_FOLDERS`` names them)."""
        return self.study(study) / folder

    def folds(self, study: str) -> Path:
        return self.study(study) / "folds.csv"

    def scores(self, study: str, kind: str) -> Path:
        """Per-patient score table of one stage (``clinical``, ``deep``, ``integrated``)."""
        return self.study(study) / f"scores_{kind}.csv"

    def histories(self, study: str) -> Path:
        return self.study(study) / "histories_deep.csv"

    def table1(self, study: str, by: str) -> Path:
        """Table 1 of a study ``by`` set or endotype."""
        return self.tables / f"{study}_table1_by_{by}.csv"

    def clinical(self, study: str, name: str) -> Path:
        """The clinical signature's tables: ``univariable``, ``signature``, ``imputed``."""
        return self.study(study) / "clinical" / f"{name}.csv"

    def performance(self, study: str, model: str, what: str) -> Path:
        """``tables/<study>_<model>_<what>.csv``: ``auc``, ``operating_points``, ``threshold_held_out``."""
        return self.tables / f"{study}_{model}_{what}.csv"

    def explain_view(self, study: str, what: str) -> Path:
        """Chapter 06's computed views of a study: ``mean_maps``, ``surfaces`` or ``examples`` (``.npz``, the explanation views job)."""
        return self.study(study) / "explain" / f"view_{what}.npz"

    def hu_tissues(self, study: str) -> Path:
        """HU by tissue of a study's first synthetic phantom beside the real reference head CT (chapter 01; empty without it)."""
        return self.tables / f"{study}_hu_tissues.csv"

    @property
    def phantom_volumes(self) -> Path:
        """Sinus air volumes of sampled phantom anatomies beside adult CT volumetry (chapter 01)."""
        return self.tables / "phantom_volumes.csv"

    def integrated_model(self, study: str) -> Path:
        """The integrated SVM's features and chosen settings."""
        return self.study(study) / "integrated_model.json"

    def omics(self, study: str) -> Path:
        return self.study(study) / "omics"

    def omics_table(self, study: str, name: str, comparison: str | None = None) -> Path:
        """A proteomics table: ``de``, ``ora``, ``gsea``, ``running`` per comparison; ``samples``, ``log2_raw``,
        ``normalized``, ``steps``, ``definitions`` once."""
        return self.omics(study) / (f"{name}_{comparison}.csv" if comparison else f"{name}.csv")

    def omics_summary(self, study: str) -> Path:
        return self.omics(study) / "summary.json"

    def claims(self, chapter: str) -> Path:
        """The claims one chapter reproduces."""
        return self.root / "claims" / f"{chapter}.csv"

    def executed_notebook(self, chapter: str) -> Path:
        return self.executed / f"{chapter}.ipynb"

    def prov(self, job: str) -> Path:
        return self.provenance / f"{job}.json"

    def log(self, job: str) -> Path:
        return self.root / "logs" / f"{job}.log"

    def relative(self, path: Path) -> str:
        """``path`` under the results folder, as ``workflow/chapters.yaml`` writes it."""
        return Path(path).relative_to(self.root).as_posix()

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

    def spread_run(self, offset: int) -> Path:
        """The results folder of one run of ``ecrs spread``: the workflow under training seed ``offset``."""
        return self.root / "spread" / f"seed-{int(offset)}"

    @property
    def seed_spread(self) -> Path:
        """``ecrs spread``'s table: each headline metric's mean, SD and range over the training seeds."""
        return self.tables / "seed_spread.csv"

    @property
    def seed_spread_record(self) -> Path:
        """How the spread table was made: seeds, commit, CPU, torch."""
        return self.tables / "seed_spread.json"


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
    return paths.scores(study, kind)
