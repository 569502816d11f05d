"""The smoke book, end to end, on a 'real' cohort given as a manifest: same code path, no patient id in the
pages, what a run prints, what re-runs after a change, and a failed chapter.

The hospital's book (``hospital_book``) is built once, as ``ecrs run`` builds it, in a process of its own so
that its output is read as a user sees it: in a copy of the checkout's book sources, on a linked copy of the
shared smoke build. Its li2025 cohort is a manifest of the smoke cohort's files under hospital identifiers,
without the generator's ground truth, and one CNN is trained (two folds, one epoch); so the li2025 jobs, the
chapters and the book run again, while MTLNet's jobs, whose inputs and parameters did not change, are reused.
Every check below reads that build; the failed chapter runs in a linked copy of it. (Each check had a whole
build of its own before: three builds, 5 min of CI.)
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from ecrs_analysis.pipeline.runner import RunError, RunOptions, run_book
from ecrs_analysis.report.privacy import find_identifiers

pytestmark = pytest.mark.slow

# One network, two folds, one epoch, a two-fold grid search of the SVM: the pages, the run and its plans are the point
# here, not the models.
TINY = {"deep.models": ["resnet3d"], "deep.epochs": 1, "deep.folds": 2, "deep.svm_folds": 2}
# run_book in a process of its own: its stdout and stderr are what a user's terminal shows; the record comes back as JSON
_RUN = """
import json, sys
from pathlib import Path
from ecrs_analysis.pipeline.runner import RunOptions, run_book
kw = json.loads(sys.argv[1])
record = run_book(RunOptions(profile="smoke", data=tuple(kw["data"]), overrides=kw["overrides"], results_dir=Path(kw["results"])))
Path(kw["record"]).write_text(json.dumps(record), encoding="utf-8")
"""
def hospital_manifest(smoke_results: Path, dst: Path) -> tuple[Path, pd.Series]:
    """The smoke li2025 cohort as a hospital hands it over: its files, hospital-style identifiers, no ground truth."""
    cohort = Path(json.loads((smoke_results / "li2025" / "cohort.json").read_text(encoding="utf-8"))["manifest"]).parent
    shutil.copytree(cohort, dst, copy_function=os.link, ignore=shutil.ignore_patterns("manifest.csv", "manifest.dictionary.yaml", "truth.csv", "generator.json"))
    shutil.copy(cohort / "manifest.dictionary.yaml", dst / "manifest.dictionary.yaml")
    m = pd.read_csv(cohort / "manifest.csv", dtype=str, keep_default_na=False)
    m["patient_id"] = [f"MRN{93000000 + 17 * i}" for i in range(len(m))]
    m.to_csv(dst / "manifest.csv", index=False)
    return dst / "manifest.csv", m["patient_id"]


@pytest.fixture(scope="module")
def hospital_book(tmp_path_factory, copy_book_sources, linked_copy, smoke_results):
    tmp = tmp_path_factory.mktemp("hospital_book")
    manifest, ids = hospital_manifest(smoke_results, tmp / "hospital")
    root = copy_book_sources(tmp / "book_root")  # so the checkout's _build stays untouched
    results = linked_copy(smoke_results, tmp / "results")
    data = [f"li2025={manifest}"]
    kw = {"data": data, "overrides": TINY, "results": str(results), "record": str(tmp / "record.json")}
    done = subprocess.run([sys.executable, "-c", _RUN, json.dumps(kw)], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads(Path(kw["record"]).read_text(encoding="utf-8"))
    return {"root": root, "results": results, "ids": ids, "record": record, "out": done.stdout, "err": done.stderr, "data": tuple(data)}


def test_real_manifest_builds_the_book_without_showing_identifiers(hospital_book):
    html = hospital_book["root"] / "_build" / "html"
    record, ids = hospital_book["record"], hospital_book["ids"]
    assert (html / "book" / "executed" / "04_integrated_model.html").exists()
    assert record["inputs"]["li2025"]["synthetic"] is False and record["published"].endswith("index.html")
    assert find_identifiers(html, ids) == {}
    # the check is live: the identifiers are known to the run, and a page showing one is caught
    leak = html / "leak.html"
    leak.write_text(f"<p>{ids[3]}</p>")
    try:
        assert find_identifiers(html, ids) == {"leak.html": [ids[3]]}
    finally:
        leak.unlink()


def test_a_run_prints_one_line_per_job_start_and_end_and_keeps_snakemakes_output_in_its_log(hospital_book):
    """What a run prints: one start and one end line per job with the overall line, the first epoch of each
    training job relayed from its log, Snakemake's own output only in the run log, no control characters."""
    out, err, record, results = hospital_book["out"], hospital_book["err"], hospital_book["record"], hospital_book["results"]
    lines = out.splitlines()
    T = r"\d+ (?:s|min)"  # a duration as shown
    jobs = record["executed_jobs"]
    assert "chapter-02_clinical" in jobs and "train-li2025-resnet3d-fold1" in jobs and "book" in jobs
    assert not [j for j in jobs if j.startswith(("mtlnet-", "cohort-mtlnet2025", "preprocess-mtlnet2025"))]  # MTLNet's jobs were reused
    assert lines[0].startswith(f"[ecrs] {len(jobs)} job(s) to run; Snakemake's log: ")
    for job in jobs:
        assert f"[ecrs] start  {job}" in lines
        assert any(re.match(rf"\[ecrs\] done   {re.escape(job)} \({T}\)  \[\d+/{len(jobs)} jobs · {T} elapsed", ln) for ln in lines), out
    assert re.search(rf"\[{len(jobs)}/{len(jobs)} jobs · {T} elapsed\]$", out.rstrip()), out
    for fold in (0, 1):
        assert f"[ecrs]        train-li2025-resnet3d-fold{fold}: epoch 1/1 · loss " in out
    assert "rule train_fold" not in out + err and "Job stats" not in out + err  # Snakemake's own output ...
    run_log = Path(record["snakemake_log"])
    assert run_log.parent == results / "logs" and "rule train_fold:" in run_log.read_text(encoding="utf-8")  # ... is in the run log
    assert {"cohort", "split", "preprocess", "folds", "train_fold", "deep_scores", "clinical"} <= {r["stage"] for r in record["stage_times"]}
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", out)  # not a terminal: no control characters


