"""ORA and GSEA preranked: offline only, checked against brute force, fgsea's C++ and real data."""

from __future__ import annotations

import socket
from math import comb
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.omics import GeneSetError, differential_abundance, load_gene_sets, over_representation, prerank, ranking_from_table
from ecrs_analysis.omics.enrichment import TIDY_COLUMNS, default_gene_sets, read_gmt
from ecrs_analysis.omics.io import load_proteomics
from ecrs_analysis.omics.preprocess import preprocess


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _toy_sets() -> dict[str, list[str]]:
    rng = np.random.default_rng(0)
    genes = [f"G{i:03d}" for i in range(300)]
    return {f"set{k}": list(rng.choice(genes, size=int(rng.integers(15, 60)), replace=False)) for k in range(12)} | {"top": genes[:30]}


def _brute_force_es(ranked: pd.Series, members: set[str]) -> float:
    """Subramanian et al. 2005 running sum, weight p = 1, written out step by step."""
    r = ranked.sort_values(ascending=False, kind="stable")
    hit = np.array([g in members for g in r.index])
    w = np.abs(r.to_numpy())
    p_hit = np.cumsum(np.where(hit, w, 0.0)) / w[hit].sum()
    p_miss = np.cumsum(~hit) / (~hit).sum()
    dev = p_hit - p_miss
    return float(dev[np.argmax(np.abs(dev))])


def test_enrichment_never_touches_the_network(no_network: None) -> None:
    sets = _toy_sets()
    rng = np.random.default_rng(1)
    ranking = pd.Series(rng.normal(size=300), index=[f"G{i:03d}" for i in range(300)])
    ranking.iloc[:30] += 3
    gsea = prerank(ranking, sets, permutations=50, seed=3, min_size=10)
    ora = over_representation([f"G{i:03d}" for i in range(40)], sets, background=ranking.index)
    assert list(gsea.columns) == TIDY_COLUMNS and list(ora.columns) == TIDY_COLUMNS
    assert gsea.iloc[0]["term"] == "top" and ora.iloc[0]["term"] == "top"
    # the shipped gene sets are local too
    assert over_representation(["CCL11", "CCR3", "CCL24"], None, background=sorted({g for v in default_gene_sets().values() for g in v})).shape[0] > 0


@pytest.mark.parametrize("bad", ["KEGG_2016", "Reactome_2022", "msigdb.v2023.1.Hs.symbols"])
def test_strings_that_are_not_gmt_files_are_refused(bad: str, no_network: None) -> None:
    with pytest.raises(GeneSetError, match="Enrichr library name"):
        prerank(pd.Series([1.0, 2.0], index=["A", "B"]), bad)
    with pytest.raises(GeneSetError, match="Enrichr library name"):
        over_representation(["A"], bad, background=["A", "B"])


def test_ora_p_values_equal_the_hypergeometric_tail_by_counting() -> None:
    sets = _toy_sets()
    background = [f"G{i:03d}" for i in range(0, 300, 2)] + ["NOT_IN_ANY_SET"]  # half the genes are not quantified
    query = background[:25]
    out = over_representation(query, sets, background=background).set_index("term")
    N, n = len(background), len(query)
    for term, genes in sets.items():
        m = len(set(genes) & set(background))
        k = len(set(genes) & set(query))
        if k == 0:
            assert term not in out.index
            continue
        p = sum(comb(m, i) * comb(N - m, n - i) for i in range(k, min(m, n) + 1)) / comb(N, n)
        assert out.loc[term, "size"] == m and out.loc[term, "overlap"] == k
        assert out.loc[term, "p_value"] == pytest.approx(p, rel=1e-9)
    # BH over the tested terms
    p = out["p_value"].sort_values()
    bh = np.minimum.accumulate((p * len(p) / np.arange(1, len(p) + 1))[::-1])[::-1].clip(upper=1)
    np.testing.assert_allclose(out.loc[p.index, "fdr"], bh, rtol=1e-9)


def test_enrichment_scores_match_fgsea_cpp(shared_reference: Path) -> None:
    folder = shared_reference / "gsea" / "fgsea_es_reference"
    ranking = pd.read_csv(folder / "fgsea_top3000.rnk", sep="\t", header=None, index_col=0)[1]
    ref = pd.read_csv(folder / "ref_calcGseaStatBatchCpp.tsv", sep="\t")
    out = prerank(ranking, str(folder / "fgsea_20pathways.gmt"), permutations=10, seed=1, min_size=15, max_size=500).set_index("term")
    assert len(ref) == 20
    for row in ref.itertuples():
        assert out.loc[row.pathway_name, "size"] == row.size
        assert out.loc[row.pathway_name, "es"] == pytest.approx(row.ES, abs=1e-10)


