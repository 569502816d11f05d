"""The data dictionary: what every column of a manifest is, declared by the user, never guessed.

A YAML file beside the manifest (``manifest.csv`` -> ``manifest.dictionary.yaml``) or named
in the parameters (``studies.<study>.dictionary``)::

    columns:
      MRN: id                  # short form: name: role
      Centre: centre
      CT date: date
      eCRS: label
      CT file: image
      ROI: {role: mask, mask: roi_mask}
      Sinus: {role: mask, mask: sinus_mask, segment: Sinuses}   # a segment of Slicer/DICOM-SEG/RTSTRUCT files
      age: {role: clinical, type: continuous, unit: years, min: 0, max: 110}
      asthma: {role: clinical, type: binary}
      smoking: {role: clinical, type: categorical, levels: [never, former, current]}
      date_of_birth: identifying
      tissue_eos_hpf: exclude
      Endotype: {role: label, values: {eCRS: 1, non-eCRS: 0}}   # a label written in words
      bmi: {role: clinical, type: continuous, missing: false}    # refuse missing values here

Roles: ``id``, ``label``, ``centre``, ``date`` (scan date), ``image``, ``mask``, ``clinical``,
``identifying``, ``exclude``.  ``values:`` maps words to 0/1 for a label or a binary clinical
column (``{yes: 1, no: 0}``); ``missing: false`` refuses missing values in a clinical column
(they are allowed by default, and counted).  The standard column names of the manifest format
(``patient_id``, ``center``, ``scan_date``, ``label``, ``image``, ``roi_mask``, ``sinus_mask``)
need no entry.  Only ``clinical`` columns become candidate predictors; every other column is
ignored and listed as such.  Names match after trimming, case-folding and reading spaces
and hyphens as ``_``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ROLES", "CLINICAL_TYPES", "STANDARD_COLUMNS", "ColumnSpec", "DataDictionary", "DictionaryError",
    "normalise_name", "dictionary_path", "load_dictionary", "parse_dictionary", "synthetic_dictionary",
    "label_source_reason", "identifying_reason", "draft_dictionary",
]

ROLES = ("id", "label", "centre", "date", "image", "mask", "clinical", "identifying", "exclude")
SINGLE_ROLES = {"id": "patient_id", "label": "label", "centre": "center", "date": "scan_date", "image": "image"}
"""Roles one column at most may have, and the manifest column name each stands for."""
MASK_NAMES = ("roi_mask", "sinus_mask")
CLINICAL_TYPES = ("continuous", "binary", "categorical")
STANDARD_COLUMNS = {
    "patient_id": "id", "center": "centre", "centre": "centre", "scan_date": "date", "label": "label", "image": "image",
    "roi_mask": "mask", "sinus_mask": "mask",
}
"""Column names of the manifest format, recognised without a dictionary entry."""
_KEYS = {"role", "type", "unit", "levels", "min", "max", "mask", "description", "leakage_checked", "values", "missing", "segment"}
# YAML 1.1 (PyYAML) reads an unquoted yes/no/true/false/on/off key as a boolean: the words it stood for.
_YAML_BOOL_WORDS = {True: ("y", "yes", "true", "on"), False: ("n", "no", "false", "off")}

# Histology is how the label is made (>= 10 tissue eosinophils per high-power field): such a
# column is the label's source, never a predictor.
_LABEL_SOURCE = re.compile(r"(tissue.*eos|eos.*tissue|eos.*hpf|hpf|histolog|patholog|biopsy|eosinophils?_per)")
_IDENTIFYING = re.compile(r"(^|_)(mrn|nhs|ssn|dob|name|surname|first_?name|last_?name|address|phone|email|birth|date_of_birth|birth_?date|insurance|zip|postcode|postal)(_|$)")


class DictionaryError(ValueError):
    """A data dictionary that cannot be used; ``problems`` holds one line per broken entry."""

    def __init__(self, path: Path | None, problems: list[str]):
        self.path = path
        self.problems = problems
        where = str(path) if path else "data dictionary"
        super().__init__(f"{where}: " + "; ".join(problems))


def normalise_name(name: str) -> str:
    """Trimmed, case-folded, spaces and hyphens as ``_``: "Patient ID " -> "patient_id"."""
    return re.sub(r"[\s\-]+", "_", str(name).strip()).casefold()


@dataclass(frozen=True)
class ColumnSpec:
    """One column's declaration."""

    name: str
    """Name as written in the dictionary (matched to the manifest after :func:`normalise_name`)."""
    role: str
    type: str | None = None
    unit: str | None = None
    levels: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    mask: str | None = None
    """For role ``mask``: which mask it is (``roi_mask`` or ``sinus_mask``)."""
    leakage_checked: bool = False
    """Set by the user for a clinical column that predicts the label almost perfectly but is known not to be derived from it."""
    values: tuple[tuple[str, float], ...] | None = None
    """For a label or binary column: words -> 0/1 (case-insensitive), e.g. ``(("ecrs", 1.0), ("non-ecrs", 0.0))``."""
    missing: bool = True
    """Whether a clinical column may hold missing values (``missing: false`` refuses them)."""
    segment: str | None = None
    """For a mask column of Slicer / DICOM-SEG / RTSTRUCT files: the segment (region) name to use."""

    def value_of(self, text: str) -> float | None:
        """The 0/1 a word stands for under the declared ``values``, or None."""
        key = str(text).strip().casefold()
        return next((v for k, v in self.values or () if k == key), None)

    @property
    def target(self) -> str:
        """The manifest column this one stands for (``patient_id`` for role ``id``, the mask name for masks, else its own name)."""
        if self.role in SINGLE_ROLES:
            return SINGLE_ROLES[self.role]
        if self.role == "mask":
            return self.mask or normalise_name(self.name)
        return self.name


