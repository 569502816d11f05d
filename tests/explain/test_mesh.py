"""3D surfaces in millimetres, the face budget, and an interactive view that loads nothing from the network."""

import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import SimpleITK as sitk
import yaml

from ecrs_analysis.explain.mesh import PLOTLY_JS, install_plotlyjs, surface, surfaces_html, surfaces_page, surfaces_png

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[2]


def _ball(radius_mm=6.0):
    img = sitk.Image(40, 30, 20, sitk.sitkFloat32)
    img.SetSpacing((0.5, 0.8, 2.0))
    img.SetOrigin((10.0, -20.0, 30.0))
    centre = np.array([20.0, -8.0, 50.0])  # mm
    zz, yy, xx = np.meshgrid(*(np.arange(n) for n in (20, 30, 40)), indexing="ij")
    pts = np.stack([10.0 + 0.5 * xx, -20.0 + 0.8 * yy, 30.0 + 2.0 * zz], -1)
    vol = (np.linalg.norm(pts - centre, axis=-1) < radius_mm).astype(np.float32)
    return vol, img, centre


def test_surface_is_in_patient_millimetres():
    vol, img, centre = _ball()
    s = surface(vol, img, name="ball", colour="red", max_faces=100_000)
    r = np.linalg.norm(s.vertices - centre, axis=1)
    assert abs(np.median(r) - 6.0) < 1.0  # the radius in mm, whatever the anisotropic voxels
    assert np.allclose(s.vertices.mean(0), centre, atol=1.0)
    assert surface(np.zeros_like(vol), img, name="none", colour="red") is None


def test_face_budget_is_kept_by_a_coarser_step():
    vol, img, _ = _ball(8.0)
    fine = surface(vol, img, name="b", colour="red", max_faces=100_000)
    coarse = surface(vol, img, name="b", colour="red", max_faces=300)
    assert len(coarse.faces) <= 300 < len(fine.faces)
    with pytest.raises(ValueError, match="image grid"):
        surface(vol[:-1], img, name="b", colour="red")


def _area_and_volume(s) -> tuple[float, float]:
    """Surface area (sum of triangle areas) and enclosed volume (divergence theorem) of a closed mesh."""
    a, b, c = (s.vertices[s.faces[:, k]].astype(float) for k in range(3))
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1).sum()
    volume = abs(np.einsum("ij,ij->i", a, np.cross(b, c)).sum()) / 6.0
    return float(area), float(volume)


def test_a_balls_surface_has_the_spheres_area_volume_and_radius():
    # isotropic 0.5 mm voxels, r = 7 mm: the marching-cubes mesh of the voxelised ball against 4 pi r^2 and 4/3 pi r^3
    r, h = 7.0, 0.5
    img = sitk.Image(40, 40, 40, sitk.sitkFloat32)
    img.SetSpacing((h, h, h))
    img.SetOrigin((-10.0, 5.0, 20.0))
    centre = np.array(img.TransformContinuousIndexToPhysicalPoint((19.5, 19.5, 19.5)))
    zz, yy, xx = np.meshgrid(*(np.arange(40),) * 3, indexing="ij")
    pts = np.stack([xx, yy, zz], -1) * h + np.asarray(img.GetOrigin())
    vol = (np.linalg.norm(pts - centre, axis=-1) <= r).astype(np.float32)
    s = surface(vol, img, name="ball", colour="red", max_faces=10**6)
    d = np.linalg.norm(s.vertices - centre, axis=1)
    assert np.abs(d - r).max() <= h  # every vertex within one voxel of the sphere
    area, volume = _area_and_volume(s)
    assert volume == pytest.approx(4 / 3 * np.pi * r**3, rel=0.05)
    # a mask's voxel staircase is rougher than the sphere: its marching-cubes area is known to run some 5-10% over
    assert 1.0 < area / (4 * np.pi * r**2) < 1.12
    # a smooth map (the attention maps are scaled 0-1) ramps linearly across the sphere: its iso-surface is the sphere
    smooth = np.clip(0.5 + (r - np.linalg.norm(pts - centre, axis=-1)) / (4 * h), 0, 1).astype(np.float32)
    m = surface(smooth, img, name="map", colour="red", max_faces=10**6)
    assert np.abs(np.linalg.norm(m.vertices - centre, axis=1) - r).max() < 0.1 * h
    area, volume = _area_and_volume(m)
    assert area == pytest.approx(4 * np.pi * r**2, rel=0.01) and volume == pytest.approx(4 / 3 * np.pi * r**3, rel=0.01)
    # the coarser mesh of a face budget is still the same ball
    coarse = surface(vol, img, name="ball", colour="red", max_faces=800)
    assert len(coarse.faces) <= 800 and _area_and_volume(coarse)[1] == pytest.approx(4 / 3 * np.pi * r**3, rel=0.2)


