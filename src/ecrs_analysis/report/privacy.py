"""Privacy guard: no patient identifier from a manifest may appear in the rendered book.

What counts as an identifier (:func:`identifiers_of`): the patient ids, every value of a column
the data dictionary marks ``identifying`` (MRN, name, date of birth ...; columns whose name says
so are treated alike), and the scan dates.

Identifiers are matched as whole tokens: ``MRN123456`` is not found inside ``MRN1234567``, and a
numeric id ``1234`` is not found inside the numbers ``12345``, ``0.1234`` or ``1,234``.  An
identifier that the book's own text already contains (its prose, notebook sources and
parameters: "1098 patients", "2025") cannot be told apart from it and is reported as
unverifiable instead of as a leak (:func:`unverifiable`).

:func:`scrub_notebook` removes identifiers from a failed notebook's outputs before it is kept
for inspection.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ecrs_analysis.atomic import write_text

__all__ = ["PrivacyError", "REDACTED", "identifiers_of", "identifier_pattern", "own_text", "unverifiable", "find_identifiers", "scrub_text", "scrub_notebook"]

_TEXT_SUFFIXES = {".html", ".txt", ".js", ".json", ".ipynb", ".md", ".svg", ".csv", ".xml"}
_SKIP_DIRS = {"_static", "_sphinx_design_static"}
"""Theme assets copied by Sphinx: no page content, but full of numbers."""
REDACTED = "[redacted]"
MIN_LENGTH = 3


class PrivacyError(RuntimeError):
    """A rendered file shows a patient identifier."""


def identifiers_of(cohort: Any) -> set[str]:
    """Everything of a validated cohort that must never appear in the book.

    Patient ids, the values of identifying columns (and their dates as ``YYYY-MM-DD``) and
    the scan dates (``YYYY-MM-DD``).  ``cohort`` is a :class:`~ecrs_analysis.data.manifest.Cohort`.
    """
    ids = {str(i).strip() for i in getattr(cohort, "identifiers", frozenset())}
    ids.update(str(p).strip() for p in cohort.table["patient_id"])
    if "scan_date" in cohort.table:
        ids.update(d.date().isoformat() for d in cohort.table["scan_date"].dropna())
    return {i for i in ids if i}


def _trie_alternation(words: Iterable[str]) -> str:
    """A regular expression matching exactly ``words``, written as a prefix tree.

    ``a|b|c`` over a cohort's ~1,400 identifiers makes Python's ``re`` try every alternative
    at every token of the book (54 s for the demo book); the same set as a tree of shared
    prefixes (``LI0(?:0(?:42|17)|1...)``) fails at the first differing character instead
    (about 1 s).  The standard library has no such builder and the PyPI ones are unmaintained,
    hence these lines.  A word that is a prefix of another becomes an optional (greedy) tail,
    so the longer identifier is tried first and the shorter one still matches when the
    longer one's boundary fails, as in an alternation ordered longest first.
    """
    tree: dict[str, dict] = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(tree)


def identifier_pattern(identifiers: Iterable[str]) -> re.Pattern[str] | None:
    """One regular expression matching any identifier as a whole token (number-aware boundaries)."""
    ids = {str(i).strip() for i in identifiers if str(i).strip()}
    if not ids:
        return None
    # Not inside a word or number: no letter/digit next to it, and no digit across a decimal point or comma.
    return re.compile(r"(?<![A-Za-z0-9])(?<![0-9][.,])(" + _trie_alternation(ids) + r")(?![A-Za-z0-9])(?![.,][0-9])")


def own_text(root: str | Path) -> str:
    """The book's own words: markdown pages, notebook sources (not outputs), parameters and configuration."""
    root = Path(root)
    parts: list[str] = [str(dt.date.today().year)]
    for pattern in ("book/*.md", "*.md", "_config.yml", "_toc.yml", "params/*.yaml"):
        parts += [f.read_text(encoding="utf-8", errors="ignore") for f in sorted(root.glob(pattern))]
    for nb in sorted(root.glob("notebooks/*.ipynb")):
        try:
            cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError):
            continue
        parts += ["".join(c.get("source", "")) for c in cells]
    return "\n".join(parts)


