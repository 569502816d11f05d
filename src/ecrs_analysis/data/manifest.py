"""The cohort manifest: its columns, and the one place where a cohort is validated.

A manifest is a table (CSV in UTF-8, UTF-8 with BOM, UTF-16 or Windows-1252, separated by
``,`` ``;`` or tab; or an ``.xlsx`` workbook), one row per patient:

=============  ========  =====================================================
column         required  meaning
=============  ========  =====================================================
patient_id     yes       unique identifier (never shown in the book)
center         yes       hospital name; must be one of the study's centres
scan_date      yes       date of the CT (YYYY-MM-DD)
label          yes       1 = eosinophilic CRS, 0 = non-eosinophilic
image          yes       CT: NIfTI/NRRD/MHA file or a DICOM series folder
roi_mask       study     lesion region of interest (first study)
sinus_mask     study     sinus-region segmentation (MTLNet)
(others)       no        only what the data dictionary declares (see
                         :mod:`ecrs_analysis.data.dictionary`); others are ignored
=============  ========  =====================================================

Paths are relative to the manifest's folder unless absolute.  Validation reads every
file and reports *all* problems at once, each with row (as a spreadsheet numbers it: the
header is row 1), patient (masked), column and file, and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

import numpy as np
import pandas as pd

from ecrs_analysis.data.cells import MISSING_MARKERS, is_missing, label_mapping_hint, missing_marker, parse_date
from ecrs_analysis.data.dictionary import (
    STANDARD_COLUMNS,
    ColumnSpec,
    DataDictionary,
    DictionaryError,
    dictionary_path,
    identifying_reason,
    label_source_reason,
    load_dictionary,
    normalise_name,
)
from ecrs_analysis.data.imageio import Geometry
from ecrs_analysis.data.integrity import ct_problems, mask_problems, quiet_itk, read_checked
from ecrs_analysis.data.masks import MaskReadError, mask_format, read_mask
from ecrs_analysis.data.tables import TableReadError, read_table
from ecrs_analysis.hashing import sha256_path

__all__ = ["REQUIRED_COLUMNS", "MASK_COLUMNS", "Problem", "ManifestError", "Cohort", "validate_manifest", "mask_id", "format_problems"]

REQUIRED_COLUMNS = ("patient_id", "center", "scan_date", "label", "image")
MASK_COLUMNS = ("roi_mask", "sinus_mask")
MISSING_TOKENS = frozenset(MISSING_MARKERS)
"""Cell values read as a missing value (case-insensitive; see :mod:`ecrs_analysis.data.cells`)."""
_BINARY = {"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0, "no": 0.0, "yes": 1.0, "n": 0.0, "y": 1.0, "false": 0.0, "true": 1.0}
LEAKAGE_AUC = 0.995
"""A clinical column that separates the classes this well (either direction) is refused as label leakage."""
LEAKAGE_MIN_PER_CLASS = 10
MAX_SHOWN_PER_KIND = 6


def mask_id(patient_id: str | None) -> str:
    """A patient id as shown in messages: first character and last two ("LI0001" -> "L…01"); short ids fully hidden."""
    if not patient_id:
        return ""
    pid = str(patient_id)
    return f"{pid[0]}…{pid[-2:]}" if len(pid) >= 6 else "…"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a manifest (or, in ``Cohort.notes``, worth knowing)."""

    message: str
    row: int | None = None
    """Row as a spreadsheet numbers it (the header is row 1)."""
    patient_id: str | None = None
    """The patient's id; shown masked (:func:`mask_id`)."""
    column: str | None = None
    """Column name as written in the manifest."""
    file: str | None = None
    """File as written in the manifest (or the manifest / dictionary itself)."""

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}" + (f" (patient {mask_id(self.patient_id)})" if self.patient_id else ""))
        if self.column:
            where.append(f"column '{self.column}'")
        if self.file:
            where.append(f"file {self.file}")
        return (", ".join(where) + ": " if where else "") + self.message


