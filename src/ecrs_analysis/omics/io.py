"""Reading proteomics data: MaxQuant ``proteinGroups.txt`` or a plain protein x sample matrix, plus a sample sheet.

All checks live in :func:`load_proteomics`; every problem found is reported at once,
naming the file, row or column and what to do.  Intensities come back on the linear
scale exactly as in the file, with missing values as NaN (MaxQuant writes them as 0;
:mod:`ecrs_analysis.omics.preprocess` treats 0 as missing too).

Formats
-------
MaxQuant
    Tab-separated ``proteinGroups.txt`` (optionally gzipped) with ``Protein IDs``,
    ``Gene names``, one ``<prefix><sample>`` column per sample (``LFQ intensity `` by
    default) and the flags ``Reverse``, ``Potential contaminant`` and ``Only identified
    by site`` ("+" = flagged).
Matrix
    CSV or TSV: first column the protein id, an optional ``gene`` column, then one
    numeric column per sample.
Sample sheet
    CSV with a ``sample`` column matching the intensity columns one to one, a
    ``patient_id`` column when the data belong to a cohort, and any other columns
    (``batch``, a disease group, ...) kept as sample annotation.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ProteomicsInputError", "ProteomicsData", "load_proteomics", "MAXQUANT_FLAGS"]

MAXQUANT_FLAGS = ("Reverse", "Potential contaminant", "Only identified by site")
_PathLike = str | os.PathLike[str]


class ProteomicsInputError(ValueError):
    """Proteomics files that cannot be used; the message lists every problem found."""

    def __init__(self, source: Path, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{source}: {len(problems)} problem(s) found:\n{lines}{more}")


@dataclass(frozen=True)
class ProteomicsData:
    """Validated proteomics data.

    Attributes
    ----------
    intensities : DataFrame, proteins x samples
        Linear intensities, NaN = missing (zeros of the file are kept as 0).
    proteins : DataFrame
        One row per protein (same index): ``gene`` (first gene name, may be empty) and,
        for MaxQuant files, the boolean flags ``reverse``, ``contaminant``, ``site_only``.
    samples : DataFrame
        The sample sheet indexed by sample, in the order of the intensity columns.
    source : Path
        The intensity file.
    """

    intensities: pd.DataFrame
    proteins: pd.DataFrame
    samples: pd.DataFrame
    source: Path

    @property
    def n_proteins(self) -> int:
        return self.intensities.shape[0]

    @property
    def n_samples(self) -> int:
        return self.intensities.shape[1]


def _read_table(path: Path, **kwargs) -> pd.DataFrame:
    name = path.name.lower().removesuffix(".gz")
    sep = "\t" if name.endswith((".txt", ".tsv")) else ","
    try:
        return pd.read_csv(path, sep=sep, low_memory=False, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, OSError) as exc:
        raise ProteomicsInputError(path, [f"not a readable {'tab' if sep == chr(9) else 'comma'}-separated file ({type(exc).__name__}: {exc})"]) from None


def _first_gene(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return value.split(";")[0].strip()


def _numeric(block: pd.DataFrame, ids: pd.Index, problems: list[str], *, where: str) -> pd.DataFrame:
    out = block.apply(pd.to_numeric, errors="coerce")
    bad = out.isna() & block.notna() & block.astype(str).apply(lambda c: c.str.strip() != "")
    for col in bad.columns[bad.any(axis=0)]:
        rows = np.flatnonzero(bad[col].to_numpy())
        shown = ", ".join(f"protein {_short(ids[r])!r} (row {r + 2}): {block[col].iloc[r]!r}" for r in rows[:3])
        problems.append(f"{where} column {col!r} has {rows.size} non-numeric value(s), e.g. {shown}; use numbers, 0 or empty for missing")
    neg = (out < 0).to_numpy()
    if neg.any():
        r, c = np.argwhere(neg)[0]
        problems.append(f"{where} column {out.columns[c]!r} has negative intensities (protein {_short(ids[r])!r}); intensities must be linear and >= 0")
    return out.astype(float)


def _read_maxquant(path: Path, prefix: str, problems: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = _read_table(path, dtype=str)
    if "Protein IDs" not in raw.columns:
        problems.append(f"no 'Protein IDs' column (columns present start with {list(raw.columns[:5])}); is this a MaxQuant proteinGroups.txt?")
        return pd.DataFrame(), pd.DataFrame()
    cols = [c for c in raw.columns if c.startswith(prefix)]
    if not cols:
        problems.append(f"no intensity columns starting with {prefix!r}; MaxQuant writes 'LFQ intensity <sample>' when LFQ is on, else set the prefix (e.g. 'Intensity ')")
        return pd.DataFrame(), pd.DataFrame()
    missing_flags = [f for f in MAXQUANT_FLAGS if f not in raw.columns]
    if missing_flags:
        problems.append(f"flag column(s) {missing_flags} missing; export proteinGroups.txt with the standard MaxQuant columns")
    # Protein groups are rows: a repeated "Protein IDs" value (e.g. a list truncated at a
    # spreadsheet's 32,767-character cell limit) is kept apart as "<ids>#2", "<ids>#3".
    ids = raw["Protein IDs"].fillna("").astype(str)
    nth = ids.groupby(ids).cumcount()
    ids = pd.Index([i if k == 0 else f"{i}#{k + 1}" for i, k in zip(ids, nth)], name="protein")
    block = raw[cols].copy()
    block.columns = [c[len(prefix):] for c in cols]
    block.index = ids
    intens = _numeric(block, ids, problems, where="intensity")
    proteins = pd.DataFrame(index=ids)
    proteins["gene"] = [_first_gene(v) for v in raw.get("Gene names", pd.Series([""] * len(raw)))]
    for flag, name in zip(MAXQUANT_FLAGS, ("reverse", "contaminant", "site_only")):
        proteins[name] = raw[flag].fillna("").str.strip().eq("+").to_numpy() if flag in raw.columns else False
    return intens, proteins


def _read_matrix(path: Path, problems: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = _read_table(path, dtype=str)
    if raw.shape[1] < 2:
        problems.append("needs a protein id column and at least one sample column")
        return pd.DataFrame(), pd.DataFrame()
    ids = pd.Index(raw.iloc[:, 0].fillna("").astype(str), name="protein")
    gene_col = next((c for c in raw.columns[1:] if c.lower() in ("gene", "genes", "gene names", "gene_name")), None)
    sample_cols = [c for c in raw.columns[1:] if c != gene_col]
    if not sample_cols:
        problems.append("no intensity columns: after the protein id (and gene) column every column should be a sample")
        return pd.DataFrame(), pd.DataFrame()
    block = raw[sample_cols].copy()
    block.index = ids
    intens = _numeric(block, ids, problems, where="intensity")
    proteins = pd.DataFrame(index=ids)
    proteins["gene"] = [_first_gene(v) for v in raw[gene_col]] if gene_col else [_first_gene(i) for i in ids]
    return intens, proteins


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _check_ids(ids: pd.Index, problems: list[str]) -> None:
    empty = np.flatnonzero(ids.to_numpy() == "")
    if empty.size:
        problems.append(f"{empty.size} protein row(s) without an id (first at row {empty[0] + 2})")
    dup = ids[ids.duplicated() & (ids != "")]
    if len(dup):
        problems.append(f"duplicate protein id(s): {[_short(d) for d in sorted(set(dup))[:5]]}; every row needs its own id")


def _check_sheet(sheet: pd.DataFrame, samples: list[str], known: set[str] | None, problems: list[str], sheet_path: Path) -> pd.DataFrame:
    if "sample" not in sheet.columns:
        problems.append(f"sample sheet {sheet_path.name}: no 'sample' column (columns present: {list(sheet.columns)})")
        return sheet
    sheet = sheet.copy()
    sheet["sample"] = sheet["sample"].astype(str).str.strip()
    dup = sheet.loc[sheet["sample"].duplicated(keep=False), "sample"]
    for s in sorted(set(dup)):
        rows = [i + 2 for i in np.flatnonzero(sheet["sample"].to_numpy() == s)]
        problems.append(f"sample sheet {sheet_path.name}: duplicate sample {s!r} (rows {rows})")
    dup_cols = sorted({s for s in samples if samples.count(s) > 1})
    if dup_cols:
        problems.append(f"duplicate sample column(s) in the intensity file: {dup_cols}")
    in_sheet, in_data = set(sheet["sample"]), set(samples)
    if in_data - in_sheet:
        problems.append(f"sample sheet {sheet_path.name}: samples in the intensity file but not in the sheet: {sorted(in_data - in_sheet)[:8]}")
    if in_sheet - in_data:
        problems.append(f"sample sheet {sheet_path.name}: samples in the sheet but not in the intensity file: {sorted(in_sheet - in_data)[:8]}")
    if known is not None:
        if "patient_id" not in sheet.columns:
            problems.append(f"sample sheet {sheet_path.name}: no 'patient_id' column linking each sample to the cohort manifest")
        else:
            pid = sheet["patient_id"].astype(str).str.strip()
            for i in np.flatnonzero(~pid.isin(known).to_numpy()):
                problems.append(f"sample sheet {sheet_path.name} row {i + 2}: unknown patient {pid.iloc[i]!r} (sample {sheet['sample'].iloc[i]!r}) is not in the cohort manifest")
            sheet["patient_id"] = pid
    return sheet


def load_proteomics(
    proteins: _PathLike,
    sample_sheet: _PathLike | pd.DataFrame,
    *,
    known_patients: Iterable[str] | None = None,
    fmt: str = "auto",
    intensity_prefix: str = "LFQ intensity ",
) -> ProteomicsData:
    """Read and validate a proteomics file and its sample sheet.

    Parameters
    ----------
    proteins : path
        MaxQuant ``proteinGroups.txt`` (``.gz`` allowed) or a protein x sample CSV/TSV.
    sample_sheet : path or DataFrame
        One row per sample: ``sample`` (+ ``patient_id`` when ``known_patients`` is given).
    known_patients : iterable of str, optional
        Patient ids of the cohort manifest; every ``patient_id`` must be one of them.
    fmt : {"auto", "maxquant", "matrix"}
        ``auto`` recognises MaxQuant by its ``Protein IDs`` column.
    intensity_prefix : str
        MaxQuant intensity column prefix (``"LFQ intensity "``, ``"Intensity "``, ...).

    Raises
    ------
    ProteomicsInputError
        Listing every problem: missing file, no intensity columns, non-numeric values,
        duplicate samples or proteins, sheet not matching the columns, unknown patients.
    """
    path = Path(proteins)
    if not path.is_file():
        raise ProteomicsInputError(path, ["file not found; set omics.proteins to a MaxQuant proteinGroups.txt or a protein x sample CSV/TSV"])
    if fmt not in ("auto", "maxquant", "matrix"):
        raise ValueError(f"fmt must be 'auto', 'maxquant' or 'matrix', got {fmt!r}")
    if fmt == "auto":
        header = _read_table(path, nrows=0)
        fmt = "maxquant" if "Protein IDs" in header.columns else "matrix"
    problems: list[str] = []
    intens, annot = _read_maxquant(path, intensity_prefix, problems) if fmt == "maxquant" else _read_matrix(path, problems)
    if problems:
        raise ProteomicsInputError(path, problems)
    _check_ids(intens.index, problems)
    if isinstance(sample_sheet, pd.DataFrame):
        sheet_path, sheet = Path("<sample sheet>"), sample_sheet.copy()
    else:
        sheet_path = Path(sample_sheet)
        if not sheet_path.is_file():
            raise ProteomicsInputError(sheet_path, ["sample sheet not found; give a CSV with columns sample, patient_id"])
        sheet = _read_table(sheet_path, dtype=str)
    known = None if known_patients is None else {str(p) for p in known_patients}
    sheet = _check_sheet(sheet, list(intens.columns), known, problems, sheet_path)
    if problems:
        raise ProteomicsInputError(path, problems)
    samples = sheet.set_index("sample").loc[list(intens.columns)]
    intens.columns.name = "sample"
    return ProteomicsData(intensities=intens, proteins=annot, samples=samples, source=path)
