"""A Sphinx extension of the book's own: plotly.js only on the pages that draw a plotly figure.

plotly.js (3.5 MB, copied into the book's ``_static`` from the installed plotly package when the
book is assembled: :func:`ecrs_analysis.explain.mesh.install_plotlyjs`) is added to a page through
Sphinx's documented per-page hook: :meth:`sphinx.application.Sphinx.add_js_file` called on the
``html-page-context`` event adds a script to that page only. A page draws a figure when its body
calls ``Plotly.newPlot`` (the interactive 3D views of chapter 06).

One copy of each inline script per page: sphinx-thebe registers its configuration script
(``const THEBE_JS_URL = ...``) with ``app.add_js_file(None, body=...)``; Sphinx's HTML builder adds
it to each page once under the name ``None`` and once under ``''`` (it keeps one copy of *equal*
scripts only), so every page declared the same ``const`` twice: a JavaScript error on every page
(Thebe is off in this book). On ``html-page-context`` the page's ``script_files`` (a documented
template variable, whose items Sphinx documents through ``filename`` and ``attributes``) keep the
first of identical inline scripts. A Sphinx whose items lack those fields fails the build with an
``AttributeError`` instead of leaving the copies in silently (``tests/report/test_sphinx_ext.py``
builds pages with a real Sphinx).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PLOTLY_JS", "setup"]

PLOTLY_JS = "plotly.min.js"
PLOTLY_CALL = "Plotly.newPlot"
PLOTLY_PRIORITY = 800
"""Where ``html_js_files`` put it before: after the extensions' scripts."""


def _unique_inline_scripts(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """``html-page-context``: keep the first of inline scripts with the same body (and no file)."""
    seen: set[str] = set()
    kept = []
    for js in context["script_files"]:
        body = js.attributes.get("body") if not js.filename else None
        if body is not None:
            if body in seen:
                continue
            seen.add(body)
        kept.append(js)
    context["script_files"] = kept


def _plotly_where_used(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """``html-page-context``: load plotly.js on a page whose body draws a plotly figure."""
    if PLOTLY_CALL in str(context.get("body", "")):
        app.add_js_file(PLOTLY_JS, priority=PLOTLY_PRIORITY)


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _plotly_where_used)
    app.connect("html-page-context", _unique_inline_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