def format_problems(problems: Sequence[Problem]) -> list[str]:
    """One line per problem; a message repeated on many rows is shown a few times, then counted."""
    groups: dict[tuple[str | None, str], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.column, p.message), []).append(p)
    lines: list[str] = []
    shown: set[int] = set()
    for p in problems:
        group = groups[(p.column, p.message)]
        k = group.index(p)
        if k < MAX_SHOWN_PER_KIND or len(group) <= MAX_SHOWN_PER_KIND + 1:
            lines.append(f"  - {p}")
        elif id(group) not in shown:
            shown.add(id(group))
            rows = [q.row for q in group[k:] if q.row is not None]
            lines.append(f"  - ... and {len(group) - k} more row(s) with the same problem" + (f" (rows {', '.join(map(str, rows[:20]))}{' ...' if len(rows) > 20 else ''})" if rows else ""))
    return lines


class ManifestError(ValueError):
    """A manifest with problems; ``problems`` lists every one of them, ``notes`` what else was found."""

    def __init__(self, manifest: Path, problems: list[Problem], *, notes: Sequence[str] = ()):
        self.manifest = manifest
        self.problems = problems
        self.notes = tuple(notes)
        lines = format_problems(problems)
        text = f"{manifest}: {len(problems)} problem(s) found; nothing was written:\n" + "\n".join(lines)
        if self.notes:
            text += "\nnotes:\n" + "\n".join(f"  - {n}" for n in self.notes)
        super().__init__(text)


@dataclass(frozen=True)
class Cohort:
    """A validated cohort: the manifest table with absolute paths and typed clinical columns."""

    table: pd.DataFrame
    manifest_path: Path
    clinical_columns: tuple[str, ...]
    """The candidate predictors: only columns the data dictionary declares ``clinical``."""
    mask_columns: tuple[str, ...]
    truth: pd.DataFrame | None = field(default=None, repr=False)
    """Generator ground truth (synthetic cohorts only: a folder with the generator's ``generator.json``)."""
    clinical_types: Mapping[str, str] = field(default_factory=dict)
    """Clinical column -> ``continuous`` / ``binary`` (categorical columns arrive as binary indicators ``name=level``)."""
    units: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    """What validation noticed without refusing: ignored columns, matched names, dropped empty rows."""
    dictionary: DataDictionary | None = field(default=None, repr=False)
    identifiers: frozenset[str] = field(default=frozenset(), repr=False)
    """Patient ids, identifying columns' values and scan dates: what must never appear in the book."""
    mask_segments: Mapping[str, str] = field(default_factory=dict)
    """Mask column -> segment name, for masks saved as Slicer / DICOM-SEG / RTSTRUCT files (data dictionary ``segment:``)."""

    @property
    def n(self) -> int:
        return len(self.table)


# ----------------------------------------------------------------------------------------- columns


@dataclass
class _Columns:
    """Where each role lives in the table: target name -> (position, name as written, spec)."""

    found: dict[str, tuple[int, str, ColumnSpec]] = field(default_factory=dict)
    identifying: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _standard_spec(key: str, written: str) -> ColumnSpec:
    role = STANDARD_COLUMNS[key]
    return ColumnSpec(name=written, role=role, mask=key if role == "mask" else None)


