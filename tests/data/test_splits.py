import json

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.data.splits import SplitError, center_split, load_split, make_split, split_summary, stratified_random_split, temporal_split


@pytest.fixture
def table():
    rng = np.random.default_rng(1)
    n = 300
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "label": (rng.random(n) < 0.4).astype(int),
            "center": np.where(rng.random(n) < 0.7, "A", "B"),
            "scan_date": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 1800, n), unit="D"),
        }
    )


def _all_ids(split):
    return [pid for ids in split.sets.values() for pid in ids]


def test_random_split_is_stratified_disjoint_and_seeded(table):
    s = stratified_random_split(table, test_fraction=0.2, seed=5)
    ids = _all_ids(s)
    assert len(ids) == len(set(ids)) == len(table)
    prev = table.set_index("patient_id")["label"]
    assert abs(prev[list(s.sets["validation"])].mean() - prev.mean()) < 0.03
    assert len(s.sets["validation"]) == 60
    assert stratified_random_split(table, test_fraction=0.2, seed=5).sets == s.sets
    assert stratified_random_split(table, test_fraction=0.2, seed=6).sets != s.sets


def test_center_split_keeps_the_other_hospital_external(table):
    s = center_split(table, train_centers=("A",), internal_fraction=0.3, seed=1)
    centers = table.set_index("patient_id")["center"]
    assert set(centers[list(s.sets["external_test"])]) == {"B"}
    assert set(centers[list(s.sets["train"]) + list(s.sets["internal_test"])]) == {"A"}
    with pytest.raises(SplitError, match="not in the cohort"):
        center_split(table, train_centers=("Z",), internal_fraction=0.3, seed=1)


def test_temporal_split_uses_the_cutoff(table):
    s = temporal_split(table, cutoff="2024-01-01", validation_fraction=0.2, seed=1)
    dates = table.set_index("patient_id")["scan_date"]
    assert (dates[list(s.sets["external"])] >= "2024-01-01").all()
    assert (dates[list(s.sets["train"]) + list(s.sets["validation"])] < "2024-01-01").all()
    with pytest.raises(SplitError, match="cut-off"):
        temporal_split(table, cutoff="2030-01-01", validation_fraction=0.2, seed=1)


def test_saved_split_is_read_back_and_checked(table, tmp_path):
    s = make_split(table, {"mode": "center", "train_centers": ["A"], "internal_fraction": 0.3}, seed=2)
    p = s.save(tmp_path / "split.json")
    assert load_split(p, table).sets == s.sets
    raw = json.loads(p.read_text(encoding="utf-8"))
    raw["sets"]["train"].append("P999")
    p.write_text(json.dumps(raw))
    with pytest.raises(SplitError, match="not in the cohort"):
        load_split(p, table)
    raw["sets"]["train"].remove("P999")
    raw["sets"]["train"].append(raw["sets"]["external_test"][0])
    p.write_text(json.dumps(raw))
    with pytest.raises(SplitError, match="in both"):
        load_split(p, table)


def test_user_split_must_cover_every_patient(table, tmp_path):
    p = tmp_path / "mine.json"
    p.write_text(json.dumps({"sets": {"train": list(table.patient_id[:100])}}))
    with pytest.raises(SplitError, match="in no set"):
        load_split(p, table)


def test_summary_counts(table):
    s = stratified_random_split(table, test_fraction=0.2, seed=5)
    out = split_summary(table, s)
    assert out["patients"].sum() == len(table)
    assert out["eosinophilic"].sum() == table["label"].sum()


def test_random_split_names_its_held_out_set_by_the_fraction_given(table):
    # li2025 keeps internal_fraction when switched to random (train/internal_test); MTLNet keeps validation_fraction
    li = make_split(table, {"mode": "random", "train_centers": ["A"], "internal_fraction": 0.3, "validation_fraction": None}, seed=3)
    mt = make_split(table, {"mode": "random", "validation_fraction": 0.2, "internal_fraction": None}, seed=3)
    assert li.names == ("train", "internal_test") and len(li.sets["internal_test"]) == 90
    assert mt.names == ("train", "validation") and len(mt.sets["validation"]) == 60


def test_the_set_named_train_trains_whatever_its_position(table, tmp_path):
    ids = list(table["patient_id"])
    p = tmp_path / "split.json"
    p.write_text(json.dumps({"sets": {"external_test": ids[:100], "train": ids[100:250], "internal_test": ids[250:]}}))
    s = load_split(p, table)
    assert s.train_name == "train" and s.train == tuple(ids[100:250])
    assert s.names == ("train", "external_test", "internal_test") and s.test_names == ("external_test", "internal_test")


def test_a_split_without_a_train_set_is_refused(table, tmp_path):
    ids = list(table["patient_id"])
    p = tmp_path / "split.json"
    p.write_text(json.dumps({"sets": {"external_test": ids[:100], "training": ids[100:]}}))
    with pytest.raises(SplitError, match="no set named 'train'"):
        load_split(p, table)


@pytest.mark.parametrize("profile", ["smoke", "demo", "full"])
def test_mtlnet_design_and_parameters_give_the_papers_temporal_split(profile):
    # MTLNet: scans from 2024-05-01 on are the temporal external set (44); the 213 before are split 172/41.
    from ecrs_analysis.config.params import load_params
    from ecrs_analysis.data.synth.cohort import DESIGNS, _plan

    spec = load_params(profile)["studies"]["mtlnet2025"]["split"]
    assert spec["mode"] == "temporal" and spec["cutoff"] == DESIGNS["mtlnet2025"].temporal_cutoff == "2024-05-01"
    plan = _plan(DESIGNS["mtlnet2025"], 257, seed=4)
    plan["label"] = np.random.default_rng(0).integers(0, 2, len(plan))
    s = make_split(plan, spec, seed=1)
    assert s.names == ("train", "validation", "external")
    assert {k: len(v) for k, v in s.sets.items()} == {"train": 172, "validation": 41, "external": 44}
    dates = pd.to_datetime(plan.set_index("patient_id")["scan_date"])
    assert dates[list(s.sets["external"])].min() >= pd.Timestamp("2024-05-01") and dates[list(s.sets["external"])].max() <= pd.Timestamp("2024-11-30")
    assert dates[list(s.sets["train"]) + list(s.sets["validation"])].max() < pd.Timestamp("2024-05-01")
    assert dates.min() >= pd.Timestamp("2020-01-01")
