"""From a caption to its job's record: link building, fingerprints and the appendix's anchors."""

import hashlib
import json
import re

import pytest

from ecrs_analysis.report import provenance_links as PL
from ecrs_analysis.report.exhibits import Exhibits
from ecrs_analysis.report.reproducibility_chapter import job_records


def _record(root, job, *, inputs=(), outputs=(), params=None, commit="0123456789abcdef0123456789abcdef01234567"):
    rec = {
        "stage": job, "run_id": "run-1", "finished": "2026-12-06T20:00:00+00:00", "seconds": 1.5,
        "params": params if params is not None else {"seed": 7, "stats": {"n_resamples": 200}},
        "code": "abcdef0123456789", "git": {"commit": commit, "dirty": False},
        "inputs": {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in inputs},
        "outputs": {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs},
    }
    (root / "provenance").mkdir(exist_ok=True)
    (root / "provenance" / f"{job}.json").write_text(json.dumps(rec))
    return rec


@pytest.fixture
def run(tmp_path):
    """A results folder: a table written by integrated_evaluation-li2025 from scores that integrated-li2025 wrote."""
    (tmp_path / "tables").mkdir()
    (tmp_path / "li2025").mkdir()
    scores = tmp_path / "li2025" / "scores_integrated.csv"
    scores.write_text("patient_id,integrated\nP1,0.2\n")
    table = tmp_path / "tables" / "li2025_integrated_auc.csv"
    table.write_text("set,AUC\ninternal_test,0.8\n")
    _record(tmp_path, "integrated-li2025", outputs=[scores])
    rec = _record(tmp_path, "integrated_evaluation-li2025", inputs=[scores], outputs=[table])
    return tmp_path, table, rec


def test_anchor_is_the_html_id_sphinx_gives_the_label():
    assert PL.anchor("chapter-04_integrated_model") == "prov-chapter-04-integrated-model"
    assert PL.anchor("train-li2025-resnet3d-fold1") == "prov-train-li2025-resnet3d-fold1"
    assert re.fullmatch(r"[a-z][a-z0-9-]*", PL.anchor("Explain_Summaries-li2025"))


def test_params_fingerprint_is_the_sha256_of_sorted_json_and_ignores_key_order():
    a = {"seed": 7, "stats": {"n_resamples": 200, "alpha": 0.05}}
    b = {"stats": {"alpha": 0.05, "n_resamples": 200}, "seed": 7}
    expected = hashlib.sha256(b'{"seed":7,"stats":{"alpha":0.05,"n_resamples":200}}').hexdigest()[:PL.SHORT]
    assert PL.params_fingerprint(a) == PL.params_fingerprint(b) == expected
    assert PL.params_fingerprint({**a, "seed": 8}) != expected


def test_a_source_is_traced_to_the_job_that_wrote_it(run):
    root, table, rec = run
    records = PL.read_records(root / "provenance")
    assert PL.producers(records, table) == ["integrated_evaluation-li2025"]
    line = PL.caption_line(chapter="04_integrated_model", cell=7, sources=[table], records=records, results_root=root)
    sha = hashlib.sha256(table.read_bytes()).hexdigest()
    assert "`tables/li2025_integrated_auc.csv`" in line and f"sha256 `{sha[:PL.SHORT]}`" in line
    assert "{ref}`integrated_evaluation-li2025 <prov-integrated-evaluation-li2025>`" in line
    assert "rule `integrated_evaluation`" in line and f"parameters `{PL.params_fingerprint(rec['params'])}`" in line
    assert "code `abcdef012345`" in line and "commit `0123456789`" in line
    assert "cell [7] of `executed/04_integrated_model.ipynb`" in line
    assert "{ref}`chapter-04_integrated_model <prov-chapter-04-integrated-model>`" in line
    assert "differs" not in line


def test_a_source_changed_since_its_job_ran_is_flagged(run):
    root, table, _ = run
    table.write_text("set,AUC\ninternal_test,0.9\n")
    line = PL.caption_line(chapter="04_integrated_model", cell=3, sources=[table], records=PL.read_records(root / "provenance"), results_root=root)
    assert "differs from the job's record" in line


def test_an_exhibit_without_source_links_its_chapters_record(run):
    root, _, _ = run
    line = PL.caption_line(chapter="03_deep_models", cell=None, sources=[], records={}, results_root=root)
    assert "{ref}`chapter-03_deep_models <prov-chapter-03-deep-models>`" in line and "cell [" not in line


