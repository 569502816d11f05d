"""Reading one spreadsheet cell: dates, missing-value markers and labels written in words.

The manifest's validation (:mod:`ecrs_analysis.data.manifest`) reads every cell through these
functions.  The rule is the same throughout: accept what can be read one way only, refuse what
could be read two ways, and say what to write instead.

Dates
    ISO (``2021-03-04``, with or without a time), ``20210304`` (as DICOM writes StudyDate),
    ``2021/03/04`` or ``2021.03.04``, a day-month-year or month-day-year form that only one
    reading makes a date (``25/03/2021``), and Excel serial numbers (``44259``) in a date
    column.  ``03/04/2021`` (March 4 or April 3?) and two-digit years are refused.

Missing values
    An empty cell and the markers spreadsheets write for one: ``NA``, ``N/A``, ``n/a``,
    ``#N/A``, ``-``, ``.``, ``#DIV/0!``, ``NaN``, ``null`` (case-insensitive).

Labels and binary values in words
    ``TRUE``/``FALSE``, ``yes``/``no``, ``eCRS``/``non-eCRS`` and the like are read only
    through a mapping declared in the data dictionary (``values: {eCRS: 1, non-eCRS: 0}``);
    :func:`label_mapping_hint` writes the entry to add.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import yaml

__all__ = [
    "MISSING_MARKERS", "is_missing", "missing_marker", "DateReading", "parse_date", "EXCEL_SERIAL_RANGE",
    "label_mapping_hint",
]

MISSING_MARKERS = ("", "na", "n/a", "#n/a", "-", ".", "#div/0!", "nan", "null")
"""Cell values read as a missing value (after trimming, case-insensitive)."""
_MISSING = frozenset(MISSING_MARKERS)

EXCEL_SERIAL_RANGE = (18264, 73051)
"""Excel serial numbers read as dates in a date column: 1950-01-01 to 2099-12-31.

