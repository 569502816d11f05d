"""Chapter 06's computed views, one workflow job: each study's mean maps, the 3D reconstruction's meshes and the
example panels' slices.

The chapter used to average the maps, run marching cubes and map each example's attention back onto its CT (MONAI's
preprocessing, inverted) while it rendered; this job calls the same functions with the same arguments
(``report.explain_chapter.mean_maps``, ``.reconstruction`` and ``.example_views`` with ``explain.views.case_slices``)
and writes their arrays, which the chapter reads back (``report.explain_views``) and draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ecrs_analysis.atomic import atomic_path

__all__ = ["explain_views_job", "write_npz", "VIEWS"]

VIEWS = ("mean_maps", "surfaces", "examples")
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


def _example_arrays(examples: Mapping[str, list[Any]]) -> dict[str, np.ndarray]:
    """Each network's example panels (``explain.views.CaseSlices``, in order) as named arrays."""
    from ecrs_analysis.explain.views import PLANES  # lazy: the workflow imports this module for VIEWS while it plans

    out: dict[str, np.ndarray] = {"models": np.array(list(examples), dtype=str)}
    for i, views in enumerate(examples.values()):
        out[f"titles_{i}"] = np.array([v.title for v in views], dtype=str)
        for k, v in enumerate(views):
            out[f"aspects_{i}_{k}"] = np.array([v.aspects[p] for p in PLANES], dtype=np.float64)
            out[f"regions_{i}_{k}"] = np.array(list(v.regions), dtype=str)
            for p in PLANES:
                out[f"ct_{i}_{k}_{p}"], out[f"cam_{i}_{k}_{p}"] = v.ct[p], v.cam[p]
                for r, m in enumerate(v.regions.values()):
                    out[f"region_{i}_{k}_{r}_{p}"] = m[p]
    return out


def explain_views_job(config: Mapping[str, Any], paths: Any, *, studies: tuple[str, ...], out: Mapping[str, Path]) -> None:
    """Per study: ``out["<study>_mean_maps"]`` (the mean map of each network by true class), ``out["<study>_surfaces"]``
    (the reconstruction's meshes and title) and ``out["<study>_examples"]`` (the slices of each network's most
    confident TP, FP, FN and TN). A study whose explanation the jobs did not produce (``StudyExplanation.ok``
    false: e.g. MTLNet's classifier did not learn) gets empty archives; the chapter then shows its status instead.

    ``config``: chapter 06's parameters as a mapping (the chapter's own ``config``), read by ``report.explain_chapter.load_explanation``.
    """
    from ecrs_analysis.explain.views import case_slices  # lazy: as above
    from ecrs_analysis.report import explain_chapter as chapter

    for study in studies:
        expl = chapter.load_explanation(dict(config), paths, study)
        if not expl.ok:
            for view in VIEWS:
                write_npz({}, out[f"{study}_{view}"])
            continue
        write_npz(_mean_map_arrays(chapter.mean_maps(expl)), out[f"{study}_mean_maps"])
        surfaces, title = chapter.reconstruction(expl)
        write_npz(_surface_arrays(surfaces, title), out[f"{study}_surfaces"])
        write_npz(_example_arrays({m: [case_slices(v) for v in chapter.example_views(expl, m)] for m in expl.models}), out[f"{study}_examples"])
