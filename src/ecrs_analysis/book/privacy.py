"""Privacy guard: no patient identifier from a manifest may appear in the rendered book."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["PrivacyError", "find_identifiers"]

_TEXT_SUFFIXES = {".html", ".txt", ".js", ".json", ".ipynb", ".md", ".svg", ".csv", ".xml"}


class PrivacyError(RuntimeError):
    """A rendered file shows a patient identifier."""


def find_identifiers(folder: str | Path, identifiers: Iterable[str], *, min_length: int = 4) -> dict[str, list[str]]:
    """Files under ``folder`` (text files only) that contain any identifier as a whole token.

    Identifiers shorter than ``min_length`` characters (e.g. "17") cannot be told from
    ordinary numbers in the text and are not searched; the runner warns about them.

    Returns ``{relative file: [identifiers found]}``; empty when the folder is clean.
    """
    ids = sorted({str(i).strip() for i in identifiers if len(str(i).strip()) >= min_length}, key=len, reverse=True)
    if not ids:
        return {}
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(re.escape(i) for i in ids) + r")(?![A-Za-z0-9])")
    hits: dict[str, list[str]] = {}
    root = Path(folder)
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.suffix.lower() in _TEXT_SUFFIXES:
            found = sorted(set(pattern.findall(f.read_text(errors="ignore"))))
            if found:
                hits[str(f.relative_to(root))] = found
    return hits