def test_a_source_no_job_wrote_is_refused_with_its_path(run):
    root, _, _ = run
    stray = root / "tables" / "hand_made.csv"
    stray.write_text("a\n1\n")
    with pytest.raises(ValueError, match="hand_made.csv as an output"):
        PL.caption_line(chapter="04_integrated_model", cell=1, sources=[stray], records=PL.read_records(root / "provenance"), results_root=root)
    with pytest.raises(ValueError, match="does not exist"):
        PL.caption_line(chapter="04_integrated_model", cell=1, sources=[root / "nothing.csv"], records={}, results_root=root)


def test_rules_are_found_in_the_workflow():
    assert PL.rule_of("train-li2025-resnet3d-fold0") == ("train_fold", "workflow/rules/deep.smk")
    assert PL.rule_of("chapter-04_integrated_model") == ("chapter_04_integrated_model", "workflow/rules/chapters.smk")
    assert PL.rule_of("cohort-li2025") == ("cohort", "workflow/rules/data.smk")
    assert PL.rule_of("no_such_stage-x")[1] is None


def test_exhibits_put_the_provenance_line_under_the_caption(run, monkeypatch):
    root, table, _ = run
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    ex = Exhibits(root, "04_integrated_model")
    import pandas as pd

    ex.table(pd.DataFrame({"AUC": [0.8]}), "AUC per set.", source=table)
    ex.table(pd.DataFrame({"AUC": [0.8]}), "AUC again.")
    first, second = shown[0].data, shown[2].data
    assert first.startswith("**Table 4.1.** AUC per set.") and "\\\nProvenance: `tables/li2025_integrated_auc.csv`" in first
    assert "<prov-integrated-evaluation-li2025>" in first
    assert "\\\nProvenance: drawn by" in second and "<prov-chapter-04-integrated-model>" in second
    off = Exhibits(root, "99_reproducibility", provenance=False)
    off.table(pd.DataFrame({"a": [1]}), "Jobs.")
    assert "Provenance" not in shown[-2].data


def test_no_provenance_line_without_a_run(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    import pandas as pd

    Exhibits(tmp_path, "04_integrated_model").table(pd.DataFrame({"a": [1]}), "A table.")
    assert "Provenance" not in shown[0].data


def test_every_link_a_caption_makes_lands_on_a_record_the_appendix_shows(run):
    root, table, _ = run
    records = PL.read_records(root / "provenance")
    line = PL.caption_line(chapter="04_integrated_model", cell=7, sources=[table], records=records, results_root=root)
    jobs = [{"job": j, "status": "re-executed"} for j in ("chapter-04_integrated_model", *records)]
    page = job_records({"jobs": jobs}, root)
    labels = set(re.findall(r"^\(([\w-]+)\)=$", page, flags=re.M))
    targets = set(re.findall(r"<(prov-[\w-]+)>`", line))
    assert targets == {"prov-integrated-evaluation-li2025", "prov-chapter-04-integrated-model"} and targets <= labels
    block = page.split("(prov-integrated-evaluation-li2025)=")[1].split("\n(")[0]
    assert "**Job `integrated_evaluation-li2025`**" in block and "rule `integrated_evaluation` in `workflow/rules/analysis.smk`" in block
    assert "`li2025/scores_integrated.csv`" in block and "commit `0123456789abcdef0123456789abcdef01234567`" in block


def test_the_caption_names_the_cell_by_its_execution_count():
    """The number IPython shows as ``In [n]`` and stores in the executed notebook, not the next one."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_cell("x = 1", store_history=True)
        result = shell.run_cell("from ecrs_analysis.report.exhibits import _cell\nseen = _cell()", store_history=True)
        assert shell.user_ns["seen"] == result.execution_count
    finally:
        InteractiveShell.clear_instance()


def test_a_copied_results_folder_still_finds_the_producer_by_the_relative_path(tmp_path):
    from ecrs_analysis.report.provenance_links import producers

    records = {"integrated-li2025": {"outputs": {"/elsewhere/results/smoke/li2025/scores_integrated.csv": "abc"}},
               "clinical-li2025": {"outputs": {"/elsewhere/results/smoke/li2025/scores_clinical.csv": "def"}}}
    copy = tmp_path / "smoke"
    assert producers(records, copy / "li2025" / "scores_integrated.csv", root=copy) == ["integrated-li2025"]
    assert producers(records, copy / "li2025" / "scores_integrated.csv") == []  # without the root, absolute paths only
    assert producers(records, copy / "li2025" / "other.csv", root=copy) == []
