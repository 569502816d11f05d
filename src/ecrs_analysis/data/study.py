"""A study's data stages: cohort -> validated cohort -> split -> preprocessed volumes, and reading them back.

Each stage writes artefacts the next one reads (paths: :mod:`ecrs_analysis.paths`); the
workflow runs each as a job. The same functions serve a real manifest and the synthetic
cohort: the synthetic cohort is written as a manifest first and then validated like any
other. ``ResultPaths`` and friends are re-exported here for the notebooks (``S.ResultPaths``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import SimpleITK as sitk

from ecrs_analysis.atomic import write_csv, write_json
from ecrs_analysis.paths import ResultPaths, default_results_dir, find_reference_ct, scores_path
from ecrs_analysis.hashing import hash_params, sha256_path
from ecrs_analysis.data.imageio import read_image
from ecrs_analysis.data.manifest import Cohort, validate_manifest
from ecrs_analysis.data.settings import Studies
from ecrs_analysis.data.splits import Split, load_split, make_split

__all__ = [
    "ResultPaths", "LoadedStudy", "default_results_dir", "prepare_cohort", "load_cohort", "prepare_split", "prepare_inputs", "load_study", "prepare_study", "StudyNotBuilt",
    "example_cases", "ceiling_auc", "LATENT_CEILING", "IMAGE_CEILING", "find_reference_ct", "table1_variables", "scores_path",
]


def prepare_cohort(settings: Any, study: str, paths: ResultPaths, *, seed: int, n_jobs: int) -> Cohort:
    """The study's cohort: the real manifest if one is given, else the synthetic cohort (generated once).

    ``settings``: the study's section of the parameters (``data.settings.StudySettings``, or the
    part a job declared: ``manifest``, ``dictionary``, ``synthetic``, ``masks``, ``centers``).
    """
    if settings.manifest:
        manifest = Path(settings.manifest).resolve()
    else:
        # lazy: the generator loads scikit-learn (its ceilings); only the synthetic cohort job needs it
        from ecrs_analysis.data.synth.cohort import GENERATOR_VERSION, generate_cohort

        syn = settings.synthetic
        key = hash_params(GENERATOR_VERSION, study, seed, syn.model_dump(mode="json"))
        folder = paths.cohort(study, key)
        if not (folder / "manifest.csv").exists():
            generate_cohort(
                folder, design=study, seed=seed, n_patients=syn.n_patients, spacing_scale=syn.spacing_scale, missing_rate=syn.missing_rate, n_jobs=n_jobs,
            )
        manifest = folder / "manifest.csv"
    cohort = validate_manifest(manifest, mask_columns=tuple(settings.masks), known_centers=tuple(settings.centers), n_jobs=n_jobs, dictionary=settings.dictionary)
    _record_inputs(cohort, paths.inputs(study), synthetic=not settings.manifest)
    _save_cohort(cohort, paths, study, synthetic=not settings.manifest)
    return cohort


def _save_cohort(cohort: Cohort, paths: ResultPaths, study: str, *, synthetic: bool) -> None:
    """The validated cohort as artefacts: table (absolute paths), column roles and ground truth."""
    if cohort.truth is not None:
        write_csv(cohort.truth, paths.truth(study))
    elif paths.truth(study).exists():
        paths.truth(study).unlink()
    write_csv(cohort.table, paths.cohort_table(study))
    meta = {
        "manifest": str(cohort.manifest_path),
        "synthetic": synthetic,
        "n_patients": cohort.n,
        "clinical_columns": list(cohort.clinical_columns),
        "mask_columns": list(cohort.mask_columns),
        "truth": cohort.truth is not None,
        "clinical_types": dict(cohort.clinical_types),
        "mask_segments": dict(cohort.mask_segments),
        "units": dict(cohort.units),
        "notes": list(cohort.notes),
    }
    write_json(meta, paths.cohort_meta(study))
    # values of identifying columns: what the privacy check looks for (the results folder is never published)
    write_json(sorted(getattr(cohort, "identifiers", frozenset())), paths.study(study) / "identifiers.json")


def load_cohort(paths: ResultPaths, study: str) -> Cohort:
    """The validated cohort written by the cohort stage (:func:`prepare_cohort`)."""
    meta_path = paths.cohort_meta(study)
    if not meta_path.exists():
        raise FileNotFoundError(f"no validated cohort for {study} in {paths.root}; run `ecrs run` (it runs the cohort stage first)")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    table = pd.read_csv(paths.cohort_table(study), dtype={"patient_id": str})
    if "scan_date" in table:
        table["scan_date"] = pd.to_datetime(table["scan_date"])
    truth = pd.read_csv(paths.truth(study), dtype={"patient_id": str}) if meta["truth"] else None
    ids_path = paths.study(study) / "identifiers.json"
    identifiers = frozenset(json.loads(ids_path.read_text(encoding="utf-8"))) if ids_path.exists() else frozenset()
    return Cohort(
        table=table, manifest_path=Path(meta["manifest"]), clinical_columns=tuple(meta["clinical_columns"]), mask_columns=tuple(meta["mask_columns"]),
        truth=truth, identifiers=identifiers, clinical_types=meta.get("clinical_types", {}), units=meta.get("units", {}), notes=tuple(meta.get("notes", ())),
        mask_segments=meta.get("mask_segments", {}),
    )


def _record_inputs(cohort: Cohort, target: Path, *, synthetic: bool) -> None:
    files = {"manifest": str(cohort.manifest_path)}
    hashes = {str(cohort.manifest_path): sha256_path(cohort.manifest_path)}
    for col in ("image",) + cohort.mask_columns:
        for f in cohort.table[col]:
            hashes[str(f)] = sha256_path(f)
    write_json({"synthetic": synthetic, "files": files, "n_patients": cohort.n, "sha256": hashes, "patient_ids": list(cohort.table["patient_id"])}, target)


def prepare_split(settings: Any, study: str, cohort: Cohort, paths: ResultPaths, *, seed: int) -> Split:
    """The study's split: a user's split file, else the saved split (when made with the same settings), else a new one.

    ``settings``: the study's section (or its declared ``split`` and ``split_file``).
    """
    if settings.split_file:
        split = load_split(settings.split_file, cohort.table)
        write_json({"mode": split.mode, "key": None, "source": str(settings.split_file), "sets": {k: list(v) for k, v in split.sets.items()}}, paths.split(study))
        return split
    spec = settings.split.model_dump(mode="json")
    key = hash_params(spec, seed, sorted(cohort.table["patient_id"]))
    target = paths.split(study)
    if target.exists():
        saved = json.loads(target.read_text(encoding="utf-8"))
        if saved.get("key") == key:
            return load_split(target, cohort.table)
    split = make_split(cohort.table, spec, seed=seed)
    write_json({"mode": split.mode, "key": key, "sets": {k: list(v) for k, v in split.sets.items()}}, target)
    return split


def prepare_inputs(settings: Any, study: str, cohort: Cohort, paths: ResultPaths, *, n_jobs: int) -> pd.DataFrame:
    """Preprocess the cohort into model inputs (cached); returns and saves the patient -> file index.

    ``settings``: the study's section (or its declared ``preprocess`` and ``masks``).
    """
    # imported here: MONAI (behind preprocessing) takes seconds to import, and most jobs never preprocess
    from ecrs_analysis.data.preprocess import preprocess_cohort  # lazy: loads monai, torch

    masks = tuple(m for m in cohort.mask_columns if m in settings.masks)
    index = preprocess_cohort(cohort.table, mask_columns=masks, params=settings.preprocess, cache_dir=paths.cache, n_jobs=n_jobs, segments=dict(cohort.mask_segments))
    write_csv(index, paths.preprocessed_index(study))
    return index


@dataclass(frozen=True)
class LoadedStudy:
    """A study's cohort and split, with each patient's set in ``table['set']``."""

    name: str
    cohort: Cohort
    split: Split

    @property
    def table(self) -> pd.DataFrame:
        t = self.cohort.table.copy()
        t["set"] = self.split.set_of(t)
        return t


class StudyNotBuilt(FileNotFoundError):
    """A study's cohort or split is not in the results folder: the workflow has not built it yet."""