def test_only_what_depends_on_a_change_runs_again(hospital_book, monkeypatch):
    monkeypatch.chdir(hospital_book["root"])
    targets = ("02_clinical", "deep_scores")

    def plan(**over):
        opts = RunOptions(profile="smoke", data=hospital_book["data"], overrides={**TINY, **over}, targets=targets, dry_run=True, results_dir=hospital_book["results"])
        return run_book(opts)["plan"]

    assert plan() == {}  # nothing changed: nothing runs
    assert plan(**{"stats.n_resamples": 300}) == {"clinical": 1, "clinical_exhibits": 1, "chapter_02_clinical": 1}  # a statistics-only parameter: the clinical tables, their exhibits (bootstrap bands) and their chapter
    assert plan(**{"deep.epochs": 2}) == {"train_fold": 2, "deep_scores": 1}  # training, not the cohort or chapter 02
    changed_seed = plan(seed=7)
    assert changed_seed["cohort"] == 1 and changed_seed["chapter_02_clinical"] == 1 and changed_seed["train_fold"] == 2
    # a change to one network's module re-trains that network only
    from ecrs_analysis.pipeline import workflow as W

    real = W.model_code
    monkeypatch.setattr(W, "model_code", lambda m: real(m) + ("-edited" if m == "resnet3d" else ""))
    assert plan() == {"train_fold": 2, "deep_scores": 1}


def test_a_failed_chapter_is_named_shown_with_its_log_tail_kept_and_the_last_good_book_survives(hospital_book, linked_copy, tmp_path, monkeypatch, capfd):
    # in a copy of the build (the ``linked_copy`` fixture)
    root, results = tmp_path / "book_root", tmp_path / "results"
    shutil.copytree(hospital_book["root"], root, symlinks=True)
    linked_copy(hospital_book["results"], results)
    last_good = (root / "_build" / "html" / "index.html").read_bytes()
    nb = nbformat.read(root / "notebooks" / "02_clinical.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('raise ValueError("boom in the clinical chapter")'))
    nbformat.write(nb, root / "notebooks" / "02_clinical.ipynb")
    monkeypatch.chdir(root)
    with pytest.raises(RunError, match="Snakemake's log: ") as e:
        run_book(RunOptions(profile="smoke", data=hospital_book["data"], overrides=TINY, targets=("02_clinical",), results_dir=results))
    msg = str(e.value)
    assert "02_clinical.ipynb" in msg and "ValueError: boom in the clinical chapter" in msg and "Traceback" not in msg
    assert (results / "failed" / "02_clinical.ipynb").exists()
    assert not (results / "executed" / "02_clinical.ipynb").exists()  # the chapter's old output is gone, and no half-written one replaced it
    assert (hospital_book["results"] / "executed" / "02_clinical.ipynb").exists()  # (the build it was copied from is untouched)
    assert (root / "_build" / "html" / "index.html").read_bytes() == last_good
    out = capfd.readouterr().out
    assert "[ecrs] 1 job(s) to run" in out  # the edited notebook re-runs its chapter only
    failed = out[out.index("[ecrs] FAILED chapter-02_clinical after "):]
    assert f"last lines of {results / 'logs' / 'chapter-02_clinical.log'}:" in failed or "last lines of results/logs/chapter-02_clinical.log:" in failed
    assert "| " in failed and "boom in the clinical chapter" in failed  # the log's tail, as the job wrote it
    assert "what to do:" in failed and "failed/" in failed and "run the same command again" in failed
    assert "Error in rule" not in out  # Snakemake's own report stays in its log