def _resolve_columns(header: Sequence[str], dd: DataDictionary | None, manifest_name: str) -> _Columns:
    out = _Columns()
    by_key: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        if h.strip():
            by_key.setdefault(normalise_name(h), []).append(i)
    dup = {k: v for k, v in by_key.items() if len(v) > 1}
    for idx in dup.values():
        names = " and ".join(f"'{header[i]}' (column {i + 1})" for i in idx)
        out.problems.append(Problem(f"{names} have the same name once trimmed and case-folded; rename or delete one of them", column=header[idx[0]]))
    unnamed = [i + 1 for i, h in enumerate(header) if not h.strip()]
    if unnamed:
        out.notes.append(f"column(s) {', '.join(map(str, unnamed))} have no name in the header row and are ignored")
    ignored: list[str] = []
    for i, h in enumerate(header):
        key = normalise_name(h)
        if not h.strip() or key in dup:
            continue
        spec = dd.lookup(h) if dd else None
        if spec is not None:
            if spec.name != h and spec.role in ("clinical", "identifying", "exclude"):
                out.notes.append(f"column '{h}' matched the dictionary's '{spec.name}'")
        elif key in STANDARD_COLUMNS:
            spec = _standard_spec(key, h)
        elif reason := identifying_reason(h):
            out.identifying.append(i)
            out.notes.append(f"column '{h}' is ignored and checked for in the rendered book: {reason}")
            continue
        else:
            ignored.append(h)
            continue
        if spec.role == "exclude":
            continue
        if spec.role == "identifying":
            out.identifying.append(i)
            continue
        if spec.role == "clinical":
            bad = label_source_reason(h) if not spec.leakage_checked else None
            if bad:
                out.problems.append(Problem(f"declared clinical, but {bad}: as a predictor it would leak the label into the signature; declare it 'exclude' in the data dictionary", column=h))
                continue
            bad = identifying_reason(h)
            if bad:
                out.problems.append(Problem(f"declared clinical, but {bad}; declare it 'identifying' in the data dictionary", column=h))
                continue
        target = spec.target
        if target in out.found:
            other = out.found[target][1]
            out.problems.append(Problem(f"columns '{other}' and '{h}' both stand for '{target}'; keep one (or declare the other 'exclude' in the data dictionary)", column=h))
            continue
        if spec.role != "clinical" and h != target:
            out.notes.append(f"column '{h}' read as '{target}'")
        out.found[target] = (i, h, spec)
    if ignored:
        how = "not in the data dictionary" if dd else f"no data dictionary ({Path(manifest_name).stem}.dictionary.yaml) declares them"
        out.notes.append(f"{len(ignored)} column(s) ignored ({how}): {', '.join(ignored)}")
    if dd:
        written = {normalise_name(h) for h in header if h.strip()}
        for spec in dd.columns:  # a required column that is absent is reported as such; a clinical one is likely a typo
            if normalise_name(spec.name) not in written and spec.role == "clinical":
                out.problems.append(Problem(f"the data dictionary declares clinical column '{spec.name}', which the manifest does not have; fix the name in one of the two", column=spec.name, file=str(dd.source) if dd.source else None))
    return out


def _missing_column_problem(col: str, header: Sequence[str]) -> Problem:
    present = [h for h in header if h.strip()]
    shown = ", ".join(present[:12]) + (f" ... ({len(present)} columns)" if len(present) > 12 else "")
    close = difflib.get_close_matches(col, [normalise_name(h) for h in present], n=1, cutoff=0.75)
    hint = f"; did you mean '{present[[normalise_name(h) for h in present].index(close[0])]}'? Rename it, or declare it in the data dictionary" if close else (
        "; add it, or name the column that holds it in the data dictionary"
    )
    if len(present) == 1 and any(s in present[0] for s in (",", ";", "\t")):
        hint += " (the whole header is one cell: is the separator unusual? Save as 'CSV UTF-8')"
    return Problem(f"required column '{col}' not found (columns found: {shown}){hint}", column=col)


# --------------------------------------------------------------------------------------- values


_is_missing = is_missing


def _missing_cell_message(value: str, *, declared: bool = False) -> str:
    """An empty cell or a missing-value marker where a value is needed, the marker named."""
    why = "the data dictionary says this column allows no missing value (missing: false)" if declared else "this column needs a value on every row"
    if not value.strip():
        return f"empty cell; {why}"
    return f"'{value.strip()}' marks a missing value; {why}"


def _number(value: str, decimal_comma: bool) -> float | None:
    v = value.strip().replace("\u2212", "-")
    if decimal_comma and re.fullmatch(r"[-+]?\d+,\d+", v):
        v = v.replace(",", ".")
    try:
        return float(v)
    except ValueError:
        return None


def _parse_date(value: str) -> pd.Timestamp | None:
    """A date written in a non-date column (an identifying column's date of birth): no Excel serials."""
    return parse_date(value, excel_serials=False).value


# ---------------------------------------------------------------------------------------- files


