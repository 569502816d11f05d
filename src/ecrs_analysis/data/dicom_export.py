"""From a PACS or CD export of DICOM files to a manifest: ``ecrs manifest from-dicom DIR``.

1. Every file under the export folder is read with pydicom (headers only, ``stop_before_pixels``),
   at any nesting, with or without a DICOMDIR; files that are not DICOM are skipped and counted.
2. Files are grouped patient -> study -> series (PatientID, StudyInstanceUID, SeriesInstanceUID).
3. For each patient one series is chosen: a CT image series (CT Image Storage), axial, evenly
   spaced, covering at least :data:`SINUS_COVERAGE_MM` along the head's axis, the thinnest such
   reconstruction of the patient's first study that has one.  Scouts (ImageType ``LOCALIZER``),
   dose reports (structured reports, secondary-capture dose pages), other secondary captures,
   enhanced multi-frame objects and other modalities are skipped, each with its reason.  Series of
   equal spacing and coverage are a tie: the lower series number is taken and the tie reported.
   ``--series PATIENT=KEY`` overrides the choice for one patient.
4. The chosen series is checked with SimpleITK's GDCM series reader, the one the pipeline reads
   it with; a series that shares its folder with others gets a folder of links of its own.
5. ``manifest.csv`` (patient_id, center, scan_date from StudyDate, image, then the label
   sheet's columns), a data-dictionary stub and ``series_decisions.csv`` are written.

Privacy: the outputs hold the patient id (or, with ``pseudonymise``, a pseudonym from a key
file kept outside the output folder), the scan date, the centre *as mapped* and technical
values (series number, modality, slice spacing, coverage, kernel, image count).  No other
header value — names, birth dates, institution, descriptions, UIDs — is written anywhere.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import cast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ecrs_analysis.atomic import atomic_dir, write_csv, write_text
from ecrs_analysis.data.dictionary import draft_dictionary, normalise_name
from ecrs_analysis.data.integrity import MIN_VOXELS_PER_AXIS, UNEVEN_SLICE_SPACING, quiet_itk
from ecrs_analysis.data.tables import TableReadError, read_table

__all__ = [
    "SINUS_COVERAGE_MM", "DicomExportError", "SeriesInfo", "Decision", "ExportResult", "scan_export", "choose_series",
    "manifest_from_dicom",
]

SINUS_COVERAGE_MM = 60.0
"""Least extent along the head's axis of a series that can hold the paranasal sinuses.

From the roof of the frontal sinus to the floor of the maxillary sinus is about 60-80 mm in
adults; a series that covers less (a few thick slices, a targeted reconstruction) misses part
of them.
"""
AXIAL_COSINE = 0.9
"""A series is axial when its slice normal is within about 25 degrees of the head's axis (gantry tilt allowed)."""

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
SECONDARY_CAPTURE = ("1.2.840.10008.5.1.4.1.1.7",)  # and its multi-frame variants 1.2.840.10008.5.1.4.1.1.7.x
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
_TAGS = [
    "PatientID", "AccessionNumber", "StudyInstanceUID", "StudyDate", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription",
    "Modality", "ImageType", "SOPClassUID", "SliceThickness", "ImagePositionPatient", "ImageOrientationPatient", "InstitutionName",
    "ConvolutionKernel", "Rows", "Columns", "NumberOfFrames",
]


