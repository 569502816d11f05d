"""Reading a spreadsheet the way hospitals export it: CSV in any common encoding and separator, or .xlsx.

Every cell is read as text (``""`` when empty) and the header row is kept exactly as written,
duplicates included, so that the manifest's validation can name each column the user wrote.
Rows are numbered as a spreadsheet numbers them: the header is row 1.

- Encodings: UTF-8 (with or without a byte-order mark), UTF-16 (with a byte-order mark, as
  Excel's "Unicode text" writes it) and Windows-1252 (Excel's "CSV" on Western Windows).
- Separators: ``,`` ``;`` tab or ``|``, recognised by :class:`csv.Sniffer`.
- Excel: the first worksheet of an ``.xlsx`` file (openpyxl); dates become ``YYYY-MM-DD``.
- Rows where every cell is empty (Excel's trailing rows) are dropped and counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["TableReadError", "RawTable", "read_table", "SAVE_AS_HINT"]

SAVE_AS_HINT = "in Excel choose File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)' or 'Excel Workbook (*.xlsx)'"
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig", "UTF-8 with byte-order mark"), (b"\xff\xfe", "utf-16", "UTF-16"), (b"\xfe\xff", "utf-16", "UTF-16"))
_REFUSED = {
    ".xls": "old Excel 97-2003 workbook (.xls)",
    ".xlsb": "binary Excel workbook (.xlsb)",
    ".ods": "OpenDocument spreadsheet (.ods)",
    ".numbers": "Apple Numbers file",
    ".sav": "SPSS data file",
    ".dta": "Stata data file",
    ".sas7bdat": "SAS data file",
}


class TableReadError(ValueError):
    """A file that cannot be read as a table; the message says how to save it so that it can."""


@dataclass(frozen=True)
class RawTable:
    """A table read as text.

    Attributes
    ----------
    header : tuple of str
        Column names exactly as written, spaces included (may repeat).
    cells : DataFrame
        Text cells, columns numbered 0..n-1 (positions in ``header``), ``""`` when empty.
    rows : tuple of int
        Spreadsheet row number of every row of ``cells`` (the header is row 1).
    source : str
        How the file was read, e.g. "CSV, UTF-8, separator ';'" or "Excel sheet 'Sheet1'".
    notes : tuple of str
        Things the reader did that the user should know (dropped empty rows, ignored sheets).
    decimal_comma : bool
        True for a ``;``-separated file, where ``1,35`` is a number with a decimal comma.
    """

    header: tuple[str, ...]
    cells: pd.DataFrame
    rows: tuple[int, ...]
    source: str
    notes: tuple[str, ...] = ()
    decimal_comma: bool = False


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec), name
            except UnicodeDecodeError as exc:
                raise TableReadError(f"{path}: starts like {name} text but byte {exc.start} cannot be decoded; {SAVE_AS_HINT}") from None
    if raw[:200].count(b"\x00") > 10:  # UTF-16 without a byte-order mark: every other byte of ASCII is 0
        codec = "utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be"
        try:
            return raw.decode(codec), "UTF-16"
        except UnicodeDecodeError:
            raise TableReadError(f"{path}: looks like a binary file, not a text table; {SAVE_AS_HINT}") from None
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise TableReadError(
            f"{path}: the text encoding cannot be recognised (byte {exc.start} is neither UTF-8 nor Windows-1252); {SAVE_AS_HINT}"
        ) from None


def _sniff(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = text.splitlines()[0] if text.strip() else ""
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _read_csv(path: Path) -> tuple[list[list[str]], str, bool]:
    raw = path.read_bytes()
    text, encoding = _decode(raw, path)
    if not text.strip():
        raise TableReadError(f"{path}: the file is empty; it needs a header row and one row per patient")
    sep = _sniff(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as exc:
        raise TableReadError(f"{path}: not a readable CSV file ({exc}); {SAVE_AS_HINT}") from None
    shown = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}[sep]
    return rows, f"CSV, {encoding}, separator {shown}", sep == ";"


def _cell_text(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_xlsx(path: Path) -> tuple[list[list[str]], str, list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableReadError(f"{path}: cannot be read as an Excel workbook ({type(exc).__name__}; password-protected or damaged?); {SAVE_AS_HINT}") from None
    try:
        sheets = wb.worksheets
        ws = sheets[0]
        rows = [[_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
        notes = []
        others = [s.title for s in sheets[1:] if s.max_row and s.max_row > 1]
        if others:
            notes.append(f"read the first worksheet '{ws.title}'; other worksheet(s) ignored: {', '.join(others)}")
        return rows, f"Excel worksheet '{ws.title}'", notes
    finally:
        wb.close()


def read_table(path: str | os.PathLike[str]) -> RawTable:
    """Read a CSV or .xlsx file as text cells with the header row as written.

    Raises
    ------
    TableReadError
        Missing or empty file, a format that is not a table (.xls, .ods, SPSS ...), an
        unknown text encoding or an unparsable CSV; the message says how to save the file.
    """
    p = Path(path)
    try:
        if not p.is_file():
            raise TableReadError(f"{p}: file not found" + (" (it is a folder)" if p.is_dir() else ""))
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise TableReadError(f"{p}: cannot be opened ({exc.strerror})") from None
    suffix = p.suffix.lower()
    if suffix in _REFUSED:
        raise TableReadError(f"{p}: an {_REFUSED[suffix]} cannot be read; {SAVE_AS_HINT}")
    notes: list[str] = []
    decimal_comma = False
    if suffix in (".xlsx", ".xlsm"):
        rows, source, notes = _read_xlsx(p)
    else:
        head = p.read_bytes()[:8]
        if head.startswith(b"PK\x03\x04"):
            rows, source, notes = _read_xlsx(p)
        elif head.startswith(b"\xd0\xcf\x11\xe0"):
            raise TableReadError(f"{p}: this is an old Excel 97-2003 workbook, not a CSV file; {SAVE_AS_HINT}")
        else:
            rows, source, decimal_comma = _read_csv(p)
    skip = 0
    while rows and not any(c.strip() for c in rows[0]):  # blank lines above the header
        rows, skip = rows[1:], skip + 1
    if not rows:
        raise TableReadError(f"{p}: the file is empty; it needs a header row and one row per patient")
    width = max(len(r) for r in rows)
    rows = [list(r) + [""] * (width - len(r)) for r in rows]
    header = list(rows[0])
    while header and not header[-1].strip():  # trailing separators after the last name
        header.pop()
    ragged = [i for i, r in enumerate(rows[1:], start=2 + skip) if any(c.strip() for c in r[len(header):])]
    if ragged:
        raise TableReadError(
            f"{p}: row {_ranges(ragged[:20])} {'has' if len(ragged) == 1 else 'have'} more cells than the header row "
            f"({len(header)} columns): is there a separator inside a value? Put such values in double quotes, or {SAVE_AS_HINT}"
        )
    rows = [r[: len(header)] for r in rows]
    numbers, kept, empty = [], [], []
    for i, r in enumerate(rows[1:], start=2 + skip):
        if any(c.strip() for c in r):
            numbers.append(i)
            kept.append([c.strip() for c in r])
        else:
            empty.append(i)
    if empty:
        notes.append(f"{len(empty)} empty row(s) ignored (row {_ranges(empty)})")
    cells = pd.DataFrame(kept, columns=range(len(header)), dtype=object) if kept else pd.DataFrame(columns=range(len(header)), dtype=object)
    return RawTable(tuple(header), cells, tuple(numbers), source, tuple(notes), decimal_comma)


def _ranges(numbers: list[int]) -> str:
    """[2, 3, 4, 9] -> "2-4, 9"."""
    out: list[str] = []
    start: int | None = numbers[0]
    for a, b in zip(numbers, numbers[1:] + [None]):
        if b != a + 1:
            out.append(f"{start}" if start == a else f"{start}-{a}")
            start = b
    return ", ".join(out)