def _resolve(base: Path, value: str) -> tuple[Path, str | None]:
    """Absolute path of a manifest cell, and a problem when the path cannot be used on this machine."""
    v = value.strip()
    if re.match(r"^[A-Za-z]:[\\/]", v) or v.startswith("\\\\"):
        if os.name != "nt":
            return Path(v), "a Windows path (drive letter or network share) cannot be opened on this machine; give the path relative to the manifest's folder"
    p = Path(v).expanduser()
    if not p.is_absolute():
        p = base / p
    if "\\" in v and os.name != "nt":
        alt = base / Path(*PureWindowsPath(v).parts)
        try:
            if not p.exists() and alt.exists():
                return alt, None
        except OSError:
            pass
    return p, None


def _not_found(raw: str, path: Path, base: Path) -> str:
    if Path(raw.strip()).is_absolute():
        return f"file not found: {path}"
    return f"file not found: looked for {path} (a relative path is read from the manifest's folder {base})"


def _check_row(row: int, pid: str, paths: dict[str, tuple[str, Path, str | None]], base: Path, names: Mapping[str, str],
               segments: Mapping[str, str] | None = None) -> tuple[list[Problem], dict[str, str]]:
    """Every file of one patient: readable, whole, sane; masks against their CT.  Returns problems and content digests.

    A mask saved as a Slicer segmentation, DICOM-SEG or RTSTRUCT is first placed on the CT's grid
    (:mod:`ecrs_analysis.data.masks`), then checked as a NIfTI mask is.
    """
    out: list[Problem] = []
    digests: dict[str, str] = {}
    ct_geom: Geometry | None = None
    for col in paths:  # "image" first
        raw, path, issue = paths[col]
        where: dict[str, Any] = dict(row=row, patient_id=pid or None, column=names[col], file=raw)
        if issue:
            out.append(Problem(issue, **where))
            continue
        try:
            if col != "image" and path.is_file() and mask_format(path) is not None:
                if ct_geom is None:
                    continue  # the CT's own problem is reported; without its grid the mask cannot be placed
                try:
                    image, found = read_mask(path, reference=ct_geom, segment=(segments or {}).get(col)), []
                except MaskReadError as exc:
                    image, found = None, [str(exc)]
                if image is not None:
                    found = mask_problems(image, ct_geom)
                    digests[col] = sha256_path(path) + "#" + str((segments or {}).get(col, ""))
                out.extend(Problem(m, **where) for m in found)
                continue
            image, found = read_checked(path)
            if found == ["file not found"]:
                found = [_not_found(raw, path, base)]
            if image is not None and not found:
                if col == "image":
                    found = ct_problems(image)
                    ct_geom = Geometry.of(image)
                elif ct_geom is not None:
                    found = mask_problems(image, ct_geom)
            if image is not None:
                digests[col] = sha256_path(path)
        except Exception as exc:  # a file that breaks a reader in a way nobody foresaw: a problem, never a traceback
            found = [f"cannot be checked ({type(exc).__name__}); please report this file's format to the maintainers"]
        out.extend(Problem(m, **where) for m in found)
    return out, digests


# ------------------------------------------------------------------------------------ rows


@dataclass(frozen=True)
class _Sheet:
    """The manifest's cells by role: ``cell[target][k]`` is patient ``k``'s text in that column."""

    rows: list[int]
    pids: list[str]
    cell: dict[str, list[str]]
    name: dict[str, str]
    """Target -> column name as written."""

    @property
    def n(self) -> int:
        return len(self.rows)

    def at(self, k: int, target: str) -> dict[str, Any]:
        """Where a problem of patient ``k`` in a column is: row, patient, column."""
        return dict(row=self.rows[k], patient_id=self.pids[k] or None, column=self.name[target])


def _check_ids(sheet: _Sheet) -> list[Problem]:
    out: list[Problem] = []
    seen: dict[str, list[int]] = {}
    for k, pid in enumerate(sheet.pids):
        if _is_missing(pid):
            out.append(Problem("empty patient id; every row needs one", row=sheet.rows[k], column=sheet.name["patient_id"]))
        else:
            seen.setdefault(pid, []).append(k)
    for ks in (ks for ks in seen.values() if len(ks) > 1):
        for k in ks:
            others = ", ".join(str(sheet.rows[j]) for j in ks if j != k)
            out.append(Problem(f"the same patient id is on row(s) {others}; each patient must have one row", **sheet.at(k, "patient_id")))
    return out


