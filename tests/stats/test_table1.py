import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import ttest_ind as sm_ttest

from ecrs_analysis.stats.table1 import infer_kinds, table_one


@pytest.fixture
def df():
    rng = np.random.default_rng(3)
    n = 200
    g = np.repeat(["a", "b"], n // 2)
    return pd.DataFrame(
        {
            "group": g,
            "age": np.where(g == "a", rng.normal(50, 10, n), rng.normal(45, 10, n)),
            "ige": np.exp(rng.normal(4, 1, n)),  # skewed
            "asthma": (rng.random(n) < np.where(g == "a", 0.4, 0.2)).astype(int),
            "rare": np.r_[np.zeros(n - 3), np.ones(3)].astype(int),
        }
    )


def test_kinds_are_inferred(df):
    assert infer_kinds(df, ["age", "asthma"]) == {"age": "continuous", "asthma": "binary"}


def test_normal_variable_gets_mean_sd_and_welch_t_matching_statsmodels(df):
    t = table_one(df, by="group", variables=["age"])
    row = t.loc["age"]
    a = df.age[df.group == "a"]
    assert row["a"] == f"{a.mean():.1f} ± {a.std(ddof=1):.1f}"
    assert row["test"] == "Welch t"
    p = sm_ttest(a, df.age[df.group == "b"], usevar="unequal")[1]
    assert row["p"] == ("<0.001" if p < 0.001 else f"{p:.3f}")


def test_skewed_variable_gets_median_iqr_and_mann_whitney(df):
    row = table_one(df, by="group", variables=["ige"]).loc["ige"]
    assert row["test"] == "Mann-Whitney U" and "[" in row["a"]


def test_binary_chi2_and_fisher_for_small_counts(df):
    t = table_one(df, by="group", variables=["asthma", "rare"])
    assert t.loc["asthma, n (%)", "test"] == "χ²"
    assert t.loc["rare, n (%)", "test"] == "Fisher exact"
    a = df.asthma[df.group == "a"]
    assert t.loc["asthma, n (%)", "a"] == f"{a.sum()} ({100 * a.mean():.1f}%)"


def test_counts_and_missing(df):
    df.loc[:9, "age"] = np.nan
    t = table_one(df, by="group", variables=["age"])
    assert t.loc["n", "a"] == "100" and t.loc["age", "missing"] == "10"


def test_three_groups_use_anova_or_kruskal(df):
    df["group"] = np.tile(["x", "y", "z", "x"], 50)
    t = table_one(df, by="group", variables=["age", "ige"])
    assert t.loc["age", "test"] == "ANOVA" and t.loc["ige", "test"] == "Kruskal-Wallis"