Excel counts days from 1899-12-30 (its 1900 leap-year bug makes every serial after
February 1900 count from that day).  A number outside this range is not taken for a date.
"""
_EXCEL_EPOCH = dt.date(1899, 12, 30)

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_YMD = re.compile(r"(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?: \d{1,2}:\d{2}(?::\d{2})?)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DMY = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")


def is_missing(value: str) -> bool:
    """True for an empty cell or a missing-value marker (``NA``, ``#N/A``, ``-`` ...)."""
    return str(value).strip().casefold() in _MISSING


def missing_marker(value: str) -> str:
    """How a missing cell is named in messages and counts: ``empty`` or the marker as written (``#N/A``)."""
    v = str(value).strip()
    return "empty" if not v else v


def _date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


@dataclass(frozen=True)
class DateReading:
    """The outcome of reading one cell as a date: ``value`` or ``problem`` (what is wrong and what to write)."""

    value: pd.Timestamp | None = None
    problem: str | None = None


def _iso_fix(d: dt.date) -> str:
    return d.isoformat()


def parse_date(value: str, *, excel_serials: bool = True) -> DateReading:
    """Read a cell as a date when only one reading makes it one.

    Parameters
    ----------
    value : str
        The cell's text.
    excel_serials : bool
        Read a five-digit number in :data:`EXCEL_SERIAL_RANGE` as an Excel serial date
        (only in a column declared to hold dates).

    Returns
    -------
    DateReading
        ``value`` (a Timestamp at midnight, the time of day dropped) or ``problem``.

    Examples
    --------
    >>> parse_date("20210304").value.date().isoformat()
    '2021-03-04'
    >>> parse_date("44259").value.date().isoformat()
    '2021-03-04'
    >>> parse_date("25/03/2021").value.date().isoformat()
    '2021-03-25'
    >>> print(parse_date("03/04/2021").problem)
    '03/04/2021' could be 2021-03-04 or 2021-04-03 (is the day or the month first?); write it as YYYY-MM-DD
    """
    v = str(value).strip()
    if m := _ISO.fullmatch(v):
        d = _date(int(m[1]), int(m[2]), int(m[3]))
        return DateReading(pd.Timestamp(d)) if d else DateReading(problem=f"'{v}' is not a calendar date (month {int(m[2])}, day {int(m[3])})")
    if m := _YMD.fullmatch(v):
        d = _date(int(m[1]), int(m[3]), int(m[4]))
        return DateReading(pd.Timestamp(d)) if d else DateReading(problem=f"'{v}' is not a calendar date; write it as YYYY-MM-DD")
    if m := _COMPACT.fullmatch(v):
        d = _date(int(m[1]), int(m[2]), int(m[3]))
        if d and 1900 <= d.year <= 2100:
            return DateReading(pd.Timestamp(d))
    if m := _DMY.fullmatch(v):
        a, b, year = int(m[1]), int(m[3]), m[4]
        if len(year) == 2:
            return DateReading(problem=f"'{v}' has a two-digit year (19{year} or 20{year}?); write it as YYYY-MM-DD")
        y = int(year)
        day_first, month_first = _date(y, b, a), _date(y, a, b)
        if day_first and month_first and day_first != month_first:
            first, second = sorted((day_first, month_first))
            return DateReading(problem=f"'{v}' could be {_iso_fix(first)} or {_iso_fix(second)} (is the day or the month first?); write it as YYYY-MM-DD")
        d = day_first or month_first
        return DateReading(pd.Timestamp(d)) if d else DateReading(problem=f"'{v}' is not a calendar date; write it as YYYY-MM-DD")
    if excel_serials and _SERIAL.fullmatch(v):
        serial = float(v)
        lo, hi = EXCEL_SERIAL_RANGE
        if lo <= int(serial) <= hi:
            return DateReading(pd.Timestamp(_EXCEL_EPOCH + dt.timedelta(days=int(serial))))
        return DateReading(problem=f"'{v}' is a number outside the range of Excel dates from 1950 to 2099; write the date as YYYY-MM-DD")
    return DateReading(problem=f"'{v}' is not a date; write it as YYYY-MM-DD (e.g. 2021-03-04)")


def label_mapping_hint(column: str, values: Iterable[str], *, dictionary_name: str, positive: str = "eosinophilic") -> str | None:
    """The data-dictionary entry that reads a label column written in words, or None when the words are not a known pair.

    ``positive`` is what the label 1 means in the message (eosinophilic).  The mapping offered is
    the obvious one (``yes``/``true``/``eCRS`` -> 1), for the user to check and write; it is never
    applied without being written.
    """
    seen = sorted({str(v).strip() for v in values if not is_missing(v)}, key=str.casefold)
    folded = {v.casefold() for v in seen}
    pairs = ({"true", "false"}, {"yes", "no"}, {"y", "n"}, {"ecrs", "non-ecrs"}, {"ecrs", "necrs"}, {"ecrs", "non_ecrs"}, {"ecrs", "non ecrs"})
    if not seen or not any(folded <= p for p in pairs):
        return None
    one = {"true", "yes", "y", "ecrs"}
    mapping = {v: (1 if v.casefold() in one else 0) for v in seen}
    for p in pairs:  # a column holding one word of a pair only: name the other too
        if folded < p:
            other = next(iter(p - folded))
            mapping.setdefault(other if other not in ("ecrs",) else "eCRS", 1 if other in one else 0)
    flow = yaml.safe_dump({"role": "label", "values": mapping}, default_flow_style=True, sort_keys=False, width=10_000).strip()
    entry = f"{yaml.safe_dump(column, default_style=None).strip().removesuffix('...').strip()}: {flow}"
    return (f"labels written as {', '.join(repr(v) for v in seen)} are not read by guessing: if {' and '.join(f'{k!r} means {v}' for k, v in mapping.items())} "
            f"(1 = {positive}), write this entry under columns: in the data dictionary {dictionary_name}: {entry}")
