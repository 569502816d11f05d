"""limma moderated t against R limma, on the real MaxQuant file; the Welch test against its formula."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.omics import differential_abundance, welch_test
from ecrs_analysis.omics.io import load_proteomics
from ecrs_analysis.omics.preprocess import drop_flagged, filter_valid, log2_intensities

# Made by tests/omics/data/limma_reference.R (R 4.2.2, limma 3.54.1), which pre-processes the raw file itself.
R_REFERENCE = Path(__file__).parent / "data" / "limma_reference.csv"
COLUMNS = {"logFC": "log_fc", "AveExpr": "ave_expr", "t": "t", "P.Value": "p_value", "adj.P.Val": "fdr", "B": "b", "df.total": "df_total"}


@pytest.fixture(scope="module")
def cirrhosis(maxquant: tuple[Path, Path]) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    pg, meta = maxquant
    data = drop_flagged(load_proteomics(pg, meta))
    s = data.samples[data.samples["disease"].isin(["healthy", "liver cirrhosis"])]
    groups = (s["disease"] == "liver cirrhosis").astype(int)
    log2 = filter_valid(log2_intensities(data.intensities[s.index]), groups, min_fraction=0.3, valid_in="each")
    return log2, groups, s


@pytest.mark.parametrize(
    ("analysis", "trend", "covariate", "legacy"),
    [("plain", False, False, True), ("trend", True, False, True), ("covariate", False, True, True), ("complete", True, False, None)],
)
def test_moderated_t_matches_r_limma(cirrhosis, analysis: str, trend: bool, covariate: bool, legacy: bool | None) -> None:
    # R limma 3.54 estimates the prior with fitFDist also when missing values make the residual
    # df unequal (legacy=TRUE); on complete data (last case) every limma version agrees, so
    # the package default (legacy=None) is checked there.
    log2, groups, samples = cirrhosis
    ref = pd.read_csv(R_REFERENCE)
    ref = ref[ref["analysis"] == analysis].reset_index(drop=True)
    if analysis == "complete":
        log2 = log2[log2.notna().all(axis=1)]
    cov = samples[["Lipid-lowering therapy (134350008)"]] if covariate else None
    ours = differential_abundance(log2, groups, covariates=cov, trend=trend, legacy=legacy)
    assert len(ours) == len(ref) > 150
    assert list(ours.index.str.split("#").str[0]) == list(ref["protein"])
    for r_col, col in COLUMNS.items():
        np.testing.assert_allclose(ours[col].to_numpy(), ref[r_col].to_numpy(), rtol=1e-6, atol=1e-6, err_msg=f"{analysis}: {col}")


def test_result_is_in_input_order_with_nan_for_inestimable_proteins() -> None:
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.normal(20, 1, (30, 8)), index=[f"P{i}" for i in range(30)], columns=[f"s{i}" for i in range(8)])
    x.iloc[3, :4] = np.nan  # no value in group 0
    groups = pd.Series([0, 0, 0, 0, 1, 1, 1, 1], index=x.columns[::-1])  # given in another order
    out = differential_abundance(x, groups)
    assert list(out.index) == list(x.index)
    assert np.isnan(out.loc["P3", "t"]) and np.isfinite(out.drop("P3")["t"]).all()
    # the fold change is group 1 - group 0 in the order of the group labels, not of the columns
    g = groups.reindex(x.columns)
    np.testing.assert_allclose(out.loc["P0", "log_fc"], x.loc["P0", g.index[g == 1]].mean() - x.loc["P0", g.index[g == 0]].mean())


@pytest.mark.parametrize(
    ("groups", "message"),
    [([0, 0, 0, 0, 1, 1, 1, 2], "must be 0/1"), ([0, 1, 1, 1, 1, 1, 1, 1], "at least 2 samples"), (None, "no group for sample")],
)
def test_bad_groups_are_refused(groups, message: str) -> None:
    x = pd.DataFrame(np.ones((3, 8)), columns=[f"s{i}" for i in range(8)])
    g = pd.Series(groups, index=x.columns) if groups is not None else pd.Series([0, 1], index=["s0", "s1"])
    with pytest.raises(ValueError, match=message):
        differential_abundance(x, g)


def test_confounded_covariate_is_refused() -> None:
    x = pd.DataFrame(np.random.default_rng(0).normal(size=(5, 6)), columns=list("abcdef"))
    g = pd.Series([0, 0, 0, 1, 1, 1], index=x.columns)
    with pytest.raises(ValueError, match="not of full rank"):
        differential_abundance(x, g, covariates=pd.DataFrame({"batch": ["b1"] * 3 + ["b2"] * 3}, index=x.columns))


def test_welch_matches_the_textbook_formula() -> None:
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.normal(0, 1, (4, 11)))
    x.iloc[0, 2] = np.nan
    g = pd.Series([1] * 5 + [0] * 6, index=x.columns)
    out = welch_test(x, g)
    assert out.index.equals(x.index) and out.iloc[0].notna().all()  # the missing value is left out, not propagated
    # a hand-computed case: groups (1, 2, 3) and (4, 6, 8, 10): means 2 and 7, variances 1 and 20/3,
    # t = (2 - 7) / sqrt(1/3 + 5/3) = -5 / sqrt(2); Welch df = 4 / (1/18 + 25/27) = 4.0755
    toy = pd.DataFrame([[1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0]])
    res = welch_test(toy, pd.Series([1, 1, 1, 0, 0, 0, 0]))
    assert res.iloc[0]["t"] == pytest.approx(-5 / np.sqrt(2))
    assert 0.02 < res.iloc[0]["p_value"] < 0.03  # two-sided t of -3.536 on 4.08 df (tables: t(4; 0.975) = 2.776, t(4; 0.99) = 3.747)
