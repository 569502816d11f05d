"""Chapter 06 reads back what the explanation views job wrote (``jobs.explain_views``): mean maps, meshes and the example panels' slices."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecrs_analysis.explain.mesh import Surface
from ecrs_analysis.explain.views import PLANES, CaseSlices

__all__ = ["read_mean_maps", "read_surfaces", "read_examples"]


def read_mean_maps(path: str | Path) -> dict[tuple[str, int], np.ndarray]:
    """(network, true label) -> mean map on the network's input grid, in the order the job wrote them."""
    with np.load(path) as z:
        if "models" not in z.files:
            raise ValueError(f"{path}: no mean maps (the study's explanation did not run); check the chapter's status line")
        return {(str(m), int(k)): z[f"map_{i}"] for i, (m, k) in enumerate(zip(z["models"], z["labels"]))}


def read_surfaces(path: str | Path) -> tuple[list[Surface], str]:
    """The reconstruction's meshes (patient millimetres) and its title."""
    with np.load(path) as z:
        if "title" not in z.files:
            raise ValueError(f"{path}: no reconstruction (the study's explanation did not run); check the chapter's status line")
        surfaces = [Surface(name=str(n), vertices=z[f"vertices_{i}"], faces=z[f"faces_{i}"], colour=str(c), opacity=float(o))
                    for i, (n, c, o) in enumerate(zip(z["names"], z["colours"], z["opacities"]))]
        return surfaces, str(z["title"])


def read_examples(path: str | Path) -> dict[str, list[CaseSlices]]:
    """Network -> the slices of its most confident TP, FP, FN and TN, in the order the job wrote them."""
    with np.load(path) as z:
        if "models" not in z.files:
            raise ValueError(f"{path}: no example panels (the study's explanation did not run); check the chapter's status line")
        out: dict[str, list[CaseSlices]] = {}
        for i, model in enumerate(z["models"]):
            views = []
            for k, title in enumerate(z[f"titles_{i}"]):
                regions = [str(r) for r in z[f"regions_{i}_{k}"]]
                views.append(CaseSlices(
                    title=str(title), aspects={p: float(a) for p, a in zip(PLANES, z[f"aspects_{i}_{k}"])},
                    ct={p: z[f"ct_{i}_{k}_{p}"] for p in PLANES}, cam={p: z[f"cam_{i}_{k}_{p}"] for p in PLANES},
                    regions={name: {p: z[f"region_{i}_{k}_{r}_{p}"] for p in PLANES} for r, name in enumerate(regions)}))
            out[str(model)] = views
        return out