def _parse_labels(sheet: _Sheet, spec: ColumnSpec, dictionary_name: str) -> tuple[np.ndarray, list[Problem]]:
    """Labels 0/1 (-1 where missing or invalid); words only through the dictionary's ``values:`` mapping."""
    labels, out, words = np.full(sheet.n, -1), [], []
    for k, v in enumerate(sheet.cell["label"]):
        if _is_missing(v):
            continue
        x = spec.value_of(v) if spec.values else None
        if x is None:
            x = _number(v, False)
        if x in (0.0, 1.0):
            labels[k] = int(x)
        else:
            words.append(v)
            declared = f" nor a word of the dictionary's values: ({', '.join(k for k, _ in spec.values)})" if spec.values else ""
            out.append(Problem(f"label '{v}' is not 0 (non-eosinophilic) or 1 (eosinophilic){declared}", **sheet.at(k, "label")))
    hint = label_mapping_hint(sheet.name["label"], words, dictionary_name=dictionary_name) if words and not spec.values else None
    if hint:
        out.append(Problem(hint, column=sheet.name["label"]))
    return labels, out


def _check_centres(sheet: _Sheet, known: tuple[str, ...] | None) -> list[Problem]:
    if known is None:
        return []
    out = []
    for k, c in enumerate(v.strip() for v in sheet.cell["center"]):
        if not _is_missing(c) and c not in known:
            close = difflib.get_close_matches(c, list(known), n=1, cutoff=0.6) or [x for x in known if x.casefold() == c.casefold()]
            hint = f"; did you mean '{close[0]}'?" if close else "; add it to the study's centers in the parameters, or correct the cell"
            out.append(Problem(f"unknown centre '{c}' (the study's centres: {', '.join(known)}){hint}", **sheet.at(k, "center")))
    return out


def _parse_dates(sheet: _Sheet) -> tuple[list[pd.Timestamp | None], list[Problem]]:
    dates: list[pd.Timestamp | None] = [None] * sheet.n
    out = []
    today = pd.Timestamp(dt.date.today())
    for k, v in enumerate(sheet.cell["scan_date"]):
        if _is_missing(v):
            continue
        reading = parse_date(v)
        d = reading.value
        if d is None:
            out.append(Problem(f"date {reading.problem}", **sheet.at(k, "scan_date")))
        elif d > today + pd.Timedelta(days=1):
            out.append(Problem(f"scan date {d.date().isoformat()} is in the future; check the cell (day and month swapped?)", **sheet.at(k, "scan_date")))
        else:
            dates[k] = d
    return dates, out


@dataclass
class _Clinical:
    values: dict[str, np.ndarray] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _range_text(spec: ColumnSpec) -> str:
    parts = ([f"min {spec.min:g}"] if spec.min is not None else []) + ([f"max {spec.max:g}"] if spec.max is not None else [])
    if spec.min is not None and spec.max is not None:
        parts = [f"{spec.min:g}..{spec.max:g}"]
    return " ".join(parts) + (f" {spec.unit}" if spec.unit else "")


def _parse_value(v: str, spec: ColumnSpec, decimal_comma: bool) -> tuple[float | None, str | None]:
    """(value, None) or (None, what is wrong) for one non-missing cell of a continuous or binary column."""
    if spec.type == "binary":
        x = spec.value_of(v) if spec.values else _BINARY.get(v.strip().casefold())
        words = ", ".join(k for k, _ in spec.values) if spec.values else "yes/no"
        return (x, None) if x is not None else (None, f"value '{v}' is not binary; use 0/1 (or {words})")
    x = _number(v, decimal_comma)
    if x is None or not np.isfinite(x):
        return None, f"value '{v}' is not a number (leave the cell empty when the value is missing)"
    if (spec.min is not None and x < spec.min) or (spec.max is not None and x > spec.max):
        return None, f"value {v} is outside the declared range {_range_text(spec)}"
    return x, None


