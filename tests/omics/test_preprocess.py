"""Pre-processing steps against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.omics.io import ProteomicsData
from ecrs_analysis.omics.preprocess import drop_flagged, filter_valid, impute_downshift, log2_intensities, normalize, preprocess


def test_log2_treats_zero_as_missing() -> None:
    x = pd.DataFrame({"a": [0.0, 8.0, np.nan], "b": [1.0, 1024.0, 2.0]})
    out = log2_intensities(x)
    assert np.isnan(out.loc[0, "a"]) and np.isnan(out.loc[2, "a"])
    assert out.loc[1, "a"] == 3 and out.loc[1, "b"] == 10


def test_valid_value_filter_any_and_each_group() -> None:
    nan = np.nan
    x = pd.DataFrame(
        [[1, 1, 1, nan, nan, nan], [1, 1, nan, 1, 1, nan], [1, 1, 1, 1, 1, nan], [1, 1, 1, 1, nan, nan]],
        index=["all_g0", "two_each", "full_g0", "one_in_g1"], columns=list("abcdef"), dtype=float,
    )
    g = pd.Series([0, 0, 0, 1, 1, 1], index=x.columns)
    # the share rule in any / each group, and always at least 2 values in each group
    assert list(filter_valid(x, g, min_fraction=0.66, valid_in="any").index) == ["two_each", "full_g0"]
    assert list(filter_valid(x, g, min_fraction=0.66, valid_in="each").index) == ["two_each", "full_g0"]
    assert list(filter_valid(x, g, min_fraction=0.8, valid_in="any").index) == ["full_g0"]
    assert list(filter_valid(x, g, min_fraction=0.8, valid_in="each").index) == []


def test_median_normalisation_equalises_sample_medians() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(20, 1, (200, 4)) + [0, 1, -2, 0.5], columns=list("abcd"))
    x.iloc[:20, 1] = np.nan
    out = normalize(x, method="median")
    med = out.median()
    assert np.ptp(med.to_numpy()) < 1e-12
    assert med.iloc[0] == pytest.approx(float(x.median().median()))


def test_quantile_normalisation_on_complete_data_is_the_mean_of_sorted_columns() -> None:
    x = pd.DataFrame({"a": [5.0, 2.0, 3.0, 4.0], "b": [4.0, 1.0, 4.5, 2.0], "c": [3.0, 4.0, 6.0, 8.0]})
    mean_sorted = np.sort(x.to_numpy(), axis=0).mean(axis=1)
    expected = x.rank(method="first").astype(int).apply(lambda r: mean_sorted[r - 1])
    np.testing.assert_allclose(normalize(x, method="quantile").to_numpy(), expected.to_numpy())


def test_downshift_imputation_fills_only_missing_cells_low_and_reproducibly() -> None:
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.normal(25, 2, (500, 3)), columns=list("abc"))
    x = x.mask(rng.random(x.shape) < 0.2)
    out, mask = impute_downshift(x, width=0.3, shift=1.8, seed=4)
    again, _ = impute_downshift(x, width=0.3, shift=1.8, seed=4)
    pd.testing.assert_frame_equal(out, again)
    assert out.notna().all().all() and mask.equals(x.isna())
    pd.testing.assert_frame_equal(out[~mask], x[~mask])
    for c in x:
        imputed = out.loc[mask[c], c]
        assert imputed.mean() == pytest.approx(x[c].mean() - 1.8 * x[c].std(), abs=0.15)
        assert imputed.std() == pytest.approx(0.3 * x[c].std(), rel=0.2)


def test_preprocess_reports_steps_and_share_imputed() -> None:
    rng = np.random.default_rng(2)
    intens = pd.DataFrame(np.exp2(rng.normal(22, 1, (50, 6))), index=[f"P{i}" for i in range(50)], columns=list("abcdef"))
    intens.iloc[0:5, :] = 0.0  # never quantified
    intens.iloc[5:10, 0] = 0.0
    proteins = pd.DataFrame({"gene": "G", "reverse": [True] + [False] * 49, "contaminant": False, "site_only": [False, True] + [False] * 48}, index=intens.index)
    data = ProteomicsData(intens, proteins, pd.DataFrame(index=intens.columns), source=None)  # type: ignore[arg-type]
    assert drop_flagged(data).n_proteins == 48
    g = pd.Series([0, 0, 0, 1, 1, 1], index=intens.columns)
    res = preprocess(data, g, impute=True, seed=0)
    assert list(res.steps["proteins"]) == [50, 48, 45, 45]
    assert res.share_imputed == pytest.approx(5 / (45 * 6))
