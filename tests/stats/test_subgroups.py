"""Subgroup AUCs against a brute-force Mann-Whitney count and DeLong on each subgroup alone."""

import itertools

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.stats.delong import delong_ci
from ecrs_analysis.stats.subgroups import age_bands, subgroup_auc_table, subgroup_columns


def _brute_auc(y, s):
    pos, neg = s[y == 1], s[y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_age_bands_edges_and_missing():
    out = age_bands(pd.Series([25, 39.9, 40, 59, 59.5, 60, 88, None]))
    assert out.tolist()[:-1] == ["<40", "<40", "40–59", "40–59", "40–59", "≥60", "≥60"] and pd.isna(out.iloc[-1])
    assert age_bands(pd.Series([30, 50]), edges=[45]).tolist() == ["<45", "≥45"]


def test_subgroup_auc_equals_brute_force_on_each_subgroup():
    rng = np.random.default_rng(7)
    n = 120
    cohort = pd.DataFrame({"patient_id": [f"P{i}" for i in range(n)], "sex_male": rng.integers(0, 2, n).astype(float),
                           "center": rng.choice(["A", "B"], n), "age": rng.integers(18, 85, n).astype(float)})
    cohort.loc[3, "sex_male"] = np.nan
    y = rng.integers(0, 2, n)
    scores = pd.DataFrame({"patient_id": cohort["patient_id"], "set": np.where(np.arange(n) < 80, "train", "external_test"),
                           "label": y, "integrated": np.round(y + rng.normal(0, 1, n), 1)})  # rounded: ties
    groups = subgroup_columns(cohort)
    t = subgroup_auc_table(scores, groups, score="integrated", sets=["train", "external_test"])
    merged = scores.merge(groups, on="patient_id")
    for (s, g, level), row in t.iterrows():
        part = merged[merged["set"] == s]
        if g != "all":
            part = part[part[g].fillna("missing") == level]
        yy, ss = part["label"].to_numpy(), part["integrated"].to_numpy()
        assert (row["n"], row["cases"], row["controls"]) == (len(part), int(yy.sum()), int((yy == 0).sum()))
        if row["cases"] >= 2 and row["controls"] >= 2:
            assert row["AUC"] == pytest.approx(_brute_auc(yy, ss))
            d = delong_ci(yy, ss)
            assert (row["CI low"], row["CI high"]) == pytest.approx((d.ci_low, d.ci_high))
        else:
            assert np.isnan(row["AUC"]) and "too few" in row["note"]
    assert t.loc[("train", "sex", "missing"), "n"] == 1 and "too few" in t.loc[("train", "sex", "missing"), "note"]
    for s in ("train", "external_test"):  # each grouping partitions the set
        for g in ("sex", "centre", "age band"):
            assert t.xs((s, g), level=("set", "subgroup"))["n"].sum() == t.loc[(s, "all", "all"), "n"]


def test_unknown_score_column_is_named():
    with pytest.raises(ValueError, match="'nope'"):
        subgroup_auc_table(pd.DataFrame({"patient_id": ["a"], "set": ["t"], "label": [1]}), pd.DataFrame({"patient_id": ["a"]}), score="nope")
