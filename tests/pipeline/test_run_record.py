"""The run record of the appendix: which jobs made the book, and whether each ran in this run or was reused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ecrs_analysis.pipeline.chapters import build_run_record
from ecrs_analysis.pipeline.provenance import write_provenance
from ecrs_analysis.paths import ResultPaths

STARTED = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _job(paths: ResultPaths, name: str, *, run: str, inputs: list[Path], outputs: list[Path], monkeypatch, params=None) -> None:
    """A job as the workflow runs it: its outputs written, then its provenance file, under run id ``run``."""
    monkeypatch.setenv("ECRS_RUN_ID", run)
    for out in outputs:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"{name} of run {run}\n")
    write_provenance(paths.prov(name), stage=name.split("-")[0], params=params or {"seed": 1}, code=f"code-of-{name}", inputs=inputs, outputs=outputs,
                     started=STARTED, root=paths.root)


@pytest.fixture
def results(tmp_path, monkeypatch):
    """cohort (run A) -> split (run A) -> train (run B) -> chapter 03 (run B); chapter 01 reads the cohort (run B);
    a job of a model no longer in the parameters (run A) feeds no chapter."""
    paths = ResultPaths(tmp_path / "smoke")
    cohort, split, scores = paths.root / "li2025" / "cohort.csv", paths.root / "li2025" / "split.json", paths.root / "li2025" / "scores.csv"
    _job(paths, "cohort-li2025", run="A", inputs=[], outputs=[cohort], monkeypatch=monkeypatch)
    _job(paths, "split-li2025", run="A", inputs=[cohort], outputs=[split], monkeypatch=monkeypatch)
    _job(paths, "train-li2025-resnet3d-fold0", run="B", inputs=[cohort, split], outputs=[scores], monkeypatch=monkeypatch, params={"deep.epochs": 3})
    _job(paths, "train-li2025-oldnet-fold0", run="A", inputs=[cohort, split], outputs=[paths.root / "li2025" / "old.csv"], monkeypatch=monkeypatch)
    _job(paths, "chapter-01_cohort", run="B", inputs=[cohort], outputs=[paths.executed_notebook("01_cohort")], monkeypatch=monkeypatch)
    _job(paths, "chapter-03_deep_learning", run="B", inputs=[scores], outputs=[paths.executed_notebook("03_deep_learning")], monkeypatch=monkeypatch)
    (paths.root / "run.json").write_text(json.dumps({"profile": "smoke", "overrides": {"deep.epochs": 3}, "started": "2026-01-01T00:00:00+00:00"}))
    paths.inputs("li2025").parent.mkdir(parents=True, exist_ok=True)
    paths.inputs("li2025").write_text(json.dumps({"synthetic": True, "n_patients": 3, "patient_ids": ["P1", "P2", "P3"]}))
    return paths


def _status(record: dict) -> dict[str, tuple[str, str]]:
    return {j["job"]: (j["status"], j["run"]) for j in record["jobs"]}


def test_jobs_of_this_run_are_re_executed_and_the_others_reused_from_the_run_that_made_them(results, monkeypatch):
    monkeypatch.setenv("ECRS_RUN_ID", "B")
    record = build_run_record(results, root=results.root, chapters=["01_cohort", "03_deep_learning"])
    assert _status(record) == {
        "chapter-01_cohort": ("re-executed", "B"),
        "chapter-03_deep_learning": ("re-executed", "B"),
        "train-li2025-resnet3d-fold0": ("re-executed", "B"),
        "cohort-li2025": ("reused", "A"),
        "split-li2025": ("reused", "A"),
    }  # the removed model's job feeds no chapter: not reported
    assert record["run"] == "B" and record["profile"] == "smoke" and record["overrides"] == {"deep.epochs": 3}
    train = next(j for j in record["jobs"] if j["job"] == "train-li2025-resnet3d-fold0")
    assert train["params"] == {"deep.epochs": 3} and train["code"] == "code-of-train-li2025-resnet3d-fold0"
    assert set(train["inputs"]) == {str(results.root / "li2025" / "cohort.csv"), str(results.root / "li2025" / "split.json")}
    assert record["inputs"] == {"li2025": {"synthetic": True, "n_patients": 3}}  # patient ids never reach the appendix
    assert json.loads(results.run_record.read_text()) == json.loads(json.dumps(record))


def test_a_run_that_ran_nothing_reuses_every_job(results, monkeypatch):
    monkeypatch.setenv("ECRS_RUN_ID", "C")
    record = build_run_record(results, root=results.root, chapters=["01_cohort", "03_deep_learning"])
    assert {s for s, _ in _status(record).values()} == {"reused"}
    assert _status(record)["train-li2025-resnet3d-fold0"] == ("reused", "B") and _status(record)["cohort-li2025"] == ("reused", "A")


def test_only_the_chapters_asked_for_and_what_feeds_them(results, monkeypatch):
    monkeypatch.setenv("ECRS_RUN_ID", "B")
    record = build_run_record(results, root=results.root, chapters=["01_cohort"])
    assert _status(record) == {"chapter-01_cohort": ("re-executed", "B"), "cohort-li2025": ("reused", "A")}
    assert build_run_record(results, root=results.root, chapters=["98_tripod"])["jobs"] == []  # a chapter without provenance
