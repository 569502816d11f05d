"""The up-front check of a real cohort: everything a study and profile will need, before anything is written.

``ecrs validate --study li2025 MANIFEST`` and the first step of ``ecrs run --data`` call
:func:`check_study` / :func:`check_studies`.  Besides the manifest's own checks
(:func:`~ecrs_analysis.data.manifest.validate_manifest`) it checks what the chapters will ask
of the data, so that a run never fails deep inside a notebook:

- the study's masks (li2025: ``roi_mask``; mtlnet2025: ``sinus_mask``) and the centres of the parameters;
- the split the parameters describe (or the user's split file) can be made, has a set named
  ``train`` and both classes in every set; a temporal split has scans after its cut-off;
- the training set has enough patients of each class for every cross-validation the parameters ask
  for (``deep.folds`` with the early-stopping hold-out ``deep.validation_fraction``,
  ``deep.svm_folds`` with the integrated model's Platt calibration folds);
- li2025 chapter 2: at least one declared clinical column, and the clinical signature can be fitted
  (some variable passes the univariable screen at ``stats.alpha``); comparators it cannot
  compute (JESREC, E/M ratio without Lund-Mackay scores) are listed as skipped.

Nothing here writes a file: the split is made in memory only.

Every value comes from the validated parameters (:class:`~ecrs_analysis.config.schema.Params`),
none from defaults of this module.  It lives in ``pipeline/`` rather than ``data/`` because it
needs the whole profile (the seed, ``n_jobs``, ``stats``, ``deep`` and the study's settings) and
fits the clinical signature (``modelling``): a check across rooms, run by the engine and
``ecrs validate`` before anything is written.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ecrs_analysis.config.schema import Params, StudySettings
from ecrs_analysis.data.manifest import Cohort, ManifestError, Problem, validate_manifest
from ecrs_analysis.data.splits import TRAIN, Split, SplitError, load_split, make_split
from ecrs_analysis.modelling import clinical
from ecrs_analysis.stats.calibration import PLATT_FOLDS

__all__ = ["STUDY_MASKS", "StudyCheck", "StudyCheckError", "check_study", "check_studies", "check_every_study", "patients_needed"]

STUDY_MASKS = {"li2025": ("roi_mask",), "mtlnet2025": ("sinus_mask",)}
"""Masks a study cannot run without (the parameters' ``masks`` add to these)."""


@dataclass(frozen=True)
class StudyCheck:
    """A study's cohort that passed every up-front check, with the split it will get."""

    study: str
    cohort: Cohort
    split: Split
    notes: tuple[str, ...] = ()
    skipped: Mapping[str, str] = field(default_factory=dict)
    """What a chapter will not compute on this cohort, and why (e.g. ``{"jesrec": "needs ..."}``)."""


class StudyCheckError(ManifestError):
    """Several studies' manifests failed; ``errors`` maps study -> its :class:`ManifestError`."""

    def __init__(self, errors: Mapping[str, ManifestError]):
        self.errors = dict(errors)
        first = next(iter(self.errors.values()))
        problems = [p for e in self.errors.values() for p in e.problems]
        super().__init__(first.manifest, problems)
        self.args = ("\n".join(f"study {s}: {e}" for s, e in self.errors.items()),)

    def __str__(self) -> str:
        return str(self.args[0])


def patients_needed(folds: int, inner: int) -> int:
    """Fewest patients of a class for a stratified ``folds``-fold CV whose every training part keeps ``inner`` of them.

    StratifiedKFold spreads a class of ``n`` as evenly as it can, so the largest held-out
    share is ``ceil(n / folds)`` and the smallest training part ``n - ceil(n / folds)``.
    """
    n = folds
    while n - math.ceil(n / folds) < inner:
        n += 1
    return n


def _study(params: Params, study: str) -> StudySettings:
    return getattr(params.studies, study)


def _cv_requirements(params: Params, study: str, have: int) -> list[tuple[int, str, str]]:
    """(patients per class needed in the training set, why, what would do with ``have`` per class) per CV step."""
    if study != "li2025":
        return [(2, "the training set is split again, stratified, to hold patients out for early stopping", "")]

    def fix(key: str, inner: int) -> str:
        # More folds leave more patients in each training part, so the need falls as folds rise.
        ok = [k for k in range(2, max(have, 2) + 1) if patients_needed(k, inner) <= have]
        return f"{key}={ok[0]} would do with {have} per class" if ok else ""

    folds, vf, svm = params.deep.folds, params.deep.validation_fraction, params.deep.svm_folds
    hold = max(2, math.ceil(1 / vf))
    return [
        (patients_needed(folds, hold), f"deep.folds={folds} with deep.validation_fraction={vf:g} (each fold trains on the other folds and holds {vf:.0%} of them out for early stopping, which needs {hold} per class)", fix("deep.folds", hold)),
        (patients_needed(svm, PLATT_FOLDS), f"deep.svm_folds={svm} with the integrated model's {PLATT_FOLDS}-fold Platt calibration inside each fold", fix("deep.svm_folds", PLATT_FOLDS)),
    ]


def _split(params: Params, study: str, cohort: Cohort) -> tuple[Split | None, list[Problem]]:
    s = _study(params, study)
    try:
        if s.split_file:
            return load_split(s.split_file, cohort.table), []
        return make_split(cohort.table, s.split.model_dump(mode="json"), seed=params.seed), []  # the spec as the split job reads it
    except SplitError as exc:
        column = "scan_date" if s.split.mode == "temporal" else "center"
        return None, [Problem(f"the split cannot be made: {exc}", column=column, file=s.split_file or None)]
    except ValueError as exc:  # scikit-learn's train_test_split on a handful of patients
        return None, [Problem(f"the split cannot be made with {cohort.n} patients ({str(exc).splitlines()[0]}); add patients", column="label")]


def _study_problems(params: Params, study: str, cohort: Cohort) -> tuple[list[Problem], list[str], dict[str, str], Split | None]:
    problems: list[Problem] = []
    notes: list[str] = []
    skipped: dict[str, str] = {}
    labels = cohort.table["label"]
    if labels.nunique() < 2:
        only = int(labels.iloc[0])
        problems.append(Problem(f"every patient has label {only}: a classifier needs both eosinophilic (1) and non-eosinophilic (0) patients", column="label"))
        return problems, notes, skipped, None
    split, found = _split(params, study, cohort)
    problems += found
    if split is None:
        return problems, notes, skipped, None
    t = cohort.table.assign(set=split.set_of(cohort.table))
    for name in split.names:
        part = t[t["set"] == name]
        n1, n0 = int((part["label"] == 1).sum()), int((part["label"] == 0).sum())
        if min(n0, n1) == 0:
            missing = "eosinophilic (label 1)" if n1 == 0 else "non-eosinophilic (label 0)"
            problems.append(Problem(f"set '{name}' ({len(part)} patients) has no {missing} patient: its AUC and operating point cannot be computed; add patients or change the split", column="label"))
    train = t[t["set"] == TRAIN]
    n1, n0 = int((train["label"] == 1).sum()), int((train["label"] == 0).sum())
    have = min(n0, n1)
    needs = _cv_requirements(params, study, have)
    need = max(n for n, _, _ in needs)
    if have < need:
        why = "; ".join(f"{why} needs {n}" for n, why, _ in needs if n > have)
        fixes = [f for n, _, f in needs if n > have]
        hint = "Add patients" + (f", or change the parameters ({'; '.join(fixes)}, e.g. --set {fixes[0].split(' ')[0]})" if all(fixes) else "")
        problems.append(Problem(
            f"the training set has {n1} eosinophilic and {n0} non-eosinophilic patient(s); at least {need} of each are needed: {why}. {hint}",
            column="label",
        ))
    if study == "li2025":
        skipped = clinical.unavailable_comparators(cohort.clinical_columns)
        for name, why in skipped.items():
            notes.append(f"chapter 2 will not compute the {name} comparator: it {why}")
        candidates = clinical.signature_columns(cohort.clinical_columns)
        alpha = params.stats.alpha
        if not candidates:
            problems.append(Problem("no clinical column is declared: the clinical signature (chapter 2) needs at least one; declare clinical columns in the data dictionary (role: clinical, with a type)"))
        elif not problems and min(n0, n1) >= 2:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    clinical.fit_signature(train, candidates, alpha=alpha)
                except (ValueError, np.linalg.LinAlgError) as exc:
                    problems.append(Problem(f"the clinical signature (chapter 2) cannot be fitted on the {len(train)} training patients: {exc} (stats.alpha={alpha:g}, e.g. --set stats.alpha=0.1)"))
            if any("converge" in str(w.message) or "separation" in str(w.message).lower() for w in caught):
                notes.append(f"the clinical signature's logistic regression does not converge on the {len(train)} training patients "
                             "(too few patients for the variables selected, or a variable that separates the classes): its odds ratios will be unstable")
    return problems, notes, skipped, split


def check_study(
    params: Params,
    study: str,
    *,
    manifest: str | os.PathLike[str] | None = None,
    dictionary: str | os.PathLike[str] | None = None,
    check_images: bool = True,
    segments: Mapping[str, str] | None = None,
) -> StudyCheck:
    """Every check a study and profile need of a real cohort, reported at once; writes nothing.

    Parameters
    ----------
    params : Params
        The validated profile parameters (``Params.model_validate(load_params(profile))``).
    study : str
        ``li2025`` or ``mtlnet2025``.
    manifest : path, optional
        The manifest; default ``studies.<study>.manifest``.
    dictionary : path, optional
        The data dictionary; default ``studies.<study>.dictionary``, else the
        ``<manifest stem>.dictionary.yaml`` beside the manifest.
    check_images : bool
        Read every image and mask too (the default; False checks the table only).
    segments : mapping, optional
        Mask column -> segment name (Slicer / DICOM-SEG / RTSTRUCT masks), over the dictionary's.

    Raises
    ------
    ManifestError
        Every problem of the manifest, its files and the study's needs, with row,
        patient (masked), column, file and what to do.
    """
    s = _study(params, study)
    path = manifest if manifest is not None else s.manifest
    if not path:
        raise ManifestError(Path(f"<{study}>"), [Problem(f"no manifest given for study {study} (studies.{study}.manifest is null)")])
    dictionary = dictionary if dictionary is not None else s.dictionary
    masks = tuple(dict.fromkeys(STUDY_MASKS.get(study, ()) + tuple(s.masks)))
    found: dict[str, Any] = {}

    def study_checks(cohort: Cohort) -> list[Problem]:
        problems, notes, skipped, split = _study_problems(params, study, cohort)
        found.update(notes=notes, skipped=skipped, split=split)
        return problems

    cohort = validate_manifest(
        path,
        mask_columns=masks,
        known_centers=tuple(s.centers),
        check_images=check_images,
        n_jobs=params.n_jobs,
        dictionary=dictionary,
        cohort_checks=study_checks,
        segments=segments,
    )
    return StudyCheck(study, cohort, found["split"], tuple(cohort.notes) + tuple(found["notes"]), found["skipped"])


def check_studies(params: Params, studies: tuple[str, ...] | None = None) -> dict[str, StudyCheck]:
    """:func:`check_study` for every study that has a manifest (or those named); all failures raised together.

    This is the first step of ``ecrs run --data``: nothing may be written before it passes.

    Raises
    ------
    StudyCheckError
        (a :class:`ManifestError`) holding each failing study's error in ``errors``.
    """
    names = studies or tuple(n for n in type(params.studies).model_fields if _study(params, n).manifest)
    checks: dict[str, StudyCheck] = {}
    errors: dict[str, ManifestError] = {}
    for name in names:
        try:
            checks[name] = check_study(params, name)
        except ManifestError as exc:
            errors[name] = exc
    if errors:
        raise StudyCheckError(errors)
    return checks



def check_every_study(
    params: Params,
    *,
    manifest: str | os.PathLike[str],
    dictionary: str | os.PathLike[str] | None = None,
    segments: Mapping[str, str] | None = None,
) -> dict[str, StudyCheck | ManifestError]:
    """Would a run of each study start on this manifest?  Study -> its :class:`StudyCheck` or what stops it.

    The table only: the images are read once by the manifest's own validation, not per study.
    ``ecrs validate MANIFEST`` without ``--study`` prints this, so that a cohort a run would
    refuse (too few patients per class, one class, an unknown centre, no sinus mask, no scan
    after the cut-off) is never reported as having no problem.
    """
    out: dict[str, StudyCheck | ManifestError] = {}
    for name in type(params.studies).model_fields:
        try:
            out[name] = check_study(params, name, manifest=manifest, dictionary=dictionary, check_images=False, segments=segments)
        except ManifestError as exc:
            out[name] = exc
    return out
