"""The cohort manifest: its columns, and the one place where a cohort is validated.

A manifest is a CSV file, one row per patient:

=============  ========  =====================================================
column         required  meaning
=============  ========  =====================================================
patient_id     yes       unique identifier (never shown in the book)
center         yes       hospital name; must be one of the study's centres
scan_date      yes       ISO date of the CT (YYYY-MM-DD)
label          yes       1 = eosinophilic CRS, 0 = non-eosinophilic
image          yes       CT: NIfTI/NRRD/MHA file or a DICOM series folder
roi_mask       study     lesion region of interest (first study)
sinus_mask     study     sinus-region segmentation (MTLNet)
(others)       no        clinical variables, numeric; empty = missing
=============  ========  =====================================================

Paths are relative to the manifest's folder unless absolute.  Validation reads every
file and reports *all* problems at once, each with row, patient, column and file.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from ecrs_analysis.data.imageio import Geometry, ImageReadError, read_image

__all__ = ["REQUIRED_COLUMNS", "MASK_COLUMNS", "Problem", "ManifestError", "Cohort", "validate_manifest"]

REQUIRED_COLUMNS = ("patient_id", "center", "scan_date", "label", "image")
MASK_COLUMNS = ("roi_mask", "sinus_mask")
NON_CLINICAL = set(REQUIRED_COLUMNS) | set(MASK_COLUMNS)
# A HU-calibrated head CT has air near -1000 and bone well above +300.
HU_AIR_MAX = -700.0
HU_BONE_MIN = 300.0
HU_LIMITS = (-2048.0, 4095.0)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a manifest."""

    message: str
    row: int | None = None
    """1-based data row in the CSV (the header is row 0)."""
    patient_id: str | None = None
    column: str | None = None
    file: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.patient_id:
            where.append(f"patient {self.patient_id}")
        if self.column:
            where.append(f"column '{self.column}'")
        if self.file:
            where.append(f"file {self.file}")
        return (", ".join(where) + ": " if where else "") + self.message


class ManifestError(ValueError):
    """A manifest with problems; ``problems`` lists every one of them."""

    def __init__(self, manifest: Path, problems: list[Problem]):
        self.manifest = manifest
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{manifest}: {len(problems)} problem(s) found, nothing was written:\n{lines}")


@dataclass(frozen=True)
class Cohort:
    """A validated cohort: the manifest table with absolute paths."""

    table: pd.DataFrame
    manifest_path: Path
    clinical_columns: tuple[str, ...]
    mask_columns: tuple[str, ...]
    truth: pd.DataFrame | None = field(default=None, repr=False)
    """Generator ground truth (synthetic cohorts only)."""

    @property
    def n(self) -> int:
        return len(self.table)


def _resolve(base: Path, value: object) -> Path:
    p = Path(str(value))
    return p if p.is_absolute() else base / p


