"""A Sphinx extension of the book's own: one copy of each inline script per page, and
plotly.js only on the pages that draw a plotly figure.

sphinx-thebe adds its configuration script (``const THEBE_JS_URL = ...``) each time
Sphinx reads the sources, and Jupyter Book's build reads them twice, so every page
declared the same ``const`` twice: a JavaScript error on every page. Thebe is off in this
book; the extension keeps the first copy of each identical inline script, so the pages
load without errors (checked in a browser by tests/report/test_browser.py).
"""

from __future__ import annotations

from typing import Any

__all__ = ["setup"]


def _unique_scripts(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for js in scripts:
        attributes = getattr(js, "attributes", {}) or {}
        key = (str(getattr(js, "filename", js) or ""), str(attributes.get("body", "")))
        if key in seen and key[1]:
            continue
        seen.add(key)
        unique.append(js)
    context["script_files"] = unique


PLOTLY_JS = "plotly.min.js"


def _plotly_only_where_used(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Drop plotly.js (3.5 MB, configured for every page in ``_config.yml``) from pages that draw no plotly figure."""
    scripts = context.get("script_files")
    if not scripts or "Plotly.newPlot" in str(context.get("body", "")):
        return
    context["script_files"] = [js for js in scripts if not str(getattr(js, "filename", js) or "").endswith(PLOTLY_JS)]


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _unique_scripts)
    app.connect("html-page-context", _plotly_only_where_used)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