@dataclass(frozen=True)
class DataDictionary:
    """Column declarations of one manifest."""

    columns: tuple[ColumnSpec, ...]
    source: Path | None = None

    def lookup(self, name: str) -> ColumnSpec | None:
        key = normalise_name(name)
        return next((c for c in self.columns if normalise_name(c.name) == key), None)


def dictionary_path(manifest: str | os.PathLike[str]) -> Path | None:
    """``<folder>/<manifest stem>.dictionary.yaml`` (or ``.yml``) if it exists."""
    m = Path(manifest)
    for suffix in (".yaml", ".yml"):
        p = m.with_name(f"{m.stem}.dictionary{suffix}")
        if p.is_file():
            return p
    return None


def _number(value: Any, key: str, name: str, problems: list[str]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(f"column '{name}': {key} must be a number, got '{value}'")
        return None
    return float(value)


def _spec(name: str, entry: Any, problems: list[str]) -> ColumnSpec | None:
    if isinstance(entry, str):
        entry = {"role": entry}
    if not isinstance(entry, dict):
        problems.append(f"column '{name}': expected a role (e.g. clinical) or a mapping such as {{role: clinical, type: binary}}")
        return None
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        problems.append(f"column '{name}': unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
    role = str(entry.get("role", "")).strip().casefold()
    role = {"center": "centre", "scan_date": "date", "patient_id": "id"}.get(role, role)
    if role not in ROLES:
        problems.append(f"column '{name}': role '{entry.get('role')}' is not one of {', '.join(ROLES)}")
        return None
    kind = entry.get("type")
    levels = entry.get("levels")
    mask = entry.get("mask")
    if role == "clinical":
        if kind not in CLINICAL_TYPES:
            problems.append(f"column '{name}': a clinical column needs type: {', '.join(CLINICAL_TYPES)} (got '{kind}')")
        if kind == "categorical" and levels is not None and (not isinstance(levels, list) or len(levels) < 2):
            problems.append(f"column '{name}': levels must be a list of at least two values, the first being the reference")
    elif kind is not None or levels is not None:
        problems.append(f"column '{name}': type and levels belong to clinical columns only (role is {role})")
    if role == "mask":
        mask = mask or normalise_name(name)
        if mask not in MASK_NAMES:
            problems.append(f"column '{name}': say which mask it is with mask: {' or '.join(MASK_NAMES)}")
    elif mask is not None:
        problems.append(f"column '{name}': 'mask:' belongs to role mask only")
    segment = entry.get("segment")
    if segment is not None and (role != "mask" or not isinstance(segment, (str, int)) or not str(segment).strip()):
        problems.append(f"column '{name}': segment: names the segment of a mask column (role mask), e.g. segment: Segment_1")
        segment = None
    values = _values(name, entry.get("values"), role, kind, problems)
    missing = entry.get("missing", True)
    if not isinstance(missing, bool):
        problems.append(f"column '{name}': missing must be true or false, got '{missing}'")
    elif missing is False and role != "clinical":
        problems.append(f"column '{name}': 'missing: false' belongs to clinical columns (the {role} column never allows a missing value)")
    return ColumnSpec(
        name=str(name),
        role=role,
        type=kind if role == "clinical" else None,
        unit=None if entry.get("unit") is None else str(entry["unit"]),
        levels=tuple(str(v) for v in levels) if isinstance(levels, list) else None,
        min=_number(entry.get("min"), "min", name, problems),
        max=_number(entry.get("max"), "max", name, problems),
        mask=mask if role == "mask" else None,
        leakage_checked=bool(entry.get("leakage_checked", False)),
        values=values,
        missing=missing if isinstance(missing, bool) else True,
        segment=None if segment is None else str(segment).strip(),
    )


def _values(name: str, raw: Any, role: str, kind: Any, problems: list[str]) -> tuple[tuple[str, float], ...] | None:
    """``values: {eCRS: 1, non-eCRS: 0}`` as (case-folded word, 0/1) pairs; unquoted yes/no/true/false keys included."""
    if raw is None:
        return None
    if role != "label" and not (role == "clinical" and kind == "binary"):
        problems.append(f"column '{name}': values: (words -> 0/1) belongs to the label column or a binary clinical column")
        return None
    if not isinstance(raw, dict) or not raw:
        problems.append(f"column '{name}': values must map each word to 0 or 1, e.g. values: {{eCRS: 1, non-eCRS: 0}}")
        return None
    out: list[tuple[str, float]] = []
    for word, v in raw.items():
        if isinstance(v, bool) or v not in (0, 1):
            problems.append(f"column '{name}': values: '{word}' must map to 0 or 1, got '{v}'")
            continue
        words = _YAML_BOOL_WORDS[word] if isinstance(word, bool) else (str(word).strip().casefold(),)
        out += [(w, float(v)) for w in words]
    if out and len({v for _, v in out}) < 2:
        problems.append(f"column '{name}': values must name a word for 0 and a word for 1")
    return tuple(out)


def parse_dictionary(data: Any, *, source: Path | None = None) -> DataDictionary:
    """A :class:`DataDictionary` from its YAML content (``{"columns": {name: role or mapping}}``).

    Raises
    ------
    DictionaryError
        Listing every broken entry: unknown role or key, clinical column without a type,
        two columns with the same name, a single role (id, label, ...) given twice.
    """
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict) or not data["columns"]:
        raise DictionaryError(source, ["expected a mapping 'columns:' with one entry per manifest column, e.g. 'columns: {age: {role: clinical, type: continuous}}'"])
    extra = sorted(set(data) - {"columns", "description", "version"})
    problems: list[str] = [f"unknown top-level key(s) {', '.join(extra)}; expected 'columns'"] if extra else []
    specs: list[ColumnSpec] = []
    seen: dict[str, str] = {}
    for name, entry in data["columns"].items():
        key = normalise_name(str(name))
        if key in seen:
            problems.append(f"columns '{seen[key]}' and '{name}' are the same name once trimmed and case-folded")
            continue
        seen[key] = str(name)
        spec = _spec(str(name), entry, problems)
        if spec is not None:
            specs.append(spec)
    for role in SINGLE_ROLES:
        named = [s.name for s in specs if s.role == role]
        if len(named) > 1:
            problems.append(f"role {role} is given to {len(named)} columns ({', '.join(named)}); only one column can have it")
    masks = [s.target for s in specs if s.role == "mask"]
    for m in sorted({m for m in masks if masks.count(m) > 1}):
        problems.append(f"two columns are declared as mask {m}")
    if problems:
        raise DictionaryError(source, problems)
    return DataDictionary(tuple(specs), source)


def load_dictionary(path: str | os.PathLike[str]) -> DataDictionary:
    """Read and check a data dictionary YAML file (see the module docstring for its format)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DictionaryError(p, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DictionaryError(p, [f"cannot be read as UTF-8 text ({type(exc).__name__})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise DictionaryError(p, [f"not valid YAML{where}: {getattr(exc, 'problem', None) or 'syntax error'}"]) from None
    return parse_dictionary(data, source=p)


def synthetic_dictionary(clinical: dict[str, str], *, lund_mackay: tuple[str, ...], excluded: tuple[str, ...] = ()) -> dict[str, Any]:
    """The dictionary the synthetic cohort generator writes beside its manifest (YAML-ready).

    Parameters
    ----------
    clinical : dict
        Clinical column -> type (``continuous`` / ``binary``).
    lund_mackay : tuple of str
        Lund-Mackay CT score columns (clinical, continuous, points).
    excluded : tuple of str
        Columns present in the manifest that must never become predictors.
    """
    units = {"age": "years", "blood_eos_pct": "% of leukocytes", "blood_eos_count": "10^9/L", "total_ige": "kU/L", "bmi": "kg/m^2"}
    cols: dict[str, Any] = {"patient_id": "id", "center": "centre", "scan_date": "date", "label": "label", "image": "image", "roi_mask": "mask", "sinus_mask": "mask"}
    for name, kind in clinical.items():
        cols[name] = {"role": "clinical", "type": kind, **({"unit": units[name]} if name in units else {})}
    for name in lund_mackay:
        cols[name] = {"role": "clinical", "type": "continuous", "unit": "Lund-Mackay points"}
    for name in excluded:
        cols[name] = "exclude"
    return {"description": "Data dictionary of the synthetic cohort (written by ecrs_analysis.data.synth)", "columns": cols}


def label_source_reason(name: str) -> str | None:
    """Why a column's name says it is the label's source (tissue eosinophils, histology), or None."""
    key = normalise_name(name)
    if _LABEL_SOURCE.search(key):
        return "its name says it holds tissue eosinophils or histology, which is how the label is made"
    return None


def identifying_reason(name: str) -> str | None:
    """Why a column's name says it identifies a person (MRN, name, date of birth, ...), or None."""
    key = normalise_name(name)
    m = _IDENTIFYING.search(key)
    return f"its name ('{m.group(2)}') says it identifies a person" if m else None


def _kind_hint(values: list[str]) -> str:
    seen = {v.strip().casefold() for v in values if v.strip() and v.strip().casefold() not in {"na", "n/a", "nan", "null", "."}}
    if not seen:
        return "empty column"
    if seen <= {"0", "1", "0.0", "1.0", "yes", "no", "y", "n", "true", "false"}:
        return "values look binary"
    try:
        [float(v.replace(",", ".")) for v in seen]
        return "values look numeric"
    except ValueError:
        return f"{len(seen)} distinct text values" + (f": {', '.join(sorted(seen)[:5])}" if len(seen) <= 5 else "")


def draft_dictionary(header: list[str] | tuple[str, ...], columns: dict[int, list[str]], *, manifest_name: str = "manifest.csv") -> str:
    """A starting data dictionary for a manifest, as YAML text to edit (nothing is guessed into use).

    Standard columns get their role; columns whose name says they identify a person get
    ``identifying``, the label's source ``exclude``; every other column is ``exclude`` with a
    comment describing its values, to be changed to ``{role: clinical, type: ...}`` by the user.
    """
    lines = [
        f"# Data dictionary of {manifest_name}: save as {Path(manifest_name).stem}.dictionary.yaml beside it.",
        "# Only columns with role clinical become candidate predictors; give each a type: continuous, binary or categorical.",
        "columns:",
    ]
    for i, name in enumerate(header):
        if not name.strip():
            continue
        key = normalise_name(name)
        quoted = yaml.safe_dump(name.strip(), default_style=None).strip().removesuffix("...").strip()
        if key in STANDARD_COLUMNS:
            role, why = STANDARD_COLUMNS[key], ""
        elif reason := identifying_reason(name):
            role, why = "identifying", reason
        elif reason := label_source_reason(name):
            role, why = "exclude", f"{reason}: never a predictor"
        else:
            role, why = "exclude", f"{_kind_hint(columns.get(i, []))}; to use it: {{role: clinical, type: ..., unit: ...}}"
        lines.append(f"  {quoted}: {role:<11}" + (f" # {why}" if why else "").rstrip())
    return "\n".join(lines) + "\n"
