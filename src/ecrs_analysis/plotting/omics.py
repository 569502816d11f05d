"""Figures of the proteomics chapter: QC, PCA, volcano, heatmap, enrichment dot plot and GSEA running score."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from sklearn.decomposition import PCA

__all__ = ["plot_qc", "plot_pca", "plot_volcano", "plot_heatmap", "plot_enrichment", "plot_running_score"]

_GROUP_COLOURS = {0: "#4C72B0", 1: "#DD8452"}


def plot_qc(raw: pd.DataFrame, normalized: pd.DataFrame, groups: pd.Series, *, labels: dict[int, str]) -> Figure:
    """Missing share per sample, and log2 intensity distributions before and after normalisation."""
    order = groups.sort_values(kind="stable").index
    fig, axes = plt.subplots(3, 1, figsize=(max(6.0, 0.16 * len(order)), 8.0), sharex=True)
    colours = [_GROUP_COLOURS[int(groups[s])] for s in order]
    axes[0].bar(range(len(order)), raw[order].isna().mean().to_numpy() * 100, color=colours)
    axes[0].set_ylabel("missing (%)")
    for ax, m, title in ((axes[1], raw, "log2 intensity, before normalisation"), (axes[2], normalized, "after normalisation")):
        parts = ax.boxplot([m[s].dropna().to_numpy() for s in order], positions=range(len(order)), widths=0.7, showfliers=False, patch_artist=True)
        for patch, c in zip(parts["boxes"], colours):
            patch.set_facecolor(c)
            patch.set_alpha(0.7)
        ax.set_ylabel("log2 intensity")
        ax.set_title(title, fontsize=9)
    axes[2].set_xticks(range(len(order)), order, rotation=90, fontsize=6)
    handles = [plt.Rectangle((0, 0), 1, 1, color=_GROUP_COLOURS[k]) for k in sorted(labels)]
    axes[0].legend(handles, [labels[k] for k in sorted(labels)], fontsize=7, frameon=False, ncol=2)
    fig.tight_layout()
    return fig


def plot_pca(values: pd.DataFrame, samples: pd.DataFrame, *, colour: str, marker: str | None = None, labels: dict[int, str] | None = None) -> Figure:
    """PCA of samples on the proteins without missing values (standardised per protein)."""
    complete = values.dropna(axis=0)
    if complete.shape[0] < 3:
        raise ValueError("fewer than 3 proteins without missing values; impute first (omics.impute) to draw a PCA")
    x = complete.T.to_numpy()
    x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
    pca = PCA(n_components=2, random_state=0)
    pcs = pca.fit_transform(x)
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    s = samples.reindex(complete.columns)
    markers = dict(zip(sorted(s[marker].astype(str).unique()), "osD^v")) if marker else {}
    for (g, m), idx in s.groupby([colour, s[marker].astype(str) if marker else np.zeros(len(s))]).groups.items():
        pos = [complete.columns.get_loc(i) for i in idx]
        name = (labels or {}).get(int(g), str(g)) + (f", {m}" if marker else "")
        ax.scatter(pcs[pos, 0], pcs[pos, 1], c=_GROUP_COLOURS.get(int(g), "grey"), marker=markers.get(m, "o"), label=name, s=28, alpha=0.85, edgecolor="white", linewidth=0.5)
    ax.set_xlabel(f"PC1 ({pca.explained_variance_ratio_[0]:.0%})")
    ax.set_ylabel(f"PC2 ({pca.explained_variance_ratio_[1]:.0%})")
    ax.set_title(f"PCA on {complete.shape[0]} proteins quantified in every sample", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def plot_volcano(table: pd.DataFrame, genes: pd.Series, *, fdr: float, min_abs_log2_fc: float = 0.0, planted: set[str] | None = None, top_n: int = 15, xlabel: str = "log2 fold change") -> Figure:
    """log2 FC against -log10 p; called proteins coloured, the ``top_n`` labelled, planted ones ringed."""
    t = table.assign(gene=genes.reindex(table.index).astype(str).to_numpy()).dropna(subset=["p_value"])
    y = -np.log10(t["p_value"].clip(lower=1e-300))
    called = (t["fdr"] < fdr) & (t["log_fc"].abs() >= min_abs_log2_fc)
    fig, ax = plt.subplots(figsize=(6.0, 5.0))
    ax.scatter(t["log_fc"], y, s=8, c=np.where(called, np.where(t["log_fc"] > 0, "#C44E52", "#4C72B0"), "#BBBBBB"), linewidths=0)
    if planted:
        p = t["gene"].isin(planted).to_numpy()
        ax.scatter(t["log_fc"][p], y[p], s=40, facecolors="none", edgecolors="black", linewidths=0.8, label="planted (synthetic truth)")
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    for i in y.sort_values(ascending=False).index[:top_n]:
        ax.annotate(t.at[i, "gene"], (t.at[i, "log_fc"], y[i]), fontsize=6, xytext=(3, 2), textcoords="offset points")
    if called.any():
        ax.axhline(float(y[called].min()), color="grey", lw=0.6, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("-log10 p (moderated t)")
    ax.set_title(f"{int(called.sum())} proteins at FDR < {fdr:g}" + (f", |log2 FC| >= {min_abs_log2_fc:g}" if min_abs_log2_fc else ""), fontsize=9)
    fig.tight_layout()
    return fig


def plot_heatmap(values: pd.DataFrame, table: pd.DataFrame, genes: pd.Series, groups: pd.Series, *, top_n: int = 30, labels: dict[int, str]) -> sns.matrix.ClusterGrid:
    """seaborn clustermap of the ``top_n`` proteins by p-value (row z-scores, missing shown blank)."""
    top = table["p_value"].dropna().sort_values(kind="stable").index[:top_n]
    m = values.loc[top]
    m.index = genes.reindex(top).astype(str).to_numpy()
    z = m.sub(m.mean(axis=1), axis=0).div(m.std(axis=1).replace(0, 1), axis=0)
    col_colors = groups.reindex(m.columns).map(lambda g: _GROUP_COLOURS[int(g)])
    # clustermap needs complete data for the distances: cluster on a copy with row means filled in.
    filled = z.T.fillna(0.0).T
    grid = sns.clustermap(filled, mask=z.isna(), cmap="vlag", center=0, col_colors=col_colors.to_numpy(), figsize=(8, 0.2 * len(top) + 3), xticklabels=False, yticklabels=True, cbar_kws={"label": "z-score"})
    grid.ax_heatmap.tick_params(axis="y", labelsize=6)
    handles = [plt.Rectangle((0, 0), 1, 1, color=_GROUP_COLOURS[k]) for k in sorted(labels)]
    grid.ax_col_dendrogram.legend(handles, [labels[k] for k in sorted(labels)], fontsize=7, frameon=False, ncol=2, loc="center")
    return grid


def plot_enrichment(table: pd.DataFrame, *, top_n: int = 15, highlight: tuple[str, ...] = ()) -> Figure:
    """Dot plot of the top terms: x = NES (GSEA) or -log10 p (ORA), size = gene-set size, colour = FDR."""
    t = table.head(top_n).iloc[::-1]
    gsea = t["nes"].notna().any()
    x = t["nes"] if gsea else -np.log10(t["p_value"].clip(lower=1e-300))
    fig, ax = plt.subplots(figsize=(7.0, 0.32 * len(t) + 1.2))
    sc = ax.scatter(x, range(len(t)), s=20 + 3 * t["size"].astype(float), c=t["fdr"].clip(lower=1e-4), cmap="viridis_r", vmin=0, vmax=0.25, edgecolor="black", linewidth=0.4)
    names = [f"{n} *" if n in highlight else n for n in t["term"]]
    ax.set_yticks(range(len(t)), [n if len(n) < 55 else n[:52] + "..." for n in names], fontsize=7)
    ax.set_xlabel("normalised enrichment score (NES)" if gsea else "-log10 p (hypergeometric)")
    if gsea:
        ax.axvline(0, color="grey", lw=0.6)
    fig.colorbar(sc, ax=ax, label="FDR")
    if highlight:
        ax.set_title("* planted in the synthetic data", fontsize=8, loc="left")
    fig.tight_layout()
    return fig


def plot_running_score(table: pd.DataFrame, running: pd.DataFrame, *, top_n: int = 3) -> Figure:
    """GSEA running enrichment score of the ``top_n`` terms of ``table`` over the ranked list, with hit ticks.

    ``running`` is the table the proteomics job wrote (``running_<comparison>.csv``:
    ``term, position, es, hit, score``; :func:`ecrs_analysis.jobs.analysis.running_score_table`).
    """
    terms = table.head(top_n).set_index("term")
    fig, axes = plt.subplots(2, max(len(terms), 1), figsize=(3.6 * max(len(terms), 1), 4.0), squeeze=False, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    for k, (term, row) in enumerate(terms.iterrows()):
        r = running[running["term"] == str(term)].sort_values("position")
        res, hits, order = r["es"].to_numpy(dtype=float), r.loc[r["hit"].astype(bool), "position"].to_numpy(), r["score"].to_numpy(dtype=float)
        ax = axes[0, k]
        ax.plot(res, color="#55A868", lw=1.4)
        ax.axhline(0, color="grey", lw=0.6)
        ax.vlines(hits, ymin=min(res.min(), 0) - 0.05, ymax=min(res.min(), 0) - 0.01, color="black", lw=0.4)
        ax.set_title(f"{str(term)[:40]}\nNES {row['nes']:.2f}, FDR {row['fdr']:.3f}", fontsize=8)
        ax.set_ylabel("running ES")
        axes[1, k].fill_between(range(len(order)), order, color="grey", lw=0)
        axes[1, k].set_xlabel("rank")
        axes[1, k].set_ylabel("score", fontsize=7)
    fig.tight_layout()
    return fig
