"""Pathway enrichment with gseapy, offline: over-representation (hypergeometric) and GSEA preranked.

Gene sets are always local: a dict ``term -> genes`` or the path of a ``.gmt`` file.
A string that is not a ``.gmt`` path would be taken by gseapy as an Enrichr library
name and downloaded (GSEApy issue #215), so it is refused here.  The package ships a
curated Reactome subset and a type-2/eosinophil set (:func:`default_gene_sets`).

Both methods return one tidy table with the same columns (:data:`TIDY_COLUMNS`); the
columns a method does not produce are NaN (``es``/``nes`` for ORA, ``odds_ratio``
for GSEA).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

import gseapy
import numpy as np
import pandas as pd

__all__ = [
    "GeneSetError", "TIDY_COLUMNS", "DEFAULT_GMT_FILES", "read_gmt", "default_gene_sets", "load_gene_sets", "gene_set_ids",
    "over_representation", "prerank", "ranking_from_table", "running_score",
]

TIDY_COLUMNS = ["term", "method", "size", "overlap", "es", "nes", "odds_ratio", "p_value", "fdr", "lead_genes", "genes"]
DEFAULT_GMT_FILES = ("reactome_curated_subset.gmt", "ecrs_type2_curated.gmt")

GeneSets = Mapping[str, Iterable[str]] | str | os.PathLike[str]


class GeneSetError(ValueError):
    """Gene sets that cannot be used offline."""


def read_gmt(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Parse a GMT file: ``name <TAB> description <TAB> gene ...`` per line.

    Duplicate genes within a set are dropped (order kept); a repeated set name is an error.
    """
    path = Path(path)
    sets: dict[str, list[str]] = {}
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) < 3:
            raise GeneSetError(f"{path} line {i}: expected name, description and at least one gene separated by tabs")
        name = fields[0].strip()
        if name in sets:
            raise GeneSetError(f"{path} line {i}: gene set {name!r} appears twice")
        sets[name] = list(dict.fromkeys(g.strip() for g in fields[2:] if g.strip()))
    if not sets:
        raise GeneSetError(f"{path}: no gene sets found")
    return sets


