"""The book's Sphinx extension, in a real (tiny) Sphinx build: plotly.js only on a page that draws a
plotly figure, and one copy of an inline script registered as sphinx-thebe registers its configuration."""

import re
import textwrap

from sphinx.application import Sphinx

from ecrs_analysis.report.sphinx_ext import PLOTLY_JS

CONF = textwrap.dedent(
    """
    extensions = ["ecrs_analysis.report.sphinx_ext", "thebe_like"]
    html_theme = "basic"
    html_static_path = ["_static"]
    """
)

# a local extension that registers an inline script as sphinx-thebe 0.3 does (Sphinx alone puts it on each page twice)
THEBE_LIKE = textwrap.dedent(
    """
    def _config_script(app, env, docnames):
        app.add_js_file(None, body='const THEBE_JS_URL = "x"')

    def setup(app):
        app.connect("env-before-read-docs", _config_script)
        return {"parallel_read_safe": True}
    """
)

PAGES = {
    "index": "Book\n====\n\n.. toctree::\n\n   drawing\n   plain\n",
    "drawing": 'Drawing\n=======\n\n.. raw:: html\n\n   <div id="v"></div><script>Plotly.newPlot("v", [])</script>\n',
    "plain": "Plain\n=====\n\nROC curves, made with matplotlib; no plotly here.\n",
}


def _build(tmp_path, monkeypatch):
    src, out = tmp_path / "src", tmp_path / "out"
    (src / "_static").mkdir(parents=True)
    (src / "_static" / PLOTLY_JS).write_text("/* plotly.js */")
    (src / "conf.py").write_text(CONF)
    (src / "thebe_like.py").write_text(THEBE_LIKE)
    for name, text in PAGES.items():
        (src / f"{name}.rst").write_text(text)
    monkeypatch.syspath_prepend(str(src))
    app = Sphinx(str(src), str(src), str(out), str(tmp_path / "doctrees"), "html", status=None, warning=None, freshenv=True)
    app.build()
    assert app.statuscode == 0
    return {name: (out / f"{name}.html").read_text(encoding="utf-8") for name in PAGES}


def test_plotly_js_only_on_the_page_that_draws_and_one_copy_of_a_repeated_inline_script(tmp_path, monkeypatch):
    html = _build(tmp_path, monkeypatch)
    loads = {name: bool(re.search(rf'<script[^>]+src="_static/{re.escape(PLOTLY_JS)}', page)) for name, page in html.items()}
    assert loads == {"index": False, "drawing": True, "plain": False}
    assert (tmp_path / "out" / "_static" / PLOTLY_JS).exists()  # copied for the page that loads it
    for page in html.values():
        assert page.count("const THEBE_JS_URL") == 1
