"""A chapter that cannot run on this cohort says so, instead of failing the book."""

from __future__ import annotations

__all__ = ["ChapterSkipped"]


class ChapterSkipped(ValueError):
    """Raised by package code when a chapter's optional data are absent (e.g. no proteomics for a
    hospital cohort). The workflow then publishes the chapter as a page that gives the reason."""
