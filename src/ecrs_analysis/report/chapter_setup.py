"""``open_chapter``: the first cell of every chapter, whether papermill runs it or a reader opens it.

The workflow injects ``profile``, ``results_dir`` and ``config`` into a chapter's parameters
cell. Opened by hand (JupyterLab's working folder is ``notebooks/``), the chapter gets
``profile = None``: it then reads the profile whose run finished last, under the checkout's
``results/`` (never the working folder's), with that profile's validated parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecrs_analysis.report.exhibits import Exhibits
from ecrs_analysis.config.params import notebook_params
from ecrs_analysis.paths import ResultPaths, default_results_dir, last_built_profile

__all__ = ["OpenChapter", "ChapterNotBuilt", "open_chapter"]


class ChapterNotBuilt(FileNotFoundError):
    """A chapter opened on a results folder that no run has written."""


@dataclass(frozen=True)
class OpenChapter:
    """What a chapter's cells work with.

    Attributes
    ----------
    name : str
        The notebook's name (``02_clinical``): numbers its exhibits.
    profile : str
        The parameter profile of the results it reads.
    config : dict
        The parameters (only those the chapter declared, when the workflow runs it).
    paths : ResultPaths
        The results folder it reads.
    exhibits : Exhibits
        Numbered figures and tables with downloads.
    """

    name: str
    profile: str
    config: dict[str, Any]
    paths: ResultPaths
    exhibits: Exhibits


def open_chapter(name: str, *, profile: str | None = None, results_dir: str | Path | None = None, config: Mapping[str, Any] | None = None,
                 provenance: bool = True) -> OpenChapter:
    """The profile, parameters, results folder and exhibits of chapter ``name``.

    ``provenance=False``: no provenance line under the captions (the appendix, which shows the records).

    Raises
    ------
    ChapterNotBuilt
        When the results folder holds no run (the message says which command builds it).
    """
    profile = profile or last_built_profile()
    root = Path(results_dir) if results_dir else default_results_dir(profile)
    if not root.is_dir():
        raise ChapterNotBuilt(
            f"{root} does not exist: chapter {name} only reads what the workflow computed; build it first with "
            f"`make book` (demo) or `ecrs run --profile {profile}`, or set `profile` in the parameters cell to a profile you built"
        )
    paths = ResultPaths(root)
    return OpenChapter(name, profile, notebook_params(profile, config), paths, Exhibits(paths, name, provenance=provenance))