def _check_images(row: int, pid: str, paths: dict[str, Path], raw: dict[str, str]) -> list[Problem]:
    out: list[Problem] = []
    try:
        ct = read_image(paths["image"])
    except ImageReadError as exc:
        return [Problem(str(exc).split(": ", 1)[-1], row, pid, "image", raw["image"])]
    geom = Geometry.of(ct)
    arr = sitk.GetArrayViewFromImage(ct)
    if arr.size == 0:
        return [Problem("image has no voxels", row, pid, "image", raw["image"])]
    lo, hi = float(arr.min()), float(arr.max())
    if not np.isfinite([lo, hi]).all():
        out.append(Problem("image holds NaN or infinite values", row, pid, "image", raw["image"]))
    elif lo < HU_LIMITS[0] or hi > HU_LIMITS[1] or np.percentile(arr[:: max(arr.shape[0] // 8, 1)], 1) > HU_AIR_MAX or hi < HU_BONE_MIN:
        out.append(
            Problem(
                f"implausible intensity range [{lo:.0f}, {hi:.0f}]: a HU-calibrated head CT has air near -1000 HU "
                f"and bone above +{HU_BONE_MIN:.0f} HU (is the rescale slope/intercept applied?)",
                row,
                pid,
                "image",
                raw["image"],
            )
        )
    for col, path in paths.items():
        if col == "image":
            continue
        try:
            mask = read_image(path)
        except ImageReadError as exc:
            out.append(Problem(str(exc).split(": ", 1)[-1], row, pid, col, raw[col]))
            continue
        diff = geom.mismatch(Geometry.of(mask))
        if diff:
            out.append(Problem("mask geometry does not match its CT: " + "; ".join(diff), row, pid, col, raw[col]))
            continue
        m = sitk.GetArrayViewFromImage(mask)
        values = np.unique(m)
        if not np.isin(values, (0, 1)).all():
            shown = ", ".join(f"{v:g}" for v in values[:6]) + (" ..." if len(values) > 6 else "")
            out.append(Problem(f"mask is not binary (values {shown}); expected 0 and 1", row, pid, col, raw[col]))
        elif not values.any() or (values == 0).all():
            out.append(Problem("mask is empty (no voxel labelled 1)", row, pid, col, raw[col]))
    return out


def validate_manifest(
    path: str | os.PathLike[str],
    *,
    mask_columns: tuple[str, ...] = ("roi_mask",),
    known_centers: tuple[str, ...] | None = None,
    check_images: bool = True,
    n_jobs: int = 2,
) -> Cohort:
    """Validate a manifest and every file it names; return the cohort or raise with all problems.

    Parameters
    ----------
    path : path
        The manifest CSV.
    mask_columns : tuple of str
        Mask columns this study needs (``roi_mask``, ``sinus_mask``).
    known_centers : tuple of str, optional
        Allowed values of ``center``; None accepts any.
    check_images : bool
        Read every image and mask (geometry, HU range, binary, non-empty).
    n_jobs : int
        Threads used to read images.

    Raises
    ------
    ManifestError
        Listing every problem found, with row, patient, column and file.
    """
    manifest = Path(path)
    if not manifest.is_file():
        raise ManifestError(manifest, [Problem("manifest file not found")])
    try:
        df = pd.read_csv(manifest, dtype={"patient_id": str, "center": str, "scan_date": str, "image": str, **{c: str for c in MASK_COLUMNS}})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ManifestError(manifest, [Problem(f"not a readable CSV file ({exc})")]) from exc
    problems: list[Problem] = []
    needed = REQUIRED_COLUMNS + tuple(mask_columns)
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ManifestError(manifest, [Problem(f"required column missing (columns present: {list(df.columns)})", column=c) for c in missing])
    if df.empty:
        raise ManifestError(manifest, [Problem("manifest has no patients")])

    base = manifest.parent
    rownum = np.arange(1, len(df) + 1)
    pids = df["patient_id"].fillna("").astype(str).str.strip()
    for r, pid in zip(rownum, pids):
        if not pid:
            problems.append(Problem("empty patient_id", int(r), None, "patient_id"))
    dup = pids[(pids != "") & pids.duplicated(keep=False)]
    for i, pid in dup.items():
        problems.append(Problem(f"duplicate patient_id (also on rows {[int(rownum[j]) for j in dup.index[dup == pid] if j != i]})", int(rownum[i]), pid, "patient_id"))

    for col in needed:
        if col == "patient_id":
            continue
        for i in df.index[df[col].isna() | (df[col].astype(str).str.strip() == "")]:
            problems.append(Problem("missing value (not allowed in this column)", int(rownum[i]), pids[i] or None, col))

    labels = pd.to_numeric(df["label"], errors="coerce")
    for i in df.index[df["label"].notna() & ~labels.isin([0, 1])]:
        problems.append(Problem(f"label {df.at[i, 'label']} is not 0 or 1", int(rownum[i]), pids[i] or None, "label"))
    if known_centers is not None:
        for i in df.index[df["center"].notna() & ~df["center"].isin(known_centers)]:
            problems.append(Problem(f"unknown center {df.at[i, 'center']!r}; known: {list(known_centers)}", int(rownum[i]), pids[i] or None, "center"))
    dates = pd.to_datetime(df["scan_date"], format="ISO8601", errors="coerce")
    for i in df.index[df["scan_date"].notna() & dates.isna()]:
        problems.append(Problem(f"unparsable date {df.at[i, 'scan_date']!r}; use YYYY-MM-DD", int(rownum[i]), pids[i] or None, "scan_date"))

    clinical = tuple(c for c in df.columns if c not in NON_CLINICAL)
    for col in clinical:
        values = pd.to_numeric(df[col], errors="coerce")
        for i in df.index[df[col].notna() & values.isna()]:
            problems.append(Problem(f"value {df.at[i, col]!r} is not a number", int(rownum[i]), pids[i] or None, col))
        values = values.replace([np.inf, -np.inf], np.nan) if np.isinf(values).any() else values
        df[col] = values

    present_masks = tuple(dict.fromkeys(tuple(mask_columns) + tuple(c for c in MASK_COLUMNS if c in df.columns)))
    if check_images:
        jobs = []
        for i in df.index:
            raw = {c: df.at[i, c] for c in ("image",) + present_masks}
            if any(pd.isna(v) for v in raw.values()):
                continue
            raw = {c: str(v) for c, v in raw.items()}
            jobs.append((int(rownum[i]), pids[i], {c: _resolve(base, v) for c, v in raw.items()}, raw))
        with ThreadPoolExecutor(max_workers=max(n_jobs, 1)) as pool:
            for found in pool.map(lambda j: _check_images(*j), jobs):
                problems.extend(found)
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise ManifestError(manifest, problems)

    table = df.copy()
    table["patient_id"] = pids
    table["label"] = labels.astype(int)
    table["scan_date"] = dates
    for col in ("image",) + present_masks:
        table[col] = [str(_resolve(base, v)) for v in table[col]]
    truth_path = base / "truth.csv"
    truth = pd.read_csv(truth_path, dtype={"patient_id": str}) if truth_path.exists() else None
    return Cohort(table=table.reset_index(drop=True), manifest_path=manifest, clinical_columns=clinical, mask_columns=present_masks, truth=truth)