def load_study(params: Any, study: str, paths: ResultPaths) -> LoadedStudy:
    """Cohort + split of a study, as the workflow's cohort and split jobs wrote them (read-only).

    Nothing is made here: a chapter opened on a results folder the workflow has not built
    raises :class:`StudyNotBuilt`, naming the command that builds it. ``params`` is unused
    (kept so that every caller reads the same way); :func:`prepare_study` makes the artefacts
    where a test needs them without a workflow run.
    """
    missing = [p for p in (paths.cohort_meta(study), paths.cohort_table(study), paths.split(study)) if not p.exists()]
    if missing:
        profile = Path(paths.root).name
        raise StudyNotBuilt(
            f"{study}: no {', '.join(p.name for p in missing)} in {paths.root}: the workflow has not built this study yet. "
            f"Build it first: `ecrs run --profile {profile}` (or `ecrs run --profile {profile} --target <chapter>` for one chapter; "
            f"`make book` for the demo book), then open the chapter again."
        )
    cohort = load_cohort(paths, study)
    return LoadedStudy(study, cohort, load_split(paths.split(study), cohort.table))


def prepare_study(params: Any, study: str, paths: ResultPaths) -> LoadedStudy:
    """Make a study's cohort and split now (what the workflow's cohort and split jobs do) and return them.

    For tests and scripts that build a small results folder without a workflow run; ``params``:
    the whole validated profile (a mapping, parsed here into the schema's models). Writes.
    """
    # the study's section parsed into the data room's own model (the one ``config.schema.Params`` composes)
    settings = Studies.model_fields[study].annotation.model_validate(params["studies"][study])
    seed, n_jobs = params["seed"], params["n_jobs"]
    cohort = prepare_cohort(settings, study, paths, seed=seed, n_jobs=n_jobs)
    return LoadedStudy(study, cohort, prepare_split(settings, study, cohort, paths, seed=seed))