class DicomExportError(ValueError):
    """An export that cannot become a manifest; ``problems`` holds one paragraph per problem."""

    def __init__(self, folder: Path, problems: Sequence[str]):
        self.folder = folder
        self.problems = list(problems)
        super().__init__(f"{folder}: {len(self.problems)} problem(s); nothing was written:\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class SeriesInfo:
    """One series of the export, from its files' headers (never written out as such)."""

    patient_id: str
    study_uid: str
    series_uid: str
    files: tuple[Path, ...]
    modality: str = ""
    sop_class: str = ""
    image_type: tuple[str, ...] = ()
    series_number: int | None = None
    study_date: str = ""
    accession: str = ""
    institution: str = ""
    kernel: str = ""
    description: str = ""
    """Used only to recognise dose pages; never written."""
    orientation: tuple[float, ...] | None = None
    positions: tuple[float, ...] = ()
    """Slice positions along the slice normal (mm), sorted."""
    sizes: frozenset[tuple[int, int]] = frozenset()
    frames: int = 1

    @property
    def spacing_mm(self) -> float | None:
        """Median gap between slice positions (the reconstruction's slice spacing)."""
        gaps = np.diff(self.positions)
        return float(np.median(gaps)) if gaps.size else None

    @property
    def coverage_mm(self) -> float:
        """Extent along the slice normal, first to last slice plus one gap."""
        s = self.spacing_mm
        return float(self.positions[-1] - self.positions[0] + s) if s else 0.0

    @property
    def axial(self) -> bool:
        if self.orientation is None:
            return False
        r, c = np.asarray(self.orientation[:3]), np.asarray(self.orientation[3:])
        return abs(float(np.cross(r, c)[2])) >= AXIAL_COSINE


@dataclass(frozen=True)
class Decision:
    """What became of one series: ``chosen``, ``not chosen`` or ``skipped``, and why."""

    patient: str
    """The patient as the manifest names them (a pseudonym with ``pseudonymise``)."""
    key: str
    """``<study>.<series number>``: the patient's study in date order, then the series number (``--series`` takes it)."""
    series: SeriesInfo = field(repr=False)
    decision: str = "skipped"
    reason: str = ""

    def row(self) -> dict[str, object]:
        s = self.series
        return {
            "patient_id": self.patient, "series": self.key, "decision": self.decision, "reason": self.reason, "modality": s.modality,
            "images": len(s.files), "slice_spacing_mm": _round(s.spacing_mm), "coverage_mm": _round(s.coverage_mm) if len(s.positions) > 1 else None,
            "kernel": s.kernel or None,
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 2)


@dataclass(frozen=True)
class ExportResult:
    """What ``manifest_from_dicom`` wrote and decided."""

    manifest: Path
    dictionary: Path
    report: Path
    decisions: tuple[Decision, ...]
    notes: tuple[str, ...] = ()
    key_file: Path | None = None


# ------------------------------------------------------------------------------------ reading


def _text(ds: object, name: str) -> str:
    v = getattr(ds, name, None)
    return "" if v is None else str(v).strip()


def _values(ds: object, name: str) -> tuple[str, ...]:
    """A tag that may hold one value or several (pydicom's MultiValue), as strings."""
    v = getattr(ds, name, None)
    if v is None or v == "":
        return ()
    return (str(v).strip(),) if isinstance(v, str) else tuple(str(x).strip() for x in v)


def _floats(ds: object, name: str) -> tuple[float, ...] | None:
    v = getattr(ds, name, None)
    try:
        return tuple(float(x) for x in v) if v is not None else None
    except (TypeError, ValueError):
        return None


def _read_header(path: Path) -> dict[str, object] | None:
    """The tags this module uses, or None for a file that is not DICOM (or is a DICOMDIR)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_TAGS)
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError, AttributeError):
        return None
    meta = getattr(ds, "file_meta", None)
    if path.name.upper() == "DICOMDIR" or (meta is not None and str(getattr(meta, "MediaStorageSOPClassUID", "")) == DICOMDIR_CLASS):
        return None
    sop = _text(ds, "SOPClassUID") or (str(getattr(meta, "MediaStorageSOPClassUID", "")) if meta is not None else "")
    try:
        number = int(ds.SeriesNumber) if getattr(ds, "SeriesNumber", None) not in (None, "") else None
    except (TypeError, ValueError):
        number = None
    return {
        "patient_id": _text(ds, "PatientID"), "study_uid": _text(ds, "StudyInstanceUID"), "series_uid": _text(ds, "SeriesInstanceUID"),
        "modality": _text(ds, "Modality").upper(), "sop_class": sop,
        "image_type": tuple(v.upper() for v in _values(ds, "ImageType")),
        "series_number": number, "study_date": _text(ds, "StudyDate"), "accession": _text(ds, "AccessionNumber"),
        "institution": _text(ds, "InstitutionName"), "kernel": "\\".join(_values(ds, "ConvolutionKernel")),
        "description": _text(ds, "SeriesDescription"), "orientation": _floats(ds, "ImageOrientationPatient"),
        "position": _floats(ds, "ImagePositionPatient"), "size": (int(getattr(ds, "Rows", 0) or 0), int(getattr(ds, "Columns", 0) or 0)),
        "frames": int(getattr(ds, "NumberOfFrames", 1) or 1),
    }


def scan_export(folder: str | os.PathLike[str]) -> tuple[list[SeriesInfo], int]:
    """Every DICOM series under ``folder`` (any nesting; a DICOMDIR is not needed), and the number of other files skipped."""
    root = Path(folder)
    groups: dict[tuple[str, str, str], list[tuple[Path, dict[str, object]]]] = {}
    other = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h = _read_header(path)
        if h is None:
            other += 1
            continue
        key = (str(h["patient_id"]), str(h["study_uid"]), str(h["series_uid"]) or f"(no series uid) {path.parent}")
        groups.setdefault(key, []).append((path, h))
    out = []
    for (pid, study, series), items in groups.items():
        first = items[0][1]
        orientation = first["orientation"]
        positions: tuple[float, ...] = ()
        if orientation is not None and len(orientation) == 6 and all(h["position"] is not None and len(h["position"]) == 3 for _, h in items):  # type: ignore[arg-type]
            normal = np.cross(np.asarray(orientation[:3]), np.asarray(orientation[3:]))  # type: ignore[index]
            positions = tuple(sorted(float(np.dot(normal, np.asarray(h["position"]))) for _, h in items))
        out.append(SeriesInfo(
            patient_id=pid, study_uid=study, series_uid=series, files=tuple(p for p, _ in items),
            modality=str(first["modality"]), sop_class=str(first["sop_class"]), image_type=tuple(first["image_type"]),  # type: ignore[arg-type]
            series_number=first["series_number"], study_date=str(first["study_date"]), accession=str(first["accession"]),  # type: ignore[arg-type]
            institution=str(first["institution"]), kernel=str(first["kernel"]), description=str(first["description"]),
            orientation=orientation if orientation is not None and len(orientation) == 6 else None,  # type: ignore[arg-type]
            positions=positions, sizes=frozenset(cast(tuple[int, int], h["size"]) for _, h in items), frames=max(int(h["frames"]) for _, h in items),  # type: ignore[call-overload]
        ))
    return out, other


# ----------------------------------------------------------------------------------- choosing


def skip_reason(s: SeriesInfo) -> str | None:
    """Why a series cannot be a sinus study's CT, or None when it can."""
    if s.modality == "SR" or s.sop_class.startswith("1.2.840.10008.5.1.4.1.1.88."):
        return "a structured report (e.g. a radiation dose report), not images"
    if s.modality != "CT":
        return f"modality {s.modality or 'unknown (no Modality tag)'}, not CT"
    if s.sop_class in SECONDARY_CAPTURE or s.sop_class.startswith("1.2.840.10008.5.1.4.1.1.7."):
        what = "a dose page" if "dose" in s.description.casefold() else "a screenshot or saved page"
        return f"a secondary capture ({what}), not a CT reconstruction"
    if "LOCALIZER" in s.image_type:
        return "a scout (localizer) image"
    if s.sop_class == ENHANCED_CT or s.frames > 1:
        return "an enhanced (multi-frame) CT object, which the pipeline does not read: export the series as classic CT images"
    if s.sop_class and s.sop_class != CT_IMAGE:
        return "not a CT image object (SOP class is not CT Image Storage)"
    if s.orientation is None or not s.positions:
        return "no slice position or orientation (ImagePositionPatient / ImageOrientationPatient missing)"
    if len(s.sizes) > 1:
        return "images of different sizes in one series"
    if not s.axial:
        return "not axial (a coronal or sagittal reformat)"
    if len(s.files) < MIN_VOXELS_PER_AXIS:
        return f"only {len(s.files)} image(s); a volume needs at least {MIN_VOXELS_PER_AXIS}"
    gaps = np.diff(s.positions)
    if gaps.size and (gaps.min() <= 1e-3 or (gaps.max() - gaps.min()) > UNEVEN_SLICE_SPACING * float(np.median(gaps))):
        return f"uneven slice spacing ({gaps.min():.2g} to {gaps.max():.2g} mm): a slice is missing, or two reconstructions share the series"
    if s.coverage_mm < SINUS_COVERAGE_MM:
        return f"covers {s.coverage_mm:.0f} mm along the head's axis; the paranasal sinuses need at least {SINUS_COVERAGE_MM:.0f} mm"
    return None


def _study_order(series: Sequence[SeriesInfo]) -> dict[str, int]:
    """Study uid -> 1, 2, ... in date order (undated studies last, then by uid for a stable order)."""
    studies = sorted({(s.study_date or "99999999", s.study_uid) for s in series})
    return {uid: k for k, (_, uid) in enumerate(studies, start=1)}


def _key(s: SeriesInfo, study: Mapping[str, int]) -> str:
    return f"{study[s.study_uid]}.{s.series_number if s.series_number is not None else '?'}"


def choose_series(series: Sequence[SeriesInfo], *, patient: str, override: str | None = None) -> list[Decision]:
    """Decisions for one patient's series (see the module docstring for the rule).

    Raises
    ------
    DicomExportError
        When ``override`` names no series of this patient (the message lists them).
    """
    study = _study_order(series)
    ordered = sorted(series, key=lambda s: (study[s.study_uid], s.series_number if s.series_number is not None else 10**9))
    decisions = [Decision(patient, _key(s, study), s, "skipped", r) if (r := skip_reason(s)) else Decision(patient, _key(s, study), s, "candidate") for s in ordered]
    if override is not None:
        keys = [d.key for d in decisions]
        wanted = override if "." in override else f"{min(study.values())}.{override}" if len(study) == 1 else override
        if wanted not in keys:
            raise DicomExportError(Path("--series"), [f"patient {patient}: --series {override} names no series of theirs; their series are {', '.join(keys)} (study.series number, see series_decisions.csv)"])
        out = []
        for d in decisions:
            if d.key == wanted:
                why = "chosen with --series" + (f" (the rule would skip it: {d.reason})" if d.decision == "skipped" else "")
                out.append(replace(d, decision="chosen", reason=why))
            elif d.decision == "candidate":
                out.append(replace(d, decision="not chosen", reason=f"--series chose {wanted}"))
            else:
                out.append(d)
        return out
    candidates = [d for d in decisions if d.decision == "candidate"]
    if not candidates:
        return decisions
    first_study = min(study[d.series.study_uid] for d in candidates)

    def rank(d: Decision) -> tuple[float, float, int]:
        return (round(d.series.spacing_mm or 1e9, 2), -round(d.series.coverage_mm, 0), d.series.series_number if d.series.series_number is not None else 10**9)

    in_first = sorted((d for d in candidates if study[d.series.study_uid] == first_study), key=rank)
    best = in_first[0]
    ties = [d for d in in_first[1:] if rank(d)[:2] == rank(best)[:2]]
    reason = f"the thinnest axial CT covering the sinuses ({best.series.spacing_mm:.2g} mm slices, {best.series.coverage_mm:.0f} mm)"
    if ties:
        kernels = ", ".join(f"{d.key}" + (f" kernel {d.series.kernel}" if d.series.kernel else "") for d in ties)
        reason += f"; a tie with {kernels} (same spacing and coverage): the lower series number was taken" + (f" (kernel {best.series.kernel})" if best.series.kernel else "") + "; --series overrides"
    if len(study) > 1:
        reason += f"; the patient has {len(study)} studies: the first with a usable series was taken"
    out = []
    for d in decisions:
        if d is best:
            out.append(replace(d, decision="chosen", reason=reason))
        elif d.decision == "candidate":
            if study[d.series.study_uid] != first_study:
                why = f"a later study (study {study[d.series.study_uid]})"
            elif d in ties:
                why = f"a tie with {best.key}: same spacing and coverage, higher series number"
            else:
                why = f"thicker or shorter than {best.key} ({d.series.spacing_mm:.2g} mm slices, {d.series.coverage_mm:.0f} mm)"
            out.append(replace(d, decision="not chosen", reason=why))
        else:
            out.append(d)
    return out


# ------------------------------------------------------------------------------------- writing


def _pseudonyms(key_file: Path, patients: Sequence[str], out: Path) -> dict[str, str]:
    """Patient id -> pseudonym, from (and added to) a key file that must lie outside the output folder."""
    kf, od = key_file.resolve(), out.resolve()
    if kf == od or od in kf.parents:
        raise DicomExportError(out, [f"the key file {key_file} lies inside the output folder {out}: it links pseudonyms to patient ids and must be kept apart (e.g. --pseudonymise ~/keys/{out.name}.key.csv)"])
    known: dict[str, str] = {}
    if kf.exists():
        try:
            t = pd.read_csv(kf, dtype=str, keep_default_na=False)
            known = dict(zip(t["patient_id"], t["pseudonym"]))
        except (OSError, ValueError, KeyError, pd.errors.ParserError) as exc:
            raise DicomExportError(out, [f"the key file {key_file} cannot be read as a table with columns patient_id and pseudonym ({type(exc).__name__}); give a new file name or repair it"]) from None
    used = {int(m.group(1)) for p in known.values() if (m := re.fullmatch(r"R(\d+)", p))}
    n = max(used, default=0)
    for pid in sorted(set(patients) - set(known)):  # numbered in sorted order: reproducible, and the key file keeps them stable
        n += 1
        known[pid] = f"R{n:04d}"
    return known


def _centre_of(s: SeriesInfo, center: str | None, center_map: Mapping[str, str] | None) -> tuple[str, str | None]:
    if center is not None:
        return center, None
    if center_map is None:
        return "", "no centre: give --center NAME, or --center-map YAML (InstitutionName: centre)"
    if not s.institution:
        return "", "no InstitutionName in the header: give --center NAME for this export"
    folded = {k.strip().casefold(): v for k, v in center_map.items()}
    if s.institution.casefold() in folded:
        return str(folded[s.institution.casefold()]), None
    return "", f"InstitutionName '{s.institution}' is not in the --center-map file; add it"


def _load_center_map(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, yaml.YAMLError) as exc:
        raise DicomExportError(path, [f"--center-map {path}: cannot be read as YAML ({type(exc).__name__}); write one line per institution, 'Institution name: centre'"]) from None
    if not isinstance(data, dict) or not data:
        raise DicomExportError(path, [f"--center-map {path}: expected a mapping 'Institution name: centre', one per line"])
    return {str(k): str(v) for k, v in data.items()}


_JOIN_NAMES = {"patient_id": ("patient_id", "patientid", "patient", "pid", "mrn"), "accession": ("accession", "accession_number", "accessionnumber", "acc_no", "accession_no")}


def _read_labels(path: Path, join: str, join_column: str | None) -> tuple[pd.DataFrame, str]:
    """The label sheet as text, and its key column's name."""
    try:
        raw = read_table(path)
    except TableReadError as exc:
        raise DicomExportError(path, [str(exc)]) from None
    header = list(raw.header)
    if join_column is not None:
        names = [h for h in header if normalise_name(h) == normalise_name(join_column)]
    else:
        names = [h for h in header if normalise_name(h) in _JOIN_NAMES[join]]
    if len(names) != 1:
        want = f"'{join_column}'" if join_column else f"one of {', '.join(_JOIN_NAMES[join])}"
        raise DicomExportError(path, [f"--labels {path}: the key column ({want}) was {'not found' if not names else 'found twice'} among its columns ({', '.join(h for h in header if h.strip())}); name it with --join-column"])
    table = pd.DataFrame({h: raw.cells[i] for i, h in enumerate(header) if h.strip()})
    key = names[0]
    dup = table[key][table[key].duplicated(keep=False) & (table[key] != "")]
    if not dup.empty:
        raise DicomExportError(path, [f"--labels {path}: {dup.nunique()} key value(s) in column '{key}' appear on several rows (rows {', '.join(str(raw.rows[i]) for i in dup.index[:10])}); one row per {join.replace('_', ' ')}"])
    return table, key


def _link_series(s: SeriesInfo, folder: Path) -> None:
    """A folder holding only this series: links to its files (copies where links cannot be made)."""
    with atomic_dir(folder) as tmp:
        for k, f in enumerate(s.files):
            dest = tmp / f"{k:05d}.dcm"
            try:
                dest.symlink_to(os.path.relpath(f.resolve(), folder))
            except OSError:  # no symbolic links here (e.g. Windows without the privilege): copy
                shutil.copy2(f, dest)


def _gdcm_problem(folder: Path, s: SeriesInfo) -> str | None:
    """Does SimpleITK's GDCM reader, which the pipeline uses, see exactly this series in the folder?"""
    import SimpleITK as sitk

    with quiet_itk():
        ids = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
        files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), ids[0]) if len(ids) == 1 else ()
    if len(ids) != 1 or len(files) != len(s.files):
        return f"SimpleITK's DICOM reader sees {len(ids)} series and {len(files)} of the {len(s.files)} images in the chosen series' folder"
    return None