def gene_set_ids(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Term name -> identifier (the GMT description column) of a file, or of the shipped files."""
    files = [Path(path)] if path else [_data_file(f) for f in DEFAULT_GMT_FILES]
    out: dict[str, str] = {}
    for f in files:
        for line in Path(f).read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if len(fields) >= 2:
                out[fields[0]] = fields[1]
    return out


def _data_file(name: str) -> Path:
    return Path(str(resources.files("ecrs_analysis.omics") / "data" / name))


def default_gene_sets() -> dict[str, list[str]]:
    """The gene sets shipped with the package: curated Reactome subset + type-2/eosinophil set."""
    out: dict[str, list[str]] = {}
    for name in DEFAULT_GMT_FILES:
        out.update(read_gmt(_data_file(name)))
    return out


def load_gene_sets(gene_sets: GeneSets | None) -> dict[str, list[str]]:
    """A validated ``term -> genes`` dict from a dict, a local ``.gmt`` path, or None (shipped sets)."""
    if gene_sets is None:
        return default_gene_sets()
    if isinstance(gene_sets, Mapping):
        out = {}
        for term, genes in gene_sets.items():
            if isinstance(genes, str):
                raise GeneSetError(f"gene set {term!r}: give a list of genes, not one string")
            out[str(term)] = list(dict.fromkeys(str(g) for g in genes))
        if not out:
            raise GeneSetError("the gene-set dict is empty")
        return out
    if isinstance(gene_sets, (str, os.PathLike)):
        path = Path(gene_sets)
        if not str(gene_sets).lower().endswith(".gmt"):
            raise GeneSetError(
                f"gene sets {str(gene_sets)!r}: only a local .gmt file or a dict is accepted; gseapy would treat "
                "any other string as an Enrichr library name and download it, and this package never uses the network"
            )
        if not path.is_file():
            raise GeneSetError(f"gene-set file {path} not found")
        return read_gmt(path)
    raise GeneSetError(f"gene sets must be a dict or a .gmt path, got {type(gene_sets).__name__}")


def _tidy(df: pd.DataFrame, method: str) -> pd.DataFrame:
    for c in TIDY_COLUMNS:
        if c not in df:
            df[c] = np.nan
    df["method"] = method
    return df[TIDY_COLUMNS].reset_index(drop=True)


def over_representation(genes: Iterable[str], gene_sets: GeneSets | None, *, background: Iterable[str]) -> pd.DataFrame:
    """Hypergeometric over-representation of ``genes`` among ``background`` (``gseapy.enrich``).

    Parameters
    ----------
    genes : iterable of str
        The selected genes (e.g. dysregulated proteins).
    gene_sets : dict, .gmt path or None
        None = the shipped gene sets.
    background : iterable of str
        Every gene that could have been selected: for proteomics all *quantified*
        proteins, never a genome-wide default.  Gene sets are restricted to it.

    Returns
    -------
    DataFrame
        One row per term sharing at least one gene with the list (as gseapy/Enrichr),
        sorted by p-value: ``term``, ``size`` (genes of the set in the background),
        ``overlap`` (count), ``odds_ratio`` (gseapy's, Haldane-Anscombe corrected),
        ``p_value`` = P(X >= overlap), ``fdr`` (BH over the terms tested), ``genes``.
    """
    bg = list(dict.fromkeys(str(g) for g in background if str(g)))
    query = sorted({str(g) for g in genes if str(g)} & set(bg))
    if not bg:
        raise ValueError("the background is empty; pass every quantified gene")
    sets = load_gene_sets(gene_sets)
    if not query:
        return _tidy(pd.DataFrame(), "ora")
    res = gseapy.enrich(gene_list=query, gene_sets=sets, background=bg, outdir=None, no_plot=True, cutoff=1.0)
    r = getattr(res, "res2d", None)
    if r is None or len(r) == 0:
        return _tidy(pd.DataFrame(), "ora")
    counts = r["Overlap"].str.split("/", expand=True).astype(int)
    df = pd.DataFrame(
        {
            "term": r["Term"].to_numpy(),
            "size": counts[1].to_numpy(),
            "overlap": counts[0].to_numpy(),
            "odds_ratio": r["Odds Ratio"].astype(float).to_numpy(),
            "p_value": r["P-value"].astype(float).to_numpy(),
            "fdr": r["Adjusted P-value"].astype(float).to_numpy(),
            # gseapy joins each term's genes from a set: their order changes with the process's hash seed
            "genes": [";".join(sorted(str(g).split(";"))) for g in r["Genes"]],
        }
    )
    df["lead_genes"] = df["genes"]
    return _tidy(df.sort_values(["p_value", "term"], kind="stable"), "ora")


def ranking_from_table(table: pd.DataFrame, *, genes: pd.Series, score: str = "t") -> pd.Series:
    """gene -> score for GSEA: one value per gene (the largest |score| when proteins share a gene)."""
    df = pd.DataFrame({"gene": genes.reindex(table.index).to_numpy(), "score": table[score].to_numpy()})
    df = df[(df["gene"].astype(str) != "") & df["gene"].notna() & np.isfinite(df["score"])]
    df = df.loc[df["score"].abs().sort_values(ascending=False, kind="stable").index].drop_duplicates("gene")
    return pd.Series(df["score"].to_numpy(), index=df["gene"].astype(str).to_numpy(), name=score)


def prerank(
    ranking: pd.Series,
    gene_sets: GeneSets | None,
    *,
    permutations: int = 1000,
    seed: int = 0,
    min_size: int = 15,
    max_size: int = 500,
    return_result: bool = False,
):
    """GSEA preranked (``gseapy.prerank``, gene-set permutation, weight 1).

    Parameters
    ----------
    ranking : Series
        gene -> score (e.g. moderated t); sorted decreasing inside.
    gene_sets : dict, .gmt path or None
        None = the shipped gene sets.
    permutations, seed, min_size, max_size
        gseapy's ``permutation_num``, ``seed`` and gene-set size limits (genes of the set
        present in the ranking).
    return_result : bool
        Also return gseapy's result object (running scores for :func:`running_score`).

    Returns
    -------
    DataFrame (and the gseapy object when ``return_result``)
        One row per term within the size limits, sorted by NES p-value:
        ``term``, ``size``, ``es``, ``nes``, ``p_value`` (nominal), ``fdr`` (GSEA q-value),
        ``lead_genes`` (leading edge, ";"-separated).
    """
    if not isinstance(ranking, pd.Series):
        raise TypeError(f"ranking must be a Series gene -> score, got {type(ranking).__name__}")
    r = ranking[np.isfinite(ranking.to_numpy(dtype=float))].astype(float)
    r.index = r.index.astype(str)
    if r.index.has_duplicates:
        raise ValueError(f"ranking has duplicate genes, e.g. {list(r.index[r.index.duplicated()][:5])}; keep one score per gene (ranking_from_table does)")
    sets = load_gene_sets(gene_sets)
    present = set(r.index)
    sizes = {t: len(present.intersection(g)) for t, g in sets.items()}
    if not any(min_size <= s <= max_size for s in sizes.values()):
        raise ValueError(f"no gene set has between {min_size} and {max_size} genes in the ranking (largest overlap {max(sizes.values())}); check gene identifiers or lower min_size")
    res = gseapy.prerank(
        rnk=r, gene_sets=sets, permutation_num=int(permutations), seed=int(seed), min_size=int(min_size), max_size=int(max_size),
        outdir=None, no_plot=True, threads=1, verbose=False,
    )
    d = res.res2d
    df = pd.DataFrame(
        {
            "term": d["Term"].to_numpy(),
            "size": [sizes[t] for t in d["Term"]],
            "es": d["ES"].astype(float).to_numpy(),
            "nes": d["NES"].astype(float).to_numpy(),
            "p_value": d["NOM p-val"].astype(float).to_numpy(),
            "fdr": d["FDR q-val"].astype(float).to_numpy(),
            "lead_genes": d["Lead_genes"].to_numpy(),
        }
    )
    df["genes"] = df["lead_genes"]
    out = _tidy(df.sort_values(["p_value", "nes"], key=lambda s: s if s.name == "p_value" else -s.abs(), kind="stable"), "gsea")
    return (out, res) if return_result else out


def running_score(result, term: str) -> tuple[np.ndarray, np.ndarray]:
    """Running enrichment score and hit positions of ``term`` from a gseapy prerank result."""
    r = result.results[term]
    return np.asarray(r["RES"], dtype=float), np.asarray(r["hits"], dtype=int)