def _leakage_problem(column: str, labels: np.ndarray, values: np.ndarray) -> Problem | None:
    """A clinical column that separates the classes almost perfectly is the label's source, not a predictor."""
    from scipy.stats import mannwhitneyu  # lazy: scipy.stats takes ~0.6 s to import, and every workflow job reads the manifest module

    ok = (labels >= 0) & np.isfinite(values)
    y, x = labels[ok], values[ok]
    n1, n0 = int((y == 1).sum()), int((y == 0).sum())
    if min(n0, n1) < LEAKAGE_MIN_PER_CLASS or len(np.unique(x)) < 2:
        return None
    auc = float(mannwhitneyu(x[y == 1], x[y == 0]).statistic) / (n1 * n0)  # AUC = U / (n1 n0), ties count one half
    if max(auc, 1 - auc) < LEAKAGE_AUC:
        return None
    return Problem(
        f"separates the labels almost perfectly (AUC {max(auc, 1 - auc):.3f} over {len(y)} patients): a column this good is the label's source or derived "
        "from it (e.g. tissue eosinophils) and would leak the label into the signature; declare it 'exclude' in the data dictionary "
        "(or, if it truly is a pre-operative measurement, add 'leakage_checked: true' to its entry)",
        column=column,
    )


def _parse_clinical(sheet: _Sheet, cols: _Columns, labels: np.ndarray, *, decimal_comma: bool) -> tuple[_Clinical, list[Problem]]:
    """Typed clinical columns (the dictionary's spelling; categorical -> 0/1 indicators ``name=level``)."""
    out, problems = _Clinical(), []
    for target, (_, written, spec) in cols.found.items():
        if spec.role != "clinical":
            continue
        name = spec.name.strip()
        if spec.unit:
            out.units[name] = spec.unit
        values = sheet.cell[target]
        if spec.type == "categorical":
            levels = list(spec.levels) if spec.levels else sorted({v for v in values if not _is_missing(v)})
            problems += [Problem(f"value '{v}' is not one of the declared levels {', '.join(levels)}", **sheet.at(k, target))
                         for k, v in enumerate(values) if not _is_missing(v) and v not in levels]
            for level in levels[1:]:  # the first level is the reference
                out.values[f"{name}={level}"] = np.array([np.nan if _is_missing(v) else float(v == level) for v in values])
                out.types[f"{name}={level}"] = "binary"
            if len(levels) < 2:
                out.notes.append(f"column '{written}' has a single level and is not used")
            continue
        parsed = np.full(sheet.n, np.nan)
        markers: dict[str, int] = {}
        for k, v in enumerate(values):
            if _is_missing(v):
                markers[missing_marker(v)] = markers.get(missing_marker(v), 0) + 1
                if not spec.missing:
                    problems.append(Problem(_missing_cell_message(v, declared=True), **sheet.at(k, target)))
            else:
                x, wrong = _parse_value(v, spec, decimal_comma)
                if wrong:
                    problems.append(Problem(wrong, **sheet.at(k, target)))
                else:
                    parsed[k] = x
        if markers and spec.missing:
            counts = ", ".join(f"{m} {n}" for m, n in sorted(markers.items(), key=lambda t: -t[1]))
            out.notes.append(f"column '{written}': {sum(markers.values())} missing value(s) ({counts})")
        out.values[name] = parsed
        out.types[name] = spec.type or "continuous"
        leak = None if spec.leakage_checked else _leakage_problem(written, labels, parsed)
        if leak:
            problems.append(leak)
    return out, problems


def _identifiers(sheet: _Sheet, dates: list[pd.Timestamp | None], identifying: list[list[str]]) -> frozenset[str]:
    """Patient ids, scan dates and identifying columns' values (their dates also as YYYY-MM-DD)."""
    ids = set(sheet.pids) | {d.date().isoformat() for d in dates if d is not None}
    for values in identifying:
        for v in (v.strip() for v in values if not _is_missing(v)):
            ids.add(v)
            if (d := _parse_date(v)) is not None:
                ids.add(d.date().isoformat())
    return frozenset(i for i in ids if i)