def example_cases(study: LoadedStudy, *, seed: int) -> list[tuple[str, sitk.Image, dict[str, sitk.Image]]]:
    """One eosinophilic and one non-eosinophilic training patient, titled by label (never by id)."""
    t = study.table
    first_set = study.split.train_name
    rng = np.random.default_rng(seed)
    cases = []
    for label, title in ((1, "eosinophilic"), (0, "non-eosinophilic")):
        pool = t[(t["set"] == first_set) & (t["label"] == label)]
        if pool.empty:
            continue
        row = pool.iloc[int(rng.integers(len(pool)))]
        masks: dict[str, sitk.Image] = {c: read_image(row[c]) for c in study.cohort.mask_columns}
        cases.append((title, read_image(row["image"]), masks))
    return cases


LATENT_CEILING = "ceiling AUC"
"""Column of :func:`ceiling_auc`: AUC of P(label | latent inflammation) on a set: a population ceiling estimated on that set, with its own error."""
IMAGE_CEILING = "image ceiling AUC"
"""Column of :func:`ceiling_auc`: AUC of P(label | what is rendered into the CT): the population bound of a CT-only model, estimated on a finite set."""


def ceiling_auc(study: LoadedStudy) -> pd.DataFrame | None:
    """The synthetic cohort's two ceilings per set (None for a real cohort).

    ``ceiling AUC`` (:data:`LATENT_CEILING`) is the AUC of the generator's true probability,
    P(label | latent inflammation): what the integrated model (CT and clinical data) is
    compared with.  ``image ceiling AUC`` (:data:`IMAGE_CEILING`) is the AUC of
    ``image_prob``, P(label | everything rendered into the CT) (``data.synth.ceiling``):
    what a CT-only model (each CNN, MTLNet) is compared with. Both are estimates on finite sets: a
    model's AUC may lie above them by chance (``stats.evaluate.ceiling_table`` tests the difference).
    """
    from sklearn.metrics import roc_auc_score  # imported here: slow to import, and only this function needs it

    truth = study.cohort.truth
    if truth is None:
        return None
    cols = [c for c in ("true_prob", "image_prob") if c in truth]
    t = study.table.merge(truth[["patient_id", *cols]], on="patient_id", how="left")
    rows = []
    for name in study.split.names:
        s = t[t["set"] == name]
        row = {"set": name, "patients": len(s)}
        for col, label in (("true_prob", LATENT_CEILING), ("image_prob", IMAGE_CEILING)):
            if col in s:
                auc = roc_auc_score(s["label"], s[col]) if s["label"].nunique() == 2 else float("nan")
                row[label] = round(float(auc), 3)
        rows.append(row)
    return pd.DataFrame(rows).set_index("set")


def table1_variables(cohort: Cohort) -> list[str]:
    """Clinical columns for Table 1: every clinical column except the per-sinus Lund-Mackay sub-scores."""
    return [c for c in cohort.clinical_columns if not (c.startswith("lm_") and c != "lm_total")]
