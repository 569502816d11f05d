"""Generate a whole synthetic cohort with a study's design, written as a real user's manifest.

Output folder::

    manifest.csv            one row per patient (the format of docs: book/data_format.md)
    manifest.dictionary.yaml  the data dictionary: every column's role (clinical columns and their types)
    truth.csv               generator ground truth: latent inflammation, true probability (the latent
                            ceiling), tissue eosinophils, what was rendered into the CT and
                            ``image_prob``, P(label | rendered), the image-only ceiling (``synth.ceiling``)
    images/<id>_ct.nii.gz   int16 HU CT
    masks/<id>_sinus.nii.gz sinus-region segmentation (all sinuses)
    masks/<id>_roi.nii.gz   lesion region of interest (opacified tissue)
    masks/<id>_evidence.nii.gz  the ROI labelled by compartment (``anatomy.EVIDENCE_LABELS``):
                            where the endotype signal is; listed in truth.csv, never in the manifest
    generator.json          the parameters that made it

The folder is written atomically: it appears whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ecrs_analysis.atomic import atomic_dir, write_csv, write_json, write_text
from ecrs_analysis.data.dictionary import synthetic_dictionary
from ecrs_analysis.data.imageio import write_image
from ecrs_analysis.data.synth.designs import DESIGNS, CenterDesign, Design
from ecrs_analysis.data.synth.anatomy import anatomical_grid, render, sample_anatomy
from ecrs_analysis.data.synth.ceiling import RENDERED_FEATURES, fit_image_ceiling, rendered_features
from ecrs_analysis.data.synth.patients import CLINICAL_COLUMNS, MISSING_ALLOWED, draw_patient, lund_mackay
from ecrs_analysis.data.synth.scanners import SCANNERS, acquire, grid_for

__all__ = ["CenterDesign", "Design", "DESIGNS", "generate_cohort", "GENERATOR_VERSION"]

GENERATOR_VERSION = "4"  # 2: evidence maps and data dictionary; 3: MTLNet temporal cut-off 2024-05-01 (the paper's); 4: measured Lund-Mackay, rendered quantities and image_prob in truth.csv, aerated compartments in the evidence maps; bump when the output changes for the same parameters


def _dates(rng: np.random.Generator, n: int, first: str, last: str) -> list[str]:
    a, b = dt.date.fromisoformat(first).toordinal(), dt.date.fromisoformat(last).toordinal()
    return [dt.date.fromordinal(int(d)).isoformat() for d in rng.integers(a, b + 1, size=n)]


def _plan(design: Design, n_patients: int, seed: int) -> pd.DataFrame:
    """Who is who: patient ids, centre and scan date (no imaging yet)."""
    rng = np.random.default_rng([seed, 0])
    counts = [int(round(c.fraction * n_patients)) for c in design.centers]
    counts[-1] = n_patients - sum(counts[:-1])
    rows = []
    for c, n in zip(design.centers, counts):
        if design.temporal_cutoff:
            n_after = int(round(design.n_after_cutoff * n_patients / design.n_patients))
            cut = dt.date.fromisoformat(design.temporal_cutoff) - dt.timedelta(days=1)
            dates = _dates(rng, n - n_after, c.first_date, cut.isoformat()) + _dates(rng, n_after, design.temporal_cutoff, c.last_date)
        else:
            dates = _dates(rng, n, c.first_date, c.last_date)
        rows += [(c.name, c.scanner, c.latent_mean, d) for d in sorted(dates)]
    order = rng.permutation(len(rows))
    df = pd.DataFrame([rows[i] for i in order], columns=["center", "scanner", "latent_mean", "scan_date"])
    df.insert(0, "patient_id", [f"{design.id_prefix}{i + 1:04d}" for i in range(len(df))])
    return df


def _one_patient(args: tuple) -> tuple[dict, dict]:
    pid, index, center, scanner_name, latent_mean, scan_date, all_polyps, seed, spacing_scale, evidence, out = args
    rng = np.random.default_rng([seed, 1, index])
    draw = draw_patient(rng, latent_mean=latent_mean, all_polyps=all_polyps)
    anatomy = sample_anatomy(rng)
    scanner = SCANNERS[scanner_name]
    shape, spacing, origin = grid_for(scanner, spacing_scale=spacing_scale)
    grid = anatomical_grid(shape, spacing, origin, anatomy)
    r = render(anatomy, draw.opacification, olfactory_cleft=draw.olfactory_cleft, polyps=draw.polyps_mm, mucosa_hu=draw.mucosa_hu, grid=grid)
    ct = acquire(r.hu, scanner, spacing_xyz=spacing, rng=rng)
    out = Path(out)
    files = {
        "image": f"images/{pid}_ct.nii.gz",
        "sinus_mask": f"masks/{pid}_sinus.nii.gz",
        "roi_mask": f"masks/{pid}_roi.nii.gz",
    }
    write_image(ct, out / files["image"], spacing=spacing, origin=origin)
    write_image(r.sinus_mask, out / files["sinus_mask"], spacing=spacing, origin=origin)
    write_image(r.roi_mask, out / files["roi_mask"], spacing=spacing, origin=origin)
    extra = {}
    if evidence:  # ground truth for the explanation chapter; written after, and apart from, the inputs
        extra["evidence_mask"] = f"masks/{pid}_evidence.nii.gz"
        write_image(r.evidence, out / extra["evidence_mask"], spacing=spacing, origin=origin)
    # Lund-Mackay as a reader scores it: from the opacification measured on the rendered CT, not the intended one
    row = {"patient_id": pid, "center": center, "scan_date": scan_date, "label": draw.label, **files, **draw.clinical, **lund_mackay(r.opacified_fraction)}
    truth = {
        "patient_id": pid,
        "latent": draw.latent,
        "true_prob": draw.true_prob,
        "tissue_eos_hpf": draw.tissue_eos_hpf,
        "roi_voxels": int(r.roi_mask.sum()),
        **{f"measured_opac_{k}": round(v, 4) for k, v in r.opacified_fraction.items()},
        **rendered_features(draw),
        **extra,
    }
    return row, truth


def generate_cohort(
    out_dir: str | os.PathLike[str],
    *,
    design: str,
    seed: int,
    n_patients: int | None = None,
    spacing_scale: float = 1.0,
    missing_rate: float = 0.03,
    evidence: bool = True,
    n_jobs: int | None = None,
) -> Path:
    """Generate a synthetic cohort and write it as manifest + image files.

    Parameters
    ----------
    out_dir : path
        Folder to create (replaced atomically if it exists).
    design : {"li2025", "mtlnet2025"}
        Study design (sample size, hospitals, dates).
    seed : int
        Every random choice derives from it; each patient has its own stream, so the
        result does not depend on ``n_jobs``.
    n_patients : int, optional
        Cohort size; default the design's (1098 or 257).  Centre fractions and the
        temporal external share scale with it.
    spacing_scale : float
        Multiplies the scanners' native voxel spacing (>1 = coarser, faster).
    missing_rate : float
        Share of missing values in the clinical columns that may be missing.
    evidence : bool
        Also write each patient's evidence label map (``masks/<id>_evidence.nii.gz``, column
        ``evidence_mask`` of truth.csv).  CT images, masks and manifest are the same either way.
    n_jobs : int, optional
        Worker processes (default: all cores).

    Returns
    -------
    Path
        The cohort folder.
    """
    if design not in DESIGNS:
        raise ValueError(f"unknown design {design!r}; valid designs: {sorted(DESIGNS)}")
    d = DESIGNS[design]
    n = int(n_patients or d.n_patients)
    if n < 8:
        raise ValueError(f"n_patients={n} is too small for a cohort with train/test sets (need >= 8)")
    plan = _plan(d, n, seed)
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        (tmp / "images").mkdir()
        (tmp / "masks").mkdir()
        jobs = [
            (r.patient_id, i, r.center, r.scanner, r.latent_mean, r.scan_date, d.all_polyps, seed, spacing_scale, evidence, str(tmp))
            for i, r in enumerate(plan.itertuples(index=False))
        ]
        workers = n_jobs or os.cpu_count() or 1
        if workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(_one_patient, jobs, chunksize=4))
        else:
            results = [_one_patient(j) for j in jobs]
        manifest = pd.DataFrame([r for r, _ in results])
        truth = pd.DataFrame([t for _, t in results])
        rng = np.random.default_rng([seed, 2])
        for col in MISSING_ALLOWED:
            if col in manifest:
                manifest[col] = manifest[col].astype(float)
                manifest.loc[rng.random(len(manifest)) < missing_rate, col] = np.nan
        ceiling = fit_image_ceiling(
            latent_means=[c.latent_mean for c in d.centers], weights=[c.fraction for c in d.centers], all_polyps=d.all_polyps,
            seed=int(np.random.default_rng([seed, 3]).integers(2**31 - 1)),
        )
        truth["image_prob"] = ceiling.probability(truth)
        write_csv(manifest, tmp / "manifest.csv")
        lm_columns = tuple(c for c in manifest.columns if c.startswith("lm_"))
        write_text(yaml.safe_dump(synthetic_dictionary(CLINICAL_COLUMNS, lund_mackay=lm_columns), sort_keys=False), tmp / "manifest.dictionary.yaml")
        write_csv(truth, tmp / "truth.csv")
        write_json(
            {
                "design": asdict(d),
                "seed": seed,
                "n_patients": n,
                "spacing_scale": spacing_scale,
                "missing_rate": missing_rate,
                "evidence": evidence,
                "generator_version": GENERATOR_VERSION,
                "clinical_columns": CLINICAL_COLUMNS,
                "image_ceiling": {
                    "rendered": list(RENDERED_FEATURES), "draws": ceiling.n_draws,
                    "population_auc": round(ceiling.population_auc, 4), "latent_population_auc": round(ceiling.latent_auc, 4),
                },
            },
            tmp / "generator.json",
        )
    return out_dir


def load_generator_info(cohort_dir: str | os.PathLike[str]) -> dict | None:
    """The generator parameters of a synthetic cohort folder, or None for a real cohort."""
    p = Path(cohort_dir) / "generator.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None