def _check_files(sheet: _Sheet, resolved: list[dict[str, tuple[str, Path, str | None]]], base: Path, *, n_jobs: int, segments: Mapping[str, str]) -> list[Problem]:
    """Every patient's files in threads, then the same content under two patients."""
    jobs = [(sheet.rows[k], sheet.pids[k], resolved[k], base, sheet.name, segments) for k in range(sheet.n) if resolved[k]]
    with quiet_itk(), ThreadPoolExecutor(max_workers=max(n_jobs, 1)) as pool:
        results = list(pool.map(lambda j: _check_row(*j), jobs))
    problems: list[Problem] = []
    by_digest: dict[tuple[str, str], list[int]] = {}
    for (row, *_), (found, digests) in zip(jobs, results):
        problems.extend(found)
        for col, d in digests.items():
            by_digest.setdefault((col, d), []).append(row)
    index = {r: k for k, r in enumerate(sheet.rows)}
    for (col, _), rs in by_digest.items():
        for r in rs if len(rs) > 1 else ():
            k = index[r]
            others = ", ".join(str(x) for x in rs if x != r)
            what = "CT" if col == "image" else "mask"
            problems.append(Problem(
                f"the same {what} file content as row(s) {others}: one scan given for two patients (it could sit in training and test at once); give each patient their own file",
                **sheet.at(k, col), file=resolved[k][col][0],
            ))
    return problems


# ------------------------------------------------------------------------------------ validation


def _load_dictionary(manifest: Path, dictionary: str | os.PathLike[str] | DataDictionary | None) -> DataDictionary | None:
    if isinstance(dictionary, DataDictionary):
        return dictionary
    path = Path(dictionary) if dictionary is not None else dictionary_path(manifest)
    return load_dictionary(path) if path is not None else None


def _read_truth(base: Path, pids: set[str]) -> tuple[pd.DataFrame | None, list[str]]:
    """The generator's ground truth, only for a folder the generator wrote (it holds generator.json)."""
    truth_path = base / "truth.csv"
    try:
        info = json.loads((base / "generator.json").read_text(encoding="utf-8"))
        synthetic = isinstance(info, dict) and "generator_version" in info
    except (OSError, ValueError):
        synthetic = False
    if not synthetic:
        return None, ([f"{truth_path.name} beside the manifest is ignored: only a synthetic cohort's ground truth is read"] if truth_path.exists() else [])
    try:
        truth = pd.read_csv(truth_path, dtype={"patient_id": str})
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None, [f"the synthetic cohort's {truth_path.name} is missing or damaged: no ground truth (regenerate the cohort to get it back)"]
    if "patient_id" not in truth or "true_prob" not in truth or not pids <= set(truth["patient_id"]):
        return None, [f"the synthetic cohort's {truth_path.name} does not cover the manifest's patients: no ground truth"]
    return truth, []


