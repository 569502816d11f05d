"""Chapter 07's tables are read from the proteomics job's artefacts: counts, order and formatting."""

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.report import proteomics_chapter as C
from ecrs_analysis.report.paper import LI2025_PROTEOMICS


def _de(n=20, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(1e-5, 1, n)
    return pd.DataFrame(
        {"gene": [f"G{i}" for i in range(n)], "log_fc": rng.normal(size=n), "ave_expr": rng.normal(25, 1, n), "t": rng.normal(size=n),
         "p_value": p, "fdr": np.minimum(1, p * n), "b": rng.normal(size=n), "extra": 1},
        index=pd.Index([f"P{i}" for i in range(n)], name="protein"),
    )


def _sets(n=12, lead="genes"):
    return pd.DataFrame({"term": [f"set {i}" for i in range(n)], "size": 10, "overlap": "2/10", "odds_ratio": 3.0, "es": 0.5, "nes": 1.5,
                         "p_value": np.linspace(1e-4, 0.9, n), "fdr": np.linspace(1e-3, 1, n), lead: "A;B;C"})


def test_calls_against_truth_counts_every_sample_once_with_margins():
    samples = pd.DataFrame({"predicted": [1, 1, 0, 0, 0], "label": [1, 0, 0, 0, 1]})
    t = C.calls_against_truth(samples)
    assert t.loc["predicted eCRS", "eCRS"] == 1 and t.loc["predicted non-eCRS", "non-eCRS"] == 2
    assert t.loc["total", "total"] == len(samples) and list(t.index.names) == ["integrated model"]


def test_top_proteins_are_the_smallest_p_values_formatted_beside_the_raw_numbers():
    de = _de()
    shown, data = C.top_proteins(de, n=5)
    assert list(data.index) == list(de.nsmallest(5, "p_value").index)
    assert "extra" not in data and list(shown.index) == list(data.index)
    assert shown["p_value"].iloc[0] == ("<0.001" if data["p_value"].iloc[0] < 0.0005 else f"{data['p_value'].iloc[0]:.3f}")
    assert data["p_value"].dtype == float


def test_top_gene_sets_keep_the_job_order_and_wrap_gene_lists():
    shown, data = C.top_ora(_sets(), n=10)
    assert len(data) == 10 and list(data["term"]) == [f"set {i}" for i in range(10)]
    assert shown["genes"].iloc[0] == "A; B; C" and data["genes"].iloc[0] == "A;B;C"
    shown, data = C.top_gsea(_sets(lead="lead_genes"), n=3)
    assert list(data.columns) == ["term", "size", "es", "nes", "p_value", "fdr", "lead_genes"] and len(shown) == 3


def test_a_table_without_its_columns_is_a_clear_error():
    with pytest.raises(ValueError, match=r"no column\(s\) \['fdr'\].*ecrs run"):
        C.top_proteins(_de().drop(columns="fdr"))


def test_reported_against_reproduced_names_the_pathway_rank():
    gsea = _sets()
    summary = {"patients": 30, "dysregulated": {"predicted": 7, "label": 9}, "pathway": "set 3"}
    t = C.reported_against_reproduced(summary, gsea)
    assert t.loc["patients with proteomics", "paper"] == LI2025_PROTEOMICS["patients"] and t.loc["dysregulated proteins", "this run"] == 7
    assert t.loc["pathways", "this run"] == f"chemokine pathway rank 4 of {len(gsea)} (GSEA)"
    assert "not ranked" in C.reported_against_reproduced({**summary, "pathway": "absent"}, gsea).loc["pathways", "this run"]


def test_recovery_only_for_synthetic_data_and_counts_stay_integers():
    t = C.planted_recovery_table({"synthetic": True, "recovery": {"planted": 43, "called": 5, "recall": 0.1}})
    assert t.loc["planted"].iloc[0] == 43 and isinstance(t.loc["planted"].iloc[0], int) and t.loc["recall"].iloc[0] == 0.1
    with pytest.raises(ValueError, match="nothing was planted"):
        C.planted_recovery_table({"synthetic": False})


def test_comparisons_table_has_one_row_per_comparison():
    rows = [{"comparison": "a", "dysregulated proteins": 1}, {"comparison": "b", "dysregulated proteins": 2}]
    assert C.comparisons_table({"summary": rows})["dysregulated proteins"].to_dict() == {"a": 1, "b": 2}
    with pytest.raises(ValueError, match="no `summary` rows"):
        C.comparisons_table({})
