"""Synthetic proteomics: the planted signal is recovered, nothing is found without it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.omics import differential_abundance, load_proteomics, prerank, ranking_from_table
from ecrs_analysis.omics.analysis import pathway_rank, planted_recovery
from ecrs_analysis.omics.preprocess import preprocess
from ecrs_analysis.omics.synth import CHEMOKINE_PATHWAY, simulate_proteomics, write_synthetic


def _latent(n: int = 34, seed: int = 0) -> pd.Series:
    return pd.Series(np.random.default_rng(seed).normal(0, 1, n), index=[f"LI{i:04d}" for i in range(n)])


def _analyse(sim, groups_from_latent: pd.Series):
    from ecrs_analysis.omics.io import ProteomicsData

    sheet = sim.samples.set_index("sample")
    data = ProteomicsData(sim.intensities, pd.DataFrame({"gene": sim.intensities.index}, index=sim.intensities.index), sheet, source=Path("."))
    groups = pd.Series(groups_from_latent.reindex(sheet["patient_id"]).to_numpy(), index=sheet.index)
    pre = preprocess(data, groups)
    table = differential_abundance(pre.normalized, groups, covariates=sheet[["batch"]], trend=True)
    return table, data.proteins["gene"]


def test_planted_proteins_and_chemokine_pathway_are_recovered() -> None:
    latent = _latent()
    sim = simulate_proteomics(latent, seed=3)
    assert {"CCL11", "CCL24", "CCL26", "CCR3", "IL5", "CLC", "POSTN", "ALOX15"} <= set(sim.planted["gene"])
    assert CHEMOKINE_PATHWAY in sim.planted_pathways
    groups = (latent > latent.median()).astype(int)  # top half of type-2 inflammation
    table, genes = _analyse(sim, groups)
    rec = planted_recovery(table, genes, sim.planted, fdr=0.05)
    assert rec["recall"] >= 0.4
    assert rec["false_discovery_proportion"] <= 0.2
    gsea = prerank(ranking_from_table(table, genes=genes), None, permutations=100, seed=1)
    assert pathway_rank(gsea, CHEMOKINE_PATHWAY) <= 3
    up = table.loc[table.index.isin(["CCL11", "CCL24", "CCR3"]), "log_fc"]
    assert (up > 0).all()


def test_without_planted_effects_almost_nothing_is_called() -> None:
    latent = _latent(seed=1)
    sim = simulate_proteomics(latent, seed=3, effect_scale=0.0)
    table, genes = _analyse(sim, (latent > latent.median()).astype(int))
    assert int((table["fdr"] < 0.05).sum()) <= 3


def test_missing_values_are_more_frequent_at_low_abundance_and_batches_shift_proteins() -> None:
    sim = simulate_proteomics(_latent(60, seed=2), seed=5, batches=2)
    log2 = np.log2(sim.intensities)
    mean, miss = log2.mean(axis=1), sim.intensities.isna().mean(axis=1)
    low, high = mean < mean.quantile(0.25), mean > mean.quantile(0.75)
    assert miss[low].mean() > 3 * miss[high].mean()
    b = sim.samples["batch"].to_numpy()
    diff = log2.loc[:, b == "batch2"].mean(axis=1) - log2.loc[:, b == "batch1"].mean(axis=1)
    assert diff.std() > 0.2  # protein-specific batch offsets


def test_seeded_and_written_like_a_users_files(tmp_path: Path) -> None:
    latent = _latent(12)
    a, b = simulate_proteomics(latent, seed=7), simulate_proteomics(latent, seed=7)
    pd.testing.assert_frame_equal(a.intensities, b.intensities)
    assert not a.intensities.equals(simulate_proteomics(latent, seed=8).intensities)
    folder = write_synthetic(a, tmp_path / "syn")
    data = load_proteomics(folder / "proteins.csv", folder / "samples.csv", known_patients=latent.index)
    assert data.n_samples == 12 and list(data.samples["patient_id"]) == list(latent.index)
    np.testing.assert_allclose(data.intensities.to_numpy(), a.intensities.round(1).to_numpy())


def test_duplicate_patients_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        simulate_proteomics(pd.Series([0.0, 1.0], index=["A", "A"]), seed=0)