def validate_manifest(
    path: str | os.PathLike[str],
    *,
    mask_columns: tuple[str, ...] = ("roi_mask",),
    known_centers: tuple[str, ...] | None = None,
    check_images: bool = True,
    n_jobs: int = 2,
    dictionary: str | os.PathLike[str] | DataDictionary | None = None,
    cohort_checks: Callable[[Cohort], list[Problem]] | None = None,
    segments: Mapping[str, str] | None = None,
) -> Cohort:
    """Validate a manifest and every file it names; return the cohort or raise with all problems.

    Reads files only; writes nothing.

    Parameters
    ----------
    path : path
        The manifest (CSV or .xlsx).
    mask_columns : tuple of str
        Mask columns this study needs (``roi_mask``, ``sinus_mask``).
    known_centers : tuple of str, optional
        Allowed values of ``center``; None accepts any.
    check_images : bool
        Read every image and mask (integrity, geometry, HU calibration, binary masks,
        the same scan given twice).
    n_jobs : int
        Threads used to read images.
    dictionary : path or DataDictionary, optional
        The data dictionary; default ``<manifest stem>.dictionary.yaml`` beside the
        manifest if it exists, else only the standard columns are used.
    cohort_checks : callable, optional
        Further checks of the typed cohort (a study's needs: split, class counts), run
        when the table itself is clean and before the images are read, so that their
        problems are reported together with the files'.
    segments : mapping, optional
        Mask column -> segment name for Slicer / DICOM-SEG / RTSTRUCT masks; overrides the data
        dictionary's ``segment:`` (``ecrs validate --mask roi_mask=NAME``).

    Raises
    ------
    ManifestError
        Listing every problem found, with row, patient (masked), column and file.
    """
    manifest = Path(path)
    try:
        raw = read_table(manifest)
    except TableReadError as exc:
        raise ManifestError(manifest, [Problem(str(exc).split(": ", 1)[-1], file=str(manifest))]) from None
    notes: list[str] = [f"read as {raw.source}"] + list(raw.notes)
    try:
        dd = _load_dictionary(manifest, dictionary)
    except DictionaryError as exc:
        raise ManifestError(manifest, [Problem(m, file=str(exc.path)) for m in exc.problems], notes=notes) from None
    if dd is not None:
        notes.append(f"data dictionary: {dd.source}" if dd.source else "data dictionary given in the parameters")
    cols = _resolve_columns(raw.header, dd, manifest.name)
    notes += cols.notes
    problems = list(cols.problems)
    needed = REQUIRED_COLUMNS + tuple(m for m in mask_columns if m not in REQUIRED_COLUMNS)
    problems += [_missing_column_problem(c, raw.header) for c in needed if c not in cols.found]
    if raw.cells.empty:
        problems.append(Problem("the manifest has a header but no patients", file=str(manifest)))
    if problems:
        raise ManifestError(manifest, problems, notes=notes)

    base = manifest.parent.resolve()
    sheet = _Sheet(
        rows=list(raw.rows),
        pids=[v.strip() for v in raw.cells[cols.found["patient_id"][0]].astype(str)],
        cell={t: raw.cells[i].astype(str).tolist() for t, (i, _, _) in cols.found.items()},
        name={t: h for t, (_, h, _) in cols.found.items()},
    )
    problems += _check_ids(sheet)
    problems += [Problem(_missing_cell_message(v), **sheet.at(k, col))
                 for col in needed if col != "patient_id" for k, v in enumerate(sheet.cell[col]) if _is_missing(v)]
    labels, found = _parse_labels(sheet, cols.found["label"][2], dd.source.name if dd and dd.source else f"{manifest.stem}.dictionary.yaml")
    problems += found
    problems += _check_centres(sheet, known_centers)
    dates, found = _parse_dates(sheet)
    problems += found
    clinical, found = _parse_clinical(sheet, cols, labels, decimal_comma=raw.decimal_comma)
    problems += found
    notes += clinical.notes

    masks_present = tuple(m for m in MASK_COLUMNS if m in cols.found)
    file_cols = ("image",) + masks_present
    resolved = [{col: (v.strip(), *_resolve(base, v)) for col in file_cols if not _is_missing(v := sheet.cell[col][k])} for k in range(sheet.n)]
    table = pd.DataFrame(
        {
            "patient_id": sheet.pids,
            "center": [v.strip() for v in sheet.cell["center"]],
            "scan_date": pd.to_datetime(pd.Series(dates, dtype="object")),
            "label": labels,
            **{col: [str(r[col][1]) if col in r else None for r in resolved] for col in file_cols},
            **{c: v for c, v in clinical.values.items()},
        }
    )
    mask_segments = {t: spec.segment for t, (_, _, spec) in cols.found.items() if spec.role == "mask" and spec.segment}
    mask_segments.update({k: v for k, v in (segments or {}).items()})
    truth, truth_notes = _read_truth(base, set(sheet.pids))
    cohort = Cohort(
        table=table,
        manifest_path=manifest,
        clinical_columns=tuple(clinical.values),
        mask_columns=masks_present,
        truth=truth,
        clinical_types=clinical.types,
        units=clinical.units,
        notes=tuple(notes + truth_notes),
        dictionary=dd,
        identifiers=_identifiers(sheet, dates, [raw.cells[i].astype(str).tolist() for i in cols.identifying]),
        mask_segments=mask_segments,
    )
    if cohort_checks is not None and not problems:
        problems += cohort_checks(cohort)
    if check_images:
        problems += _check_files(sheet, resolved, base, n_jobs=n_jobs, segments=mask_segments)
    if problems:
        order = {c: i for i, c in enumerate(raw.header)}
        problems.sort(key=lambda p: (p.row or 0, order.get(p.column or "", len(order))))
        raise ManifestError(manifest, problems, notes=cohort.notes)
    return cohort