def manifest_from_dicom(
    export: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    center: str | None = None,
    center_map: str | os.PathLike[str] | None = None,
    labels: str | os.PathLike[str] | None = None,
    join: str = "patient_id",
    join_column: str | None = None,
    label_column: str | None = None,
    series: Mapping[str, str] | None = None,
    pseudonymise: str | os.PathLike[str] | None = None,
    segments: Mapping[str, str] | None = None,
) -> ExportResult:
    """Write a manifest, a data-dictionary stub and the series decisions for a DICOM export.

    Parameters
    ----------
    export : path
        The export folder (any nesting, DICOMDIR optional).
    out : path
        Output folder: ``manifest.csv``, ``manifest.dictionary.yaml``, ``series_decisions.csv``
        and, for series that share a folder, ``series/<patient>/`` (links to their files).
    center, center_map : optional
        The centre of every patient, or a YAML file mapping InstitutionName -> centre.
    labels : path, optional
        CSV/xlsx with a label column and clinical columns, one row per patient (or accession).
        Mask columns (``roi_mask``, ``sinus_mask``) holding relative paths are read from the
        sheet's folder and rewritten relative to ``out``.
    join : {"patient_id", "accession"}
        What the label sheet's key column holds: PatientID or AccessionNumber (of the chosen study).
    join_column : str, optional
        The key column's name (default: found by name, e.g. ``patient_id``, ``MRN``, ``accession``).
    label_column : str, optional
        The sheet's column holding the label, written as ``label`` (default: a column named ``label``).
    series : mapping, optional
        Patient id (or pseudonym) -> series key ``<study>.<series number>`` from the decisions.
    pseudonymise : path, optional
        Key file (CSV, outside ``out``) of patient id -> pseudonym, created or extended.
    segments : mapping, optional
        Mask column -> segment name, written into the dictionary stub (``segment:``) for masks
        saved as Slicer, DICOM-SEG or RTSTRUCT files.

    Raises
    ------
    DicomExportError
        Listing every problem (patients without a usable series, an unmapped centre, a patient
        missing from the label sheet ...); nothing is written then.
    """
    root, dest = Path(export), Path(out)
    if not root.is_dir():
        raise DicomExportError(root, ["the export folder does not exist (or is a file); give the folder that holds the DICOM files"])
    if center is not None and center_map is not None:
        raise DicomExportError(root, ["give either --center or --center-map, not both"])
    mapping = _load_center_map(Path(center_map)) if center_map is not None else None
    found, other = scan_export(root)
    if not found:
        raise DicomExportError(root, [f"no DICOM file found ({other} other file(s)); is this the export folder?"])
    problems: list[str] = []
    no_pid = [s for s in found if not s.patient_id]
    if no_pid:
        problems.append(f"{sum(len(s.files) for s in no_pid)} DICOM file(s) in {len(no_pid)} series have no PatientID: they cannot be given to a patient; export them again with the patient id")
    by_patient: dict[str, list[SeriesInfo]] = {}
    for s in found:
        if s.patient_id:
            by_patient.setdefault(s.patient_id, []).append(s)
    key_table = _pseudonyms(Path(pseudonymise), list(by_patient), dest) if pseudonymise is not None else None
    names = {p: key_table[p] for p in by_patient} if key_table is not None else {p: p for p in by_patient}
    overrides = dict(series or {})
    reverse = {v: k for k, v in names.items()}
    unknown = [p for p in overrides if p not in by_patient and p not in reverse]
    if unknown:
        problems.append(f"--series names patient(s) not in the export: {', '.join(unknown)}")
    decisions: list[Decision] = []
    chosen: dict[str, SeriesInfo] = {}
    for pid, items in sorted(by_patient.items()):
        wanted = overrides.get(pid, overrides.get(names[pid]))
        try:
            ds = choose_series(items, patient=names[pid], override=wanted)
        except DicomExportError as exc:
            problems += exc.problems
            continue
        decisions += ds
        pick = [d for d in ds if d.decision == "chosen"]
        if pick:
            chosen[pid] = pick[0].series
        else:
            problems.append(f"patient {names[pid]}: no usable CT series ({len(ds)} series: " + "; ".join(f"{d.key}: {d.reason}" for d in ds) + "); choose one with --series " + f"{names[pid]}=STUDY.SERIES or export the thin axial reconstruction")
    rows: list[dict[str, object]] = []
    for pid, s in chosen.items():
        centre, why = _centre_of(s, center, mapping)
        if why:
            problems.append(f"patient {names[pid]}: {why}")
        date = f"{s.study_date[:4]}-{s.study_date[4:6]}-{s.study_date[6:8]}" if re.fullmatch(r"\d{8}", s.study_date) else ""
        rows.append({"patient_id": names[pid], "center": centre, "scan_date": date, "_series": s, "_pid": pid})
    if any(not r["scan_date"] for r in rows):
        bad = [str(r["patient_id"]) for r in rows if not r["scan_date"]]
        problems.append(f"patient(s) {', '.join(bad)}: the chosen study has no StudyDate (YYYYMMDD); scan_date is left empty: fill it in the manifest before validating")
    extra = pd.DataFrame()
    notes: list[str] = []
    if other:
        notes.append(f"{other} file(s) that are not DICOM images were skipped (DICOMDIR, text, thumbnails ...)")
    if labels is not None:
        sheet, key = _read_labels(Path(labels), join, join_column)
        keys = [(s.patient_id if join == "patient_id" else s.accession) for s in (r["_series"] for r in rows)]  # type: ignore[attr-defined]
        index = {v.strip(): i for i, v in enumerate(sheet[key])}
        missing = [str(r["patient_id"]) for r, k in zip(rows, keys) if k.strip() not in index]
        if missing:
            problems.append(f"--labels {labels}: {len(missing)} patient(s) of the export have no row (joined on {join.replace('_', ' ')} in column '{key}'): {', '.join(missing[:20])}")
        unused = len(index) - len({k.strip() for k in keys} & set(index))
        if unused:
            notes.append(f"{unused} row(s) of the label sheet match no patient of the export")
        extra = pd.DataFrame([sheet.iloc[index[k.strip()]] if k.strip() in index else pd.Series(dtype=object) for k in keys]).reset_index(drop=True)
        extra = extra.drop(columns=[key] + [c for c in extra.columns if normalise_name(c) in ("patient_id", "center", "centre", "scan_date", "image")], errors="ignore")
        if label_column is not None:
            named = [c for c in extra.columns if normalise_name(c) == normalise_name(label_column)]
            if not named:
                problems.append(f"--label-column {label_column}: no such column in {labels} (columns: {', '.join(map(str, extra.columns))})")
            else:
                extra = extra.drop(columns=[c for c in extra.columns if normalise_name(c) == "label" and c != named[0]]).rename(columns={named[0]: "label"})
        base = Path(labels).resolve().parent
        for c in extra.columns:
            if normalise_name(c) in ("roi_mask", "sinus_mask"):
                extra[c] = [os.path.relpath(base / v, dest.resolve()) if isinstance(v, str) and v and not Path(v).is_absolute() else v for v in extra[c]]
    if problems:
        raise DicomExportError(root, problems)

    dest.mkdir(parents=True, exist_ok=True)
    folder_series: dict[Path, set[str]] = {}
    for other_s in found:
        for f in other_s.files:
            folder_series.setdefault(f.parent, set()).add(other_s.series_uid)
    images, made = [], []
    for r in rows:
        s = cast(SeriesInfo, r["_series"])
        folders = {f.parent for f in s.files}
        # a folder of its own for a series that shares its folder (the reader wants one series per folder), and
        # always with pseudonyms: an export's folder names often carry the patient's name
        shared = len(folders) != 1 or pseudonymise is not None or len(folder_series[next(iter(folders))]) > 1
        folder = dest / "series" / str(r["patient_id"]) if shared else next(iter(folders))
        if shared:
            _link_series(s, folder)
            made.append(folder)
        unreadable = _gdcm_problem(folder, s)
        if unreadable:
            problems.append(f"patient {r['patient_id']}: {unreadable}; export the series again")
        images.append(os.path.relpath(folder.resolve(), dest.resolve()))
    if problems:
        for folder in made:  # nothing half-made stays behind
            shutil.rmtree(folder, ignore_errors=True)
        raise DicomExportError(root, problems)
    if key_table is not None:
        write_csv(pd.DataFrame({"patient_id": list(key_table), "pseudonym": list(key_table.values())}), Path(pseudonymise))  # type: ignore[arg-type]
    manifest = pd.DataFrame({"patient_id": [r["patient_id"] for r in rows], "center": [r["center"] for r in rows], "scan_date": [r["scan_date"] for r in rows]})
    if "label" not in {normalise_name(c) for c in extra.columns}:
        manifest["label"] = ""
        notes.append("no label column: fill 'label' (1 eosinophilic, 0 not) in manifest.csv, or give --labels")
    manifest = pd.concat([manifest, extra], axis=1)
    manifest.insert(len(manifest.columns) - len(extra.columns), "image", images)
    report = pd.DataFrame([d.row() for d in decisions])
    write_csv(report, dest / "series_decisions.csv")
    header = [str(c) for c in manifest.columns]
    stub = draft_dictionary(header, {i: manifest.iloc[:, i].astype(str).tolist() for i in range(len(header))}, manifest_name="manifest.csv")
    for column, name in (segments or {}).items():
        entry = yaml.safe_dump({"role": "mask", "mask": column, "segment": name}, default_flow_style=True, sort_keys=False, width=10_000).strip()
        stub, n = re.subn(rf"^  {re.escape(column)}:.*$", lambda _: f"  {column}: {entry}", stub, flags=re.M)
        if not n:
            stub += f"  {column}: {entry}\n"
    write_text(stub, dest / "manifest.dictionary.yaml")
    write_csv(manifest, dest / "manifest.csv")
    return ExportResult(dest / "manifest.csv", dest / "manifest.dictionary.yaml", dest / "series_decisions.csv", tuple(decisions), tuple(notes), Path(pseudonymise) if pseudonymise else None)
