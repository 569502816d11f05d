"""3D reconstruction: surfaces by marching cubes (scikit-image), drawn statically (matplotlib) and interactively (plotly).

Surfaces are in patient millimetres (LPS, from the CT's origin, spacing and direction), so
the sinus segmentation, the lesion ROI and the attention iso-surface of one patient line up.
Each surface is kept under a face budget by growing the marching-cubes step (its own
decimation), which keeps a book page small.

The book is offline. The chapter shows a still view and links the interactive one as a
download (:func:`surfaces_page`: one self-contained HTML file with plotly.js inside, opened only
by a reader who asks for it), so the page does not carry plotly.js (4.8 MB) and the meshes.
A fragment for a page that already loads plotly.js (:func:`surfaces_html`) remains: the book
copies plotly.js from the installed plotly package into its static folder
(:func:`install_plotlyjs`) and loads it only on a page that draws with it.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from numpy.typing import NDArray

__all__ = ["Surface", "surface", "surfaces_png", "surfaces_html", "surfaces_page", "install_plotlyjs", "PLOTLY_JS"]

PLOTLY_JS = "plotly.min.js"


@dataclass(frozen=True)
class Surface:
    """A triangle mesh in patient millimetres (LPS)."""

    name: str
    vertices: NDArray[np.float32]
    faces: NDArray[np.int32]
    colour: str
    opacity: float = 0.4


def _to_physical(index_zyx: NDArray, image: sitk.Image) -> NDArray[np.float32]:
    ijk = index_zyx[:, ::-1]  # (z, y, x) array indices -> (x, y, z) image indices
    d = np.asarray(image.GetDirection(), dtype=float).reshape(3, 3)
    return (np.asarray(image.GetOrigin()) + (ijk * np.asarray(image.GetSpacing())) @ d.T).astype(np.float32)


def surface(volume: NDArray, image: sitk.Image, *, level: float = 0.5, name: str, colour: str, max_faces: int = 20_000, opacity: float = 0.4) -> Surface | None:
    """The iso-surface of a volume on ``image``'s grid ((z, y, x) array); None when nothing crosses ``level``.

    The marching-cubes step grows (1, 2, 3 ... voxels) until the mesh has at most ``max_faces`` triangles.
    """
    from skimage.measure import marching_cubes  # imported here: the book runner only needs install_plotlyjs

    v = np.asarray(volume, dtype=np.float32)
    if v.shape != sitk.GetArrayFromImage(image).shape:
        raise ValueError(f"volume of shape {v.shape} is not on the image grid {image.GetSize()[::-1]}")
    inside = np.argwhere(v > level)
    if len(inside) == 0:
        return None
    lo = np.maximum(inside.min(0) - 2, 0)
    hi = np.minimum(inside.max(0) + 3, v.shape)
    # pad so surfaces touching the crop edge close
    sub = np.pad(v[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]], 1, constant_values=min(float(v.min()), 0.0))
    step = 1
    while True:
        verts, faces, _, _ = marching_cubes(sub, level=level, step_size=step, allow_degenerate=False)
        if len(faces) <= max_faces or step >= max(sub.shape) // 2:
            break
        step += 1
    verts = verts - 1 + lo
    return Surface(name, _to_physical(verts, image), faces.astype(np.int32), colour, opacity)


def surfaces_png(surfaces: list[Surface], *, title: str = "", ax=None):
    """A static 3D view (matplotlib ``Poly3DCollection``); returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    if ax is None:
        fig = plt.figure(figsize=(6.5, 6))
        ax = fig.add_subplot(projection="3d")
    fig = ax.figure
    lows, highs = [], []
    for s in surfaces:
        ax.add_collection3d(Poly3DCollection(s.vertices[s.faces], facecolor=s.colour, edgecolor="none", alpha=s.opacity))
        lows.append(s.vertices.min(0))
        highs.append(s.vertices.max(0))
    if surfaces:
        lo, hi = np.min(lows, 0), np.max(highs, 0)
        centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 + 1.0
        for setter, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre):
            setter(c - half, c + half)
        ax.set_box_aspect((1, 1, 1))  # equal millimetres on every axis
    ax.set_xlabel("x (mm, patient left)")
    ax.set_ylabel("y (mm, posterior)")
    ax.set_zlabel("z (mm, superior)")
    ax.view_init(elev=15, azim=-110)
    ax.legend(handles=[Patch(color=s.colour, alpha=max(s.opacity, 0.5), label=s.name) for s in surfaces], loc="upper left", fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def _plotly_figure(surfaces: list[Surface], *, title: str, height: int):
    import plotly.graph_objects as go

    fig = go.Figure()
    for s in surfaces:
        v = np.round(s.vertices, 1)
        fig.add_trace(go.Mesh3d(x=v[:, 0], y=v[:, 1], z=v[:, 2], i=s.faces[:, 0], j=s.faces[:, 1], k=s.faces[:, 2], color=s.colour, opacity=s.opacity, name=s.name, showlegend=True, hoverinfo="name"))
    fig.update_layout(
        title=title, height=height, margin=dict(l=0, r=0, t=40 if title else 0, b=0),
        scene=dict(aspectmode="data", xaxis_title="x (mm, left)", yaxis_title="y (mm, posterior)", zaxis_title="z (mm, superior)"),
    )
    return fig


# plotlyServerURL is only an "edit in Chart Studio" link target; empty it so the page names no server.
_CONFIG = {"displaylogo": False, "plotlyServerURL": ""}


def _div_id(fig) -> str:
    """The element's id from the figure itself (plotly's default is random): the same view renders to the same bytes."""
    return "mesh-" + hashlib.sha256(fig.to_json().encode()).hexdigest()[:16]


def surfaces_html(surfaces: list[Surface], *, title: str = "", height: int = 520) -> str:
    """An interactive 3D view as an HTML fragment that loads no script: plotly.js must already be on the page."""
    fig = _plotly_figure(surfaces, title=title, height=height)
    return fig.to_html(include_plotlyjs=False, full_html=False, div_id=_div_id(fig), config=_CONFIG)


def surfaces_page(surfaces: list[Surface], *, title: str = "", height: int = 760) -> str:
    """An interactive 3D view as a self-contained HTML page (plotly.js inside: it opens offline, from a download)."""
    fig = _plotly_figure(surfaces, title=title, height=height)
    return fig.to_html(include_plotlyjs=True, full_html=True, div_id=_div_id(fig), config=_CONFIG)


def install_plotlyjs(static_dir: str | Path) -> Path:
    """Copy plotly.js from the installed plotly package into the book's static folder (once per version)."""
    import plotly

    source = Path(plotly.__file__).parent / "package_data" / PLOTLY_JS
    target = Path(static_dir) / PLOTLY_JS
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)
    return target