def test_enrichment_scores_match_brute_force_on_gseapy_sample(shared_reference: Path) -> None:
    folder = shared_reference / "gsea" / "gseapy_sample"
    ranking = pd.read_csv(folder / "gsea_data.gsea_data.rnk", sep="\t", header=None, index_col=0)[1]
    ranking = ranking[~ranking.index.duplicated()]
    sets = read_gmt(folder / "gene_sets.gmt")
    out = prerank(ranking, sets, permutations=20, seed=1, min_size=5, max_size=1000).set_index("term")
    assert len(out) >= 5
    for term in out.index:
        assert out.loc[term, "es"] == pytest.approx(_brute_force_es(ranking, set(sets[term])), abs=1e-10), term


def test_prerank_is_reproducible_with_a_seed() -> None:
    sets = _toy_sets()
    ranking = pd.Series(np.random.default_rng(5).normal(size=300), index=[f"G{i:03d}" for i in range(300)])
    a = prerank(ranking, sets, permutations=30, seed=9, min_size=10)
    b = prerank(ranking, sets, permutations=30, seed=9, min_size=10)
    pd.testing.assert_frame_equal(a, b)


def test_real_maxquant_two_groups_with_reactome(maxquant: tuple[Path, Path], reactome_gmt: Path, no_network: None) -> None:
    pg, meta = maxquant
    data = load_proteomics(pg, meta)
    s = data.samples[data.samples["disease"].isin(["healthy", "liver cirrhosis"])]
    groups = (s["disease"] == "liver cirrhosis").astype(int)
    pre = preprocess(data, groups, min_fraction=0.7, valid_in="each")
    table = differential_abundance(pre.normalized, groups, trend=True)
    genes = data.proteins["gene"]
    ranking = ranking_from_table(table, genes=genes)
    assert ranking.index.is_unique and len(ranking) > 200
    gsea = prerank(ranking, str(reactome_gmt), permutations=100, seed=1, min_size=15, max_size=500)
    assert len(gsea) > 10 and gsea["es"].abs().le(1).all() and gsea["p_value"].between(0, 1).all()
    called = table["fdr"] < 0.05
    assert called.sum() > 5  # cirrhosis changes the plasma proteome
    ora = over_representation(genes[table.index[called]], str(reactome_gmt), background=genes[table.index])
    assert (ora["size"] <= len(table)).all() and ora["overlap"].ge(1).all()
    # cirrhosis: the liver secretes less; plasma lipoprotein / complement / clotting pathways should show up
    top_terms = " ".join(gsea.head(30)["term"]).lower() + " ".join(ora.head(30)["term"]).lower()
    assert any(w in top_terms for w in ("complement", "lipoprotein", "fibrin", "platelet", "hdl"))


def test_gene_set_validation() -> None:
    assert load_gene_sets({"a": ["X", "X", "Y"]}) == {"a": ["X", "Y"]}
    with pytest.raises(GeneSetError, match="list of genes"):
        load_gene_sets({"a": "XY"})
    with pytest.raises(GeneSetError, match="not found"):
        load_gene_sets("/nonexistent/file.gmt")


def test_shipped_reactome_subset_is_a_true_subset_of_the_release(reactome_gmt: Path) -> None:
    from ecrs_analysis.omics.enrichment import gene_set_ids

    release = {}
    for line in reactome_gmt.read_text(encoding="utf-8").splitlines():
        f = line.split("\t")
        release[f[1]] = (f[0], set(f[2:]))
    shipped = default_gene_sets()
    ids = gene_set_ids()
    reactome_terms = [t for t in shipped if ids[t].startswith("R-HSA-")]
    assert len(reactome_terms) >= 30 and "Chemokine receptors bind chemokines" in reactome_terms
    for term in reactome_terms:
        name, members = release[ids[term]]
        assert name == term
        assert set(shipped[term]) <= members, (term, set(shipped[term]) - members)
        assert len(shipped[term]) >= 0.3 * len(members)


def test_ora_lists_each_terms_overlap_genes_sorted_whatever_the_hash_seed() -> None:
    sets = _toy_sets()
    background = [f"G{i:03d}" for i in range(0, 300, 2)]
    query = background[::-3][:30]  # given in no particular order
    out = over_representation(query, sets, background=background).set_index("term")
    for term, row in out.iterrows():
        assert row["genes"] == ";".join(sorted(set(sets[term]) & set(query)))  # the same string in every process
