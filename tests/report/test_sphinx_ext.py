"""The book's Sphinx extension: one copy of each inline script, plotly.js only where a plotly figure is drawn."""

from types import SimpleNamespace

from ecrs_analysis.report.sphinx_ext import _plotly_only_where_used, _unique_scripts


def _js(filename, body=""):
    return SimpleNamespace(filename=filename, attributes={"body": body} if body else {})


def _page(body):
    return {"body": body, "script_files": [_js("_static/jquery.js"), _js("_static/plotly.min.js"), _js("", "const A = 1"), _js("", "const A = 1")]}


def test_plotly_js_is_kept_only_on_a_page_that_draws_a_plotly_figure():
    plain, drawing = _page("<p>ROC curves</p><p>made with plotly? no</p>"), _page('<div class="plotly-graph-div"></div><script>Plotly.newPlot("x", [])</script>')
    for ctx in (plain, drawing):
        _plotly_only_where_used(None, "page", "page.html", ctx, None)
    assert [j.filename for j in plain["script_files"]] == ["_static/jquery.js", "", ""]
    assert "_static/plotly.min.js" in [j.filename for j in drawing["script_files"]]


def test_identical_inline_scripts_are_kept_once():
    ctx = _page("")
    _unique_scripts(None, "page", "page.html", ctx, None)
    assert [(j.filename, j.attributes.get("body")) for j in ctx["script_files"]] == [("_static/jquery.js", None), ("_static/plotly.min.js", None), ("", "const A = 1")]
