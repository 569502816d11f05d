"""Who is compared (training-set threshold, seeded subset), settings, and recovery bookkeeping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from ecrs_analysis.omics.analysis import OmicsNotAvailable, choose_patients, load_inputs, pathway_rank, planted_recovery, predicted_calls
from ecrs_analysis.omics.io import ProteomicsInputError
from ecrs_analysis.omics.settings import OmicsSettings

ROOT = Path(__file__).resolve().parents[2]
SMOKE = yaml.safe_load((ROOT / "params" / "smoke.yaml").read_text())["omics"]  # every key: the settings have no values of their own


def _scores(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    return pd.DataFrame({
        "patient_id": [f"LI{i:04d}" for i in range(n)],
        "set": np.where(np.arange(n) < n // 2, "train", np.where(np.arange(n) % 2, "internal_test", "external_test")),
        "label": label,
        "integrated": np.clip(0.5 * label + rng.normal(0.25, 0.2, n), 0, 1),
    })


def test_threshold_is_youdens_on_training_rows_only() -> None:
    s = _scores()
    calls = predicted_calls(s, rule="youden")
    train = s[s["set"] == "train"]
    # brute force over pROC's candidates (midpoints between consecutive distinct training scores):
    # the one that maximises sensitivity + specificity - 1 (score >= threshold = case), lowest on ties
    u = np.unique(train["integrated"])
    mids = (u[:-1] + u[1:]) / 2

    def youden(c: float) -> float:
        pos, neg = train["label"] == 1, train["label"] == 0
        return ((train["integrated"] >= c) & pos).sum() / pos.sum() - ((train["integrated"] >= c) & neg).sum() / neg.sum()

    best = max(sorted(mids), key=youden)
    assert calls.threshold == pytest.approx(best)
    assert (calls.table["predicted"] == (s["integrated"] >= best).astype(int)).all()
    # test-set scores do not move the threshold
    s2 = s.copy()
    s2.loc[s2["set"] != "train", "integrated"] = 0.99
    assert predicted_calls(s2).threshold == calls.threshold


def test_sensitivity_rule_and_missing_columns() -> None:
    s = _scores()
    calls = predicted_calls(s, rule="sensitivity", target=0.9)
    train = s[s["set"] == "train"]
    assert ((train["integrated"] >= calls.threshold) & (train["label"] == 1)).sum() / (train["label"] == 1).sum() >= 0.9
    with pytest.raises(ValueError, match="lacks column"):
        predicted_calls(s.drop(columns=["set"]))


def test_subset_is_seeded_stratified_and_sized() -> None:
    calls = predicted_calls(_scores(120)).table
    a = choose_patients(calls, 34, seed=5)
    assert a == choose_patients(calls.sample(frac=1, random_state=1), 34, seed=5)  # row order does not matter
    assert a != choose_patients(calls, 34, seed=6)
    assert len(a) == len(set(a)) == 34
    chosen = calls.set_index("patient_id").loc[a, "predicted"]
    share = calls["predicted"].mean()
    assert abs(chosen.mean() - share) <= 1 / 34 + 1e-9
    with pytest.raises(ValueError, match="lower omics.synthetic.n_patients"):
        choose_patients(calls, 500, seed=0)


def test_every_profile_has_a_valid_omics_section() -> None:
    sections = [yaml.safe_load((ROOT / "params" / f"{p}.yaml").read_text())["omics"] for p in ("smoke", "demo", "full")]
    assert len({tuple(sorted(s)) for s in sections}) == 1
    settings = [OmicsSettings(**s) for s in sections]
    assert settings[0].permutations < settings[1].permutations  # smoke stays fast


@pytest.mark.parametrize(
    ("change", "message"),
    [({"gene_sets": "KEGG_2021_Human"}, "local .gmt"), ({"proteins": "x.txt"}, "give both"), ({"min_size": 600}, "smaller than max_size"), ({"normalization": "vsn"}, "normalization"), ({"typo": 1}, "typo")],
)
def test_settings_refuse_bad_values(change: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        OmicsSettings(**{**SMOKE, **change})


def test_user_files_are_validated_against_the_cohort(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("protein,gene,s1,s2\nP1,CCL11,1,2\n")
    (tmp_path / "sheet.csv").write_text("sample,patient_id\ns1,LI0001\ns2,XX9999\n")
    settings = OmicsSettings(**{**SMOKE, "proteins": str(tmp_path / "m.csv"), "sample_sheet": str(tmp_path / "sheet.csv")})
    with pytest.raises(ProteomicsInputError, match="unknown patient 'XX9999'"):
        load_inputs(settings, seed=0, calls=pd.DataFrame(), cohort_ids=["LI0001"], truth=None, folder=tmp_path / "out")
    with pytest.raises(OmicsNotAvailable, match="no proteomics.*omics.proteins"):
        load_inputs(OmicsSettings(**SMOKE), seed=0, calls=pd.DataFrame(), cohort_ids=["LI0001"], truth=None, folder=tmp_path / "out")


def test_recovery_counts_by_hand() -> None:
    table = pd.DataFrame({"log_fc": [2.0, 1.5, -1.0, 0.1, 3.0], "fdr": [0.001, 0.01, 0.2, 0.9, 0.04]}, index=list("abcde"))
    genes = pd.Series(["G1", "G2", "G3", "G4", "G5"], index=list("abcde"))
    planted = pd.DataFrame({"gene": ["G1", "G3", "G9"]})
    r = planted_recovery(table, genes, planted, fdr=0.05)
    assert (r["called"], r["true_positives"], r["planted_quantified"]) == (3, 1, 2)
    assert r["recall"] == pytest.approx(1 / 3) and r["false_discovery_proportion"] == pytest.approx(2 / 3)
    assert pathway_rank(pd.DataFrame({"term": ["x", "y"]}), "y") == 2 and pathway_rank(pd.DataFrame({"term": ["x"]}), "z") is None