def test_vertices_follow_the_images_direction_not_only_its_spacing():
    vol, img, _ = _ball()
    flipped = sitk.Image(img)
    flipped.SetDirection((-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0))  # an LPS image stored right-to-left, feet-first
    inside = np.argwhere(vol > 0.5).mean(0)[::-1]  # (x, y, z) index of the ball's centre
    want = np.array(flipped.TransformContinuousIndexToPhysicalPoint(tuple(float(v) for v in inside)))
    got = surface(vol, flipped, name="ball", colour="red", max_faces=100_000).vertices.mean(0)
    assert np.allclose(got, want, atol=1.0)
    assert abs(got[0] - surface(vol, img, name="ball", colour="red", max_faces=100_000).vertices.mean(0)[0]) > 10  # x really moved


def _red_and_blue_centroids(fig):
    """Display (pixel) centroids of the strongly red and strongly blue pixels of a drawn figure (origin bottom left)."""
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 120) & (rgb[..., 2] < 120)
    blue = (rgb[..., 2] > 150) & (rgb[..., 0] < 120) & (rgb[..., 1] < 120)
    h = rgb.shape[0]
    return [(np.argwhere(m)[:, 1].mean(), h - np.argwhere(m)[:, 0].mean(), int(m.sum())) for m in (red, blue)]


def test_static_view_draws_each_surface_where_it_is():
    from mpl_toolkits.mplot3d import proj3d

    vol, img, centre = _ball()
    shifted = sitk.Image(img)
    shifted.SetOrigin(tuple(np.asarray(img.GetOrigin()) + (0.0, 0.0, 30.0)))  # the same ball, 30 mm superior
    red, blue = surface(vol, img, name="lower", colour="red", opacity=1.0), surface(vol, shifted, name="upper", colour="blue", opacity=1.0)
    fig = surfaces_png([red, blue], title="two balls")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["lower", "upper"] and ax.get_title() == "two balls"
    for lim, lo, hi in zip((ax.get_xlim(), ax.get_ylim(), ax.get_zlim()), np.minimum(red.vertices.min(0), blue.vertices.min(0)), np.maximum(red.vertices.max(0), blue.vertices.max(0))):
        assert lim[0] <= lo and hi <= lim[1]  # both balls inside the axes
    (rx, ry, rn), (bx, by, bn) = _red_and_blue_centroids(fig)
    assert rn > 500 and bn > 500  # both drawn, not a sliver
    for (x, y), c in (((rx, ry), centre), ((bx, by), centre + (0.0, 0.0, 30.0))):
        px, py, _ = proj3d.proj_transform(*c, ax.get_proj())
        want = ax.transData.transform((px, py))
        assert np.hypot(x - want[0], y - want[1]) < 0.1 * fig.bbox.height, (x, y, want)  # each ball drawn over its own centre
    assert by > ry + 30  # the superior ball above the other on the page
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_interactive_view_loads_no_script_and_names_no_server():
    vol, img, _ = _ball()
    html = surfaces_html([surface(vol, img, name="ball", colour="red", max_faces=500)], title="t")
    assert "Plotly.newPlot" in html  # the figure is there ...
    assert not re.search(r"<script[^>]+src=", html)  # ... but no script is fetched
    assert not re.search(r"https?://", html)  # nor any server named
    assert len(html) < 200_000


def test_plotlyjs_is_shipped_with_the_book(tmp_path):
    target = install_plotlyjs(tmp_path / "_static")
    assert target.name == PLOTLY_JS and target.stat().st_size > 1_000_000
    assert install_plotlyjs(tmp_path / "_static") == target  # idempotent
    sphinx = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]
    # the book's extension adds it to the pages that draw with it (tests/report/test_sphinx_ext.py)
    assert "ecrs_analysis.report.sphinx_ext" in sphinx["extra_extensions"] and "book/_static" in sphinx["config"]["html_static_path"]
    assert "book/_static/plotly.min.js" in (ROOT / ".gitignore").read_text(encoding="utf-8")  # copied at build time, not committed


def test_the_interactive_download_is_one_self_contained_page():
    vol, img, _ = _ball()
    page = surfaces_page([surface(vol, img, name="ball", colour="red", max_faces=500)], title="t")
    assert "<html>" in page[:100] and page.rstrip().endswith("</html>") and "Plotly.newPlot" in page
    assert not re.search(r"<script[^>]+src=", page)  # plotly.js is inside: it opens offline
    assert len(page) > 1_000_000  # ... which is why the chapter links it rather than showing it


def test_the_same_interactive_view_renders_to_the_same_bytes():
    vol, img, _ = _ball()
    views = [surfaces_html([surface(vol, img, name="ball", colour=c, max_faces=500)], title="t") for c in ("red", "red", "blue")]
    assert views[0] == views[1]  # no random element id: two builds give the same chapter
    ids = [re.search(r'<div id="([^"]+)"', v).group(1) for v in views]
    assert ids[0] != ids[2]  # another view on the same page gets another id
