"""Proteomics figures: the volcano colours the called proteins, the dot plot lists the top terms, QC bars the missing share."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ecrs_analysis.plotting.omics import plot_enrichment, plot_qc, plot_volcano


def test_volcano_colours_exactly_the_called_proteins_and_rings_the_planted_ones():
    rng = np.random.default_rng(0)
    n = 200
    t = pd.DataFrame({"log_fc": rng.normal(0, 1, n), "p_value": rng.uniform(1e-6, 1, n)}, index=[f"prot{i}" for i in range(n)])
    t["fdr"] = np.minimum(1, t["p_value"] * 10)
    genes = pd.Series([f"G{i}" for i in range(n)], index=t.index)
    fig = plot_volcano(t, genes, fdr=0.05, min_abs_log2_fc=0.5, planted={"G1", "G2", "G3"}, top_n=5)
    (ax,) = fig.axes
    points, rings = ax.collections
    colours = [matplotlib.colors.to_hex(c) for c in points.get_facecolors()]
    called = (t["fdr"] < 0.05) & (t["log_fc"].abs() >= 0.5)
    assert sum(c != "#bbbbbb" for c in colours) == called.sum() > 0
    assert sum(c == "#c44e52" for c in colours) == (called & (t["log_fc"] > 0)).sum()
    assert len(rings.get_offsets()) == 3 and len(ax.texts) == 5
    assert ax.get_title() == f"{int(called.sum())} proteins at FDR < 0.05, |log2 FC| >= 0.5"
    top = (-np.log10(t["p_value"])).sort_values(ascending=False).index[:5]
    assert [x.get_text() for x in ax.texts] == list(genes[top])
    plt.close(fig)


def test_enrichment_dot_plot_lists_the_top_terms_at_their_scores():
    table = pd.DataFrame({"term": [f"T{i}" for i in range(6)], "nes": [2.5, 2.0, -1.8, 1.5, 1.2, 1.0], "p_value": 0.01, "fdr": [0.01, 0.02, 0.03, 0.1, 0.2, 0.3], "size": [10, 20, 15, 30, 5, 8]})
    fig = plot_enrichment(table, top_n=4, highlight=("T2",))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["T3", "T2 *", "T1", "T0"]  # best at the top
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 0], [1.5, -1.8, 2.0, 2.5])
    assert ax.get_xlabel() == "normalised enrichment score (NES)"
    ora = plot_enrichment(table.assign(nes=np.nan), top_n=2)
    assert ora.axes[0].get_xlabel() == "-log10 p (hypergeometric)"
    plt.close("all")


def test_qc_bars_are_each_samples_missing_share_in_group_order():
    raw = pd.DataFrame({"s1": [1.0, np.nan, 3.0, 4.0], "s2": [np.nan, np.nan, 3.0, 4.0], "s3": [1.0, 2.0, 3.0, 4.0]})
    groups = pd.Series({"s1": 1, "s2": 0, "s3": 1})
    fig = plot_qc(raw, raw, groups, labels={0: "non-eCRS", 1: "eCRS"})
    bars = fig.axes[0].patches
    assert [b.get_height() for b in bars] == [50.0, 25.0, 0.0]  # s2 (group 0) first, then s1 and s3
    assert [t.get_text() for t in fig.axes[2].get_xticklabels()] == ["s2", "s1", "s3"]
    plt.close(fig)
