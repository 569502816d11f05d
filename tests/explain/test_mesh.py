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


def test_static_view_draws(tmp_path):
    vol, img, _ = _ball()
    fig = surfaces_png([surface(vol, img, name="ball", colour="red")], title="t")
    fig.savefig(tmp_path / "v.png")
    assert (tmp_path / "v.png").stat().st_size > 1000


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
