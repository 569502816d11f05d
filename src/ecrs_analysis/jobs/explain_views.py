"""Chapter 06's computed views, one workflow job: each study's mean maps and the 3D reconstruction's meshes.

The chapter used to average the maps and run marching cubes while it rendered; this job calls the
same functions with the same arguments (``report.explain_chapter.mean_maps`` and ``.reconstruction``)
and writes their arrays, which the chapter reads back (``report.explain_views``) and draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ecrs_analysis.atomic import atomic_path

__all__ = ["explain_views_job", "write_npz", "VIEWS"]

VIEWS = ("mean_maps", "surfaces")
"""What the job writes per study (``ResultPaths.explain_view``)."""


def write_npz(arrays: Mapping[str, np.ndarray], path: str | Path) -> None:
    """``arrays`` as one compressed ``.npz``, written atomically (an empty mapping writes an empty archive)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **dict(arrays))  # type: ignore[arg-type]  # numpy's stub types **kwds against its allow_pickle: bool keyword


def _mean_map_arrays(maps: Mapping[tuple[str, int], np.ndarray]) -> dict[str, np.ndarray]:
    keys = list(maps)
    out = {"models": np.array([m for m, _ in keys], dtype=str), "labels": np.array([int(k) for _, k in keys], dtype=np.int64)}
    out.update({f"map_{i}": maps[k] for i, k in enumerate(keys)})
    return out


def _surface_arrays(surfaces: list[Any], title: str) -> dict[str, np.ndarray]:
    out = {"title": np.array(title), "names": np.array([s.name for s in surfaces], dtype=str), "colours": np.array([s.colour for s in surfaces], dtype=str),
           "opacities": np.array([s.opacity for s in surfaces], dtype=np.float64)}
    for i, s in enumerate(surfaces):
        out[f"vertices_{i}"], out[f"faces_{i}"] = s.vertices, s.faces
    return out


def explain_views_job(config: Mapping[str, Any], paths: Any, *, studies: tuple[str, ...], out: Mapping[str, Path]) -> None:
    """Per study: ``out["<study>_mean_maps"]`` (the mean map of each network by true class) and ``out["<study>_surfaces"]``
    (the reconstruction's meshes and title). A study whose explanation the jobs did not produce (``StudyExplanation.ok``
    false: e.g. MTLNet's classifier did not learn) gets empty archives; the chapter then shows its status instead.

    ``config``: chapter 06's parameters as a mapping (the chapter's own ``config``), read by ``report.explain_chapter.load_explanation``.
    """
    from ecrs_analysis.report import explain_chapter as chapter

    for study in studies:
        expl = chapter.load_explanation(dict(config), paths, study)
        if not expl.ok:
            write_npz({}, out[f"{study}_mean_maps"])
            write_npz({}, out[f"{study}_surfaces"])
            continue
        write_npz(_mean_map_arrays(chapter.mean_maps(expl)), out[f"{study}_mean_maps"])
        surfaces, title = chapter.reconstruction(expl)
        write_npz(_surface_arrays(surfaces, title), out[f"{study}_surfaces"])
