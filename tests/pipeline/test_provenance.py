import datetime as dt
import json

import pytest

from ecrs_analysis.config.declared import fingerprint, select
from ecrs_analysis.pipeline.provenance import provenance_closure, read_provenance, write_provenance


def test_select_keeps_only_the_named_keys():
    p = {"seed": 1, "deep": {"folds": 3, "epochs": 9}, "studies": {"a": {"split": {"mode": "x"}, "masks": []}}}
    assert select(p, ["seed", "deep.folds", "studies.a.split"]) == {"seed": 1, "deep": {"folds": 3}, "studies": {"a": {"split": {"mode": "x"}}}}
    assert json.loads(fingerprint(p, ["deep.epochs"])) == {"deep": {"epochs": 9}}
    with pytest.raises(KeyError, match="deep.lr"):
        select(p, ["deep.lr"])


def test_provenance_records_and_closure(tmp_path, monkeypatch):
    monkeypatch.setenv("ECRS_RUN_ID", "run-2")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x\n1\n")
    b.write_text("y\n2\n")
    t0 = dt.datetime.now(dt.timezone.utc)
    rec = write_provenance(tmp_path / "prov" / "make-a.json", stage="make-a", params={"seed": 1}, code="c0", inputs=[], outputs=[a], started=t0, root=tmp_path)
    assert rec["run_id"] == "run-2" and rec["outputs"][str(a)] is not None and rec["git"]["commit"] is None  # not a git checkout
    write_provenance(tmp_path / "prov" / "make-b.json", stage="make-b", params={}, code="c1", inputs=[a], outputs=[b], started=t0, root=tmp_path)
    write_provenance(tmp_path / "prov" / "stale.json", stage="stale", params={}, code="c2", inputs=[], outputs=[tmp_path / "old.csv"], started=t0, root=tmp_path)
    records = read_provenance(tmp_path / "prov")
    assert provenance_closure(records, ["make-b"]) == ["make-b", "make-a"]  # the stale job feeds nothing


def test_inputs_table_summarises_each_study_of_the_record():
    from ecrs_analysis.pipeline.record import inputs_table

    m = "/data/manifest.csv"
    record = {"inputs": {"li2025": {"synthetic": False, "n_patients": 2, "files": {"manifest": m}, "sha256": {m: "a" * 64, "/data/ct1.nii.gz": "b" * 64}}}}
    row = inputs_table(record).loc["li2025"]
    assert row["cohort"] == "real" and row["patients"] == 2 and row["files hashed"] == 2
    assert row["manifest sha256"] == "a" * 16 + "…"
    # one hash over all file hashes: the same in any file order, another when any file changes
    reordered = {"inputs": {"li2025": {**record["inputs"]["li2025"], "sha256": {"/data/ct1.nii.gz": "b" * 64, m: "a" * 64}}}}
    changed = {"inputs": {"li2025": {**record["inputs"]["li2025"], "sha256": {m: "a" * 64, "/data/ct1.nii.gz": "c" * 64}}}}
    assert inputs_table(reordered).loc["li2025", "all files sha256"] == row["all files sha256"]
    assert inputs_table(changed).loc["li2025", "all files sha256"] != row["all files sha256"]
    assert len(row["all files sha256"]) == 17 and row["all files sha256"] != row["manifest sha256"]