def unverifiable(identifiers: Iterable[str], root: str | Path | None = None, *, min_length: int = MIN_LENGTH) -> set[str]:
    """Identifiers the check cannot tell from the book's own text: too short, or already in its prose/sources."""
    ids = {str(i).strip() for i in identifiers if str(i).strip()}
    out = {i for i in ids if len(i) < min_length}
    if root is not None:
        pattern = identifier_pattern(ids - out)
        if pattern is not None:
            out.update(pattern.findall(own_text(root)))
    return out


def find_identifiers(folder: str | Path, identifiers: Iterable[str], *, min_length: int = MIN_LENGTH, book_root: str | Path | None = None) -> dict[str, list[str]]:
    """Files under ``folder`` (text files, theme assets aside) that contain any identifier as a whole token.

    Parameters
    ----------
    folder : path
        The rendered book (``_build/html``) or any folder of outputs.
    identifiers : iterable of str
        From :func:`identifiers_of`.
    min_length : int
        Shorter identifiers (e.g. "17") cannot be told from ordinary numbers and are not searched.
    book_root : path, optional
        The checkout: identifiers its own text contains (:func:`unverifiable`) are not searched.

    Returns
    -------
    dict
        ``{relative file: [identifiers found]}``; empty when the folder is clean.
    """
    ids = {str(i).strip() for i in identifiers}
    pattern = identifier_pattern(ids - unverifiable(ids, book_root, min_length=min_length))
    if pattern is None:
        return {}
    hits: dict[str, list[str]] = {}
    root = Path(folder)
    for f in sorted(root.rglob("*")):
        rel = f.relative_to(root)
        if f.is_file() and f.suffix.lower() in _TEXT_SUFFIXES and not _SKIP_DIRS & set(rel.parts[:-1]):
            found = sorted(set(pattern.findall(f.read_text(encoding="utf-8", errors="ignore"))))
            if found:
                hits[str(rel)] = found
    return hits


def scrub_text(text: str, identifiers: Iterable[str], *, min_length: int = MIN_LENGTH) -> tuple[str, int]:
    """``text`` with every identifier (whole tokens, at least ``min_length`` characters) replaced by ``[redacted]``."""
    pattern = identifier_pattern(i for i in identifiers if len(str(i).strip()) >= min_length)
    if pattern is None:
        return text, 0
    return pattern.subn(REDACTED, text)


def _scrub(obj: Any, pattern: re.Pattern[str]) -> tuple[Any, int]:
    if isinstance(obj, str):
        return pattern.subn(REDACTED, obj)
    if isinstance(obj, list):
        pairs = [_scrub(x, pattern) for x in obj]
        return [p[0] for p in pairs], sum(p[1] for p in pairs)
    if isinstance(obj, dict):
        scrubbed = {k: _scrub(v, pattern) for k, v in obj.items()}
        return {k: p[0] for k, p in scrubbed.items()}, sum(p[1] for p in scrubbed.values())
    return obj, 0


def scrub_notebook(path: str | Path, identifiers: Iterable[str], *, min_length: int = MIN_LENGTH) -> int:
    """Remove identifiers from a notebook's outputs (text, HTML, errors and tracebacks) and papermill's
    exception record, in place and atomically; returns how many were replaced.

    The runner calls it on a failed notebook before keeping it for inspection.
    """
    p = Path(path)
    nb = json.loads(p.read_text(encoding="utf-8"))
    pattern = identifier_pattern(i for i in identifiers if len(str(i).strip()) >= min_length)
    if pattern is None:
        return 0
    count = 0
    for cell in nb.get("cells", []):
        if "outputs" in cell:
            cell["outputs"], n = _scrub(cell["outputs"], pattern)
            count += n
    meta = nb.get("metadata", {}).get("papermill", {})
    if "exception" in meta:
        meta["exception"], n = _scrub(meta["exception"], pattern)
        count += n
    if count:
        write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", p)
    return count
