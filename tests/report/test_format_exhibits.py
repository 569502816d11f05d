"""Reading formats, numbered exhibits with downloads, reference checks and cell tags of executed chapters."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ecrs_analysis.report import format as F
from ecrs_analysis.pipeline.chapters import tag_for_reading
from ecrs_analysis.report.exhibits import DPI, Exhibits, chapter_number, check_references, clear_downloads, downloads_dir, uncaptioned
from ecrs_analysis.stats import evaluate


@pytest.mark.parametrize("p, text", [(0.0031, "0.003"), (0.0005, "0.001"), (0.000499, "<0.001"), (1e-12, "<0.001"), (0.5, "0.500"), (1.0, "1.000"), (math.nan, "–"), (None, "–")])
def test_p_values(p, text):
    assert F.fmt_p(p) == text


def test_estimates_with_ci_percentages_and_missing_values():
    assert F.fmt_ci(0.87512, 0.8306, 0.919) == "0.875 (0.831–\u20600.919)"  # a word joiner keeps the interval on one line
    assert F.fmt_ci(0.87512, 0.8306, 0.919).replace(F.CI_DASH, "–") == "0.875 (0.831–0.919)"
    assert F.fmt_ci(0.5, math.nan, 0.7) == "0.500"
    assert F.fmt_ci(math.nan, 0.1, 0.2) == "–"
    assert F.fmt_ci(0.87512, 0.8306, 0.919, digits=2) == "0.88 (0.83–\u20600.92)"
    assert F.fmt_pct(0.727) == "72.7%" and F.fmt_count(1098.0) == "1,098" and F.fmt_num(pd.NA) == "–"


def _scores(n=60, seed=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    sets = np.repeat(["train", "internal_test", "external_test"], n // 3)
    return pd.DataFrame({"set": sets, "label": y, "integrated": y + rng.normal(0, 1, n), "true_prob": y + rng.normal(0, 0.3, n)})


def test_performance_table_is_narrow_and_dashes_models_without_threshold():
    s = _scores()
    aucs = evaluate.auc_table(s, ["integrated", "true_prob"], n_resamples=50)
    ops = evaluate.operating_table(s, ["integrated"], threshold_set="train")
    shown = F.performance_display(aucs, ops)
    assert list(shown.columns) == ["n", "AUC (DeLong 95% CI)", "sensitivity (Wilson 95% CI)", "specificity (Wilson 95% CI)", "accuracy (Wilson 95% CI)"]
    row = shown.loc[("internal test", "integrated model")]
    a = aucs.loc[("internal_test", "integrated")]
    assert row["AUC (DeLong 95% CI)"] == f"{a['AUC']:.3f} ({a['DeLong low']:.3f}{F.CI_DASH}{a['DeLong high']:.3f})"
    o = ops.loc[("integrated", "internal_test")]
    assert row["sensitivity (Wilson 95% CI)"] == f"{o['sensitivity']:.3f} ({o['sensitivity low']:.3f}{F.CI_DASH}{o['sensitivity high']:.3f})"
    assert (shown.loc[("internal test", "latent ceiling (true probability)")].iloc[2:] == "–").all()
    # every cell a short string: the table fits the page
    assert shown.map(len).to_numpy().max() <= len(F.fmt_ci(0.875, 0.831, 0.919))


def test_text_tables_lists_and_markdown():
    df = pd.DataFrame({"genes": ["CCL11;CCL24; IL5"], "p": [0.00001], "note": ["a|b"]}, index=pd.Index(["x"], name="term"))
    shown = F.frame_display(df, p_columns=["p"], list_columns=["genes"])
    assert shown.loc["x", "genes"] == "CCL11; CCL24; IL5" and shown.loc["x", "p"] == "<0.001"
    assert F.markdown_table(shown).splitlines() == ["| term | genes | p | note |", "|---|---|---|---|", "| x | CCL11; CCL24; IL5 | <0.001 | a\\|b |"]


def test_paired_delong_display_formats_p():
    s = _scores()
    s["other"] = s["integrated"] * 0.5 + np.random.default_rng(1).normal(0, 1, len(s))
    shown = F.delong_display(evaluate.paired_delong_table(s, "integrated", ["other"]))
    assert shown.index[0] == ("training", "integrated model vs other")
    assert all(p == "<0.001" or (len(p) == 5 and p[1] == ".") for p in shown["p"])


def test_exhibits_are_numbered_by_chapter_and_downloaded_at_print_resolution(tmp_path):
    assert chapter_number("04_integrated_model") == 4 and chapter_number("00_claims") is None and chapter_number("99_reproducibility") is None
    ex = Exhibits(tmp_path, "04_integrated_model")
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    ex.figure(fig, "A line.")
    df = pd.DataFrame({"a": [1.5]})
    ex.table(F.frame_display(df), "A table.", data=df)
    ex.table("| a |\n|---|\n| 1 |", "Markdown.", data=df)
    assert ex.shown == ["Figure 4.1", "Table 4.1", "Table 4.2"]
    png = downloads_dir(tmp_path, "04_integrated_model") / "figure-4-1.png"
    with Image.open(png) as im:
        assert round(im.info["dpi"][0]) == DPI and im.width >= 1.5 * DPI
    assert pd.read_csv(downloads_dir(tmp_path, "04_integrated_model") / "table-4-1.csv")["a"].tolist() == [1.5]
    with pytest.raises(ValueError, match="needs `data`"):
        ex.table("| a |", "no data")
    assert not plt.fignum_exists(fig.number)  # the figure was closed after showing
    clear_downloads(tmp_path, "04_integrated_model")
    assert list(downloads_dir(tmp_path, "04_integrated_model").iterdir()) == []


def _nb(markdown, captions):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(m) for m in markdown]
    code = nbformat.v4.new_code_cell("x")
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": c}) for c in captions]
    nb.cells.append(code)
    return nb


def test_prose_naming_an_exhibit_the_chapter_does_not_show_is_caught():
    nb = _nb(["As Figure 4.1 and Table 4.2 show; Table 1 is the clinical one; Figure 3.1 is elsewhere."], ["**Figure 4.1.** x {download}`PNG <a.png>`"])
    assert check_references(nb, "04_integrated_model") == ["Table 4.2"]
    assert check_references(_nb(["Table 1 and Figure 2"], ["**Table 1.** x"]), "00_claims") == ["Figure 2"]


def test_executed_cells_are_tagged_for_reading():
    nb = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_code_cell(s) for s in ("p", "injected", "setup", "shown")]
    cells[0].metadata["tags"] = ["parameters"]
    cells[1].metadata["tags"] = ["injected-parameters"]
    cells[3].metadata["tags"] = ["show-input"]
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), *cells]
    tag_for_reading(nb)
    assert [c.metadata.get("tags") for c in nb.cells] == [None, ["parameters", "remove-cell"], ["injected-parameters", "remove-cell"], ["hide-input"], ["show-input"]]
    tag_for_reading(nb)  # idempotent
    assert nb.cells[1].metadata["tags"] == ["parameters", "remove-cell"]


def test_chapters_are_numbered_in_the_reading_order_of_the_toc(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text("root: book/executed/00_claims\nparts:\n  - chapters:\n      - file: book/executed/01_cohort\n      - file: book/intro\n"
                   "      - file: book/executed/07_proteomics\n      - file: book/executed/05_mtlnet\n      - file: book/executed/99_reproducibility\n")
    assert [chapter_number(n, toc=toc) for n in ("01_cohort", "07_proteomics", "05_mtlnet", "00_claims", "99_reproducibility")] == [1, 2, 3, None, None]
    assert chapter_number("06_explanation", toc=toc) == 6  # not in the TOC: its file prefix
    assert chapter_number("05_mtlnet", toc=tmp_path / "absent.yml") == 5
    # the book's own TOC: proteomics is read after the integrated model and before MTLNet
    assert chapter_number("04_integrated_model") == 4 and chapter_number("07_proteomics") == 5 and chapter_number("06_explanation") == 7


def _panel():
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.imshow(np.random.default_rng(0).random((200, 300)), cmap="magma")
    return fig


def test_a_figure_shown_at_screen_resolution_is_lighter_and_its_download_keeps_300_dpi(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    ex = Exhibits(tmp_path, "06_explanation")
    ex.figure(_panel(), "Full.")
    ex.figure(_panel(), "Screen.", screen_dpi=72, interactive="<html><body>3D</body></html>")
    from IPython.display import Image as IPImage

    light = [o for o in shown if isinstance(o, IPImage)]
    assert len(light) == 1 and len(light[0].data) < 0.6 * len(_panel_png(100))
    folder = downloads_dir(tmp_path, "06_explanation")
    number = chapter_number("06_explanation")
    with Image.open(folder / f"figure-{number}-2.png") as im:
        assert round(im.info["dpi"][0]) == DPI and im.mode == "RGBA"  # the download is not reduced
    assert (folder / f"figure-{number}-2.html").read_text() == "<html><body>3D</body></html>"
    caption = shown[-1].data
    assert caption.startswith(f"**Figure {number}.2.** Screen.") and f"figure-{number}-2.html" in caption and f"figure-{number}-2.png" in caption


def _panel_png(dpi):
    import io

    buf = io.BytesIO()
    fig = _panel()
    fig.savefig(buf, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return buf.getvalue()


def test_several_figures_need_one_caption_each(tmp_path):
    ex = Exhibits(tmp_path, "03_deep_models")
    ex.figures([_panel(), _panel()], ["a", "b"])
    assert ex.shown == ["Figure 3.1", "Figure 3.2"]
    with pytest.raises(ValueError, match="2 figures but 1 captions"):
        ex.figures([_panel(), _panel()], ["a"])


def _outputs(*outs):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("x")
    code.outputs = [nbformat.v4.new_output("display_data", data=d) for d in outs]
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), code]
    return nb


FIG = {"image/png": "iVBOR"}
TABLE = {"text/html": "<table><tr><td>1</td></tr></table>", "text/plain": "1"}


def test_figures_and_tables_shown_outside_exhibits_are_found_in_an_executed_chapter():
    fig_cap, tab_cap = {"text/markdown": "**Figure 7.1.** x"}, {"text/markdown": "**Table 7.1.** y"}
    assert uncaptioned(_outputs(FIG, fig_cap, tab_cap, TABLE, tab_cap, {"text/markdown": "| a |\n|---|"})) == []
    assert uncaptioned(_outputs(FIG, {"text/markdown": "words"})) == ["figure in cell 1"]
    assert uncaptioned(_outputs(TABLE)) == ["table in cell 1"]
    assert uncaptioned(_outputs(FIG, tab_cap, TABLE)) == ["figure in cell 1"]  # a table's caption does not caption a figure
    assert uncaptioned(_outputs(fig_cap, {"text/html": "<div class='plotly-graph-div'></div><script>Plotly.newPlot()</script>"})) == ["figure in cell 1"]
