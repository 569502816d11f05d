"""What `ecrs run` prints: a fake Snakemake event stream into the progress renderer."""

import io
import json
import logging
import re
from pathlib import Path

import pytest
from snakemake_interface_logger_plugins.common import LogEvent

from ecrs_analysis.pipeline.progress import EXPECTED_SECONDS, RunProgress, format_duration, stage_key, summary_text
from ecrs_analysis.pipeline.workflow import load_chapters
from ecrs_analysis.pipeline.progress_plugin import LogHandler, LogHandlerSettings, handle_event

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def _record(event, **fields):
    r = logging.LogRecord("snakemake", logging.INFO, __file__, 1, "msg", None, None)
    r.event = event
    r.__dict__.update(fields)
    return r


def _progress(tmp_path, *, previous=None, cores=2, live=False, priors=None, folder="results"):
    results = tmp_path / folder
    (results / "logs").mkdir(parents=True)
    if previous:
        (results / "provenance").mkdir()
        for name, seconds in previous.items():
            (results / "provenance" / f"{name}.json").write_text(json.dumps({"stage": name, "seconds": seconds}))
    out, clock = io.StringIO(), Clock()
    return RunProgress(results=results, run="r1", stream=out, cores=cores, live=live, clock=clock, priors=priors), out, clock


def _lines(out):
    return out.getvalue().splitlines()


def test_stage_keys_match_rules_and_job_names():
    assert stage_key("train_fold") == stage_key("train-li2025-resnet3d-fold3") == "train"
    assert stage_key("cohort") == stage_key("cohort-mtlnet2025") == "cohort"
    assert stage_key("deep_scores") == stage_key("deep_scores-li2025") == "deep"
    assert stage_key("chapter_01_cohort") == stage_key("chapter-01_cohort") != stage_key("chapter-02_clinical")


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (42.4, "42 s"), (89, "89 s"), (360, "6 min"), (3600 + 5 * 60, "1 h 05 min")])
def test_durations_read_at_a_glance(seconds, text):
    assert format_duration(seconds) == text


def test_start_and_end_lines_and_the_overall_line_from_an_event_stream(tmp_path):
    p, out, clock = _progress(tmp_path)
    handle_event(p, _record(LogEvent.RUN_INFO, stats={"cohort": 2, "split": 2, "total": 4}))
    logs = tmp_path / "results" / "logs"
    handle_event(p, _record(LogEvent.JOB_INFO, jobid=3, rule_name="cohort", log=[str(logs / "cohort-li2025.log")], wildcards={"study": "li2025"}))
    handle_event(p, _record(LogEvent.JOB_INFO, jobid=4, rule_name="cohort", log=[str(logs / "cohort-mtlnet2025.log")], wildcards={"study": "mtlnet2025"}))
    clock.t += 60
    handle_event(p, _record(LogEvent.JOB_FINISHED, job_id=3))
    handle_event(p, _record(LogEvent.PROGRESS, done=1, total=4))  # ignored: the overall line is already printed
    clock.t += 60
    handle_event(p, _record(LogEvent.JOB_FINISHED, job_id=4))
    lines = _lines(out)
    assert lines[0].startswith("[ecrs] 4 job(s) to run; Snakemake's log: ") and lines[0].endswith("snakemake-r1.log")
    assert lines[1:3] == ["[ecrs] start  cohort-li2025", "[ecrs] start  cohort-mtlnet2025"]
    assert lines[3] == "[ecrs] done   cohort-li2025 (60 s)  [1/4 jobs · 60 s elapsed · estimating…]"
    # the split jobs have no time of their own yet and this folder no expected costs: no guess
    assert lines[4] == "[ecrs] done   cohort-mtlnet2025 (2 min)  [2/4 jobs · 2 min elapsed · estimating…]"
    assert p.remaining() is None
    assert not any(re.search(r"[\x00-\x08\x0b-\x1f\x7f]", ln) for ln in lines)  # CI logs: no control characters


def test_the_estimate_uses_earlier_runs_provenance(tmp_path):
    p, out, clock = _progress(tmp_path, previous={"train-li2025-resnet3d-fold0": 100, "train-li2025-resnet3d-fold1": 300, "chapter-01_cohort": 20}, cores=1)
    handle_event(p, _record(LogEvent.RUN_INFO, stats={"train_fold": 3, "chapter_01_cohort": 1, "total": 4}))
    assert p.remaining() == pytest.approx(3 * 200 + 20)  # median of the earlier folds, and the chapter's own time
    handle_event(p, _record(LogEvent.JOB_INFO, jobid=1, rule_name="train_fold", log=[], wildcards={"model": "resnet3d", "fold": 0}))
    clock.t += 50
    assert p.remaining() == pytest.approx((200 - 50) + 2 * 200 + 20)  # the running fold counts what is left of it
    assert "~" in p.overall()


def test_without_any_history_the_line_says_it_is_estimating(tmp_path):
    p, out, clock = _progress(tmp_path)
    handle_event(p, _record(LogEvent.RUN_INFO, stats={"cohort": 1, "total": 1}))
    handle_event(p, _record(LogEvent.JOB_INFO, jobid=1, rule_name="cohort", log=[], wildcards={"study": "li2025"}))
    clock.t += 5
    assert p.overall() == "[0/1 jobs · 5 s elapsed · estimating…]"


def _run_job(p, clock, jobid, rule, seconds, **wildcards):
    handle_event(p, _record(LogEvent.JOB_INFO, jobid=jobid, rule_name=rule, log=[], wildcards=wildcards))
    clock.t += seconds
    handle_event(p, _record(LogEvent.JOB_FINISHED, job_id=jobid))


# A fresh demo-like plan: light stages first, all training ahead, no provenance.
FRESH_PLAN = {"cohort": 2, "split": 2, "train_fold": 15, "mtlnet": 3, "chapter_01_cohort": 1, "book": 1}
FRESH_PRIORS = {"cohort": 60, "split": 1, "train": 300, "mtlnet": 400, "chapter_01_cohort": 40, "book": 120}


def test_a_fresh_build_counts_the_training_still_ahead(tmp_path):
    p, out, clock = _progress(tmp_path, priors=FRESH_PRIORS, cores=2)
    handle_event(p, _record(LogEvent.RUN_INFO, stats={**FRESH_PLAN, "total": sum(FRESH_PLAN.values())}))
    assert p.remaining() == pytest.approx(sum(FRESH_PRIORS[stage_key(r)] * n for r, n in FRESH_PLAN.items()))  # speed 1, one at a time
    handle_event(p, _record(LogEvent.JOB_INFO, jobid=1, rule_name="cohort", log=[], wildcards={"study": "a"}))
    handle_event(p, _record(LogEvent.JOB_INFO, jobid=2, rule_name="cohort", log=[], wildcards={"study": "b"}))
    clock.t += 120  # both cohorts side by side, each twice its expected 60 s: this machine is 2x slower
    handle_event(p, _record(LogEvent.JOB_FINISHED, job_id=1))
    handle_event(p, _record(LogEvent.JOB_FINISHED, job_id=2))
    assert p.speed() == pytest.approx(2.0)
    # by hand: 2 splits x 1 s + 15 folds x 300 s + 3 MTLNet x 400 s + 40 s + 120 s, each x2, two at a time
    by_hand = 2 * (2 * 1 + 15 * 300 + 3 * 400 + 40 + 120) / 2
    assert p.remaining() == pytest.approx(by_hand)
    assert p.overall() == f"[2/24 jobs · 2 min elapsed · ~{format_duration(by_hand)} left]" == "[2/24 jobs · 2 min elapsed · ~1 h 38 min left]"
    # what the old estimate said (every stage taken at the median job so far, 120 s): 22 min
    assert p.remaining() > 4 * (22 * 60)


def test_a_measured_stage_replaces_its_expected_cost(tmp_path):
    p, out, clock = _progress(tmp_path, priors={"cohort": 60, "train": 300}, cores=1)
    handle_event(p, _record(LogEvent.RUN_INFO, stats={"cohort": 1, "train_fold": 3, "total": 4}))
    _run_job(p, clock, 1, "cohort", 60)
    assert p.remaining() == pytest.approx(3 * 300)
    _run_job(p, clock, 2, "train_fold", 100, model="resnet3d", fold=0)  # training is 3x faster here than expected
    assert p.expected("train_fold") == pytest.approx(100)
    assert p.remaining() == pytest.approx(2 * 100)


# A fresh demo build (Snakemake's job stats: 52 jobs); after the first nine (cohorts, preprocessing, splits, a claims
# job, Table 1s; their job times from that build's log) the line read "~16 min left" with all training ahead.
DEMO_PLAN = {"cohort": 2, "preprocess": 2, "split": 2, "claims_01_cohort": 1, "table1": 2, "folds": 1, "train_fold": 15,
             "mtlnet": 1, "mtlnet_evaluation": 1, "deep_scores": 1, "deep_evaluation": 1, "clinical": 1, "integrated": 1,
             "integrated_evaluation": 1, "proteomics": 1, "claims_04_integrated_model": 1, "claims_07_proteomics": 1,
             "explain": 4, "explain_summaries": 2, "chapter_00_claims": 1, "chapter_01_cohort": 1, "chapter_02_clinical": 1,
             "chapter_03_deep_models": 1, "chapter_04_integrated_model": 1, "chapter_05_mtlnet": 1, "chapter_06_explanation": 1,
             "chapter_07_proteomics": 1, "chapter_98_checklist": 1, "appendix": 1, "book": 1}
DEMO_FIRST_NINE = [("cohort", 23), ("preprocess", 18), ("cohort", 73), ("preprocess", 120), ("split", 29), ("split", 31),
                   ("claims_01_cohort", 28), ("table1", 36), ("table1", 32)]


def test_a_fresh_demo_build_at_job_9_of_52_counts_the_training_ahead(tmp_path):
    assert sum(DEMO_PLAN.values()) == 52
    p, out, clock = _progress(tmp_path, folder="demo", cores=2)
    handle_event(p, _record(LogEvent.RUN_INFO, stats={**DEMO_PLAN, "total": 52}))
    for jobid, (rule, seconds) in enumerate(DEMO_FIRST_NINE, start=1):
        _run_job(p, clock, jobid, rule, seconds)  # one after the other: the estimate assumes no more than one at a time
    table = EXPECTED_SECONDS["demo"]
    # the fifteen folds and the MTLNet job alone at this machine's measured speed
    training = (15 * table["train"] + table["mtlnet"]) * p.speed()
    assert p.remaining() > training > 10 * 60  # the fifteen folds and MTLNet are still ahead: never the ~2 min of issue 26
    assert re.search(r"\[9/52 jobs · \d+ min elapsed · ~(\d+ min|\d h \d\d min) left\]$", _lines(out)[-1])


def test_a_tiny_stage_does_not_read_as_a_slow_machine(tmp_path):
    # a 0.2 s split takes 10 s as a job (starting Python): it must not scale the training 50 times
    p, out, clock = _progress(tmp_path, priors={"cohort": 60, "split": 0.2, "train": 300}, cores=1)
    handle_event(p, _record(LogEvent.RUN_INFO, stats={"cohort": 1, "split": 1, "train_fold": 2, "total": 4}))
    _run_job(p, clock, 1, "split", 10)
    assert p.speed() == 1.0
    _run_job(p, clock, 2, "cohort", 90)
    assert p.speed() == pytest.approx(1.5)
    assert p.remaining() == pytest.approx(2 * 300 * 1.5)


def test_without_expected_costs_a_stage_with_no_time_says_estimating_until_a_job_of_it_ends(tmp_path):
    p, out, clock = _progress(tmp_path, priors={}, cores=1)
    handle_event(p, _record(LogEvent.RUN_INFO, stats={"cohort": 1, "train_fold": 3, "total": 4}))
    _run_job(p, clock, 1, "cohort", 30)
    assert _lines(out)[-1].endswith("[1/4 jobs · 30 s elapsed · estimating…]")  # not 3 x 30 s
    _run_job(p, clock, 2, "train_fold", 200, model="resnet3d", fold=0)
    assert _lines(out)[-1].endswith(f"[2/4 jobs · {format_duration(230)} elapsed · ~{format_duration(2 * 200)} left]")


def test_a_chapter_with_no_time_takes_the_median_of_the_chapters_that_have_one(tmp_path):
    p, out, clock = _progress(tmp_path, previous={"chapter-01_cohort": 20, "chapter-02_clinical": 40, "chapter-03_deep_models": 90}, priors={}, cores=1)
    handle_event(p, _record(LogEvent.RUN_INFO, stats={"chapter_08_new": 1, "total": 1}))
    assert p.expected("chapter_08_new") == pytest.approx(40)


def test_the_profiles_expected_costs_come_from_the_folder_name_and_cover_the_heavy_stages(tmp_path):
    rules = {m for f in (ROOT / "workflow").rglob("*.smk") for m in re.findall(r"^rule (\w+):", f.read_text(), re.MULTILINE)}
    chapters, appendix = load_chapters(ROOT / "workflow" / "chapters.yaml")
    stages = {stage_key(r) for r in rules} | {stage_key(f"chapter_{c.name}") for c in chapters} | {"claims"}
    for profile in ("smoke", "demo"):
        table = EXPECTED_SECONDS[profile]
        assert {"cohort", "preprocess", "train", "mtlnet", "explain", "book"} <= set(table), profile
        assert set(table) <= stages, f"{profile}: stages the workflow no longer has: {set(table) - stages}"
        assert all(v > 0 for v in table.values())
        p, _, _ = _progress(tmp_path / profile, folder=profile)
        assert p.priors == table
        # one training fold costs more than a cohort split: the expected costs keep the order of a real build
        assert table["train"] > table["split"]


def test_epochs_written_into_a_job_log_are_relayed_sparingly_without_a_terminal(tmp_path):
    p, out, clock = _progress(tmp_path)
    log = tmp_path / "results" / "logs" / "train-li2025-resnet3d-fold0.log"
    log.write_text("[ecrs] train-li2025-resnet3d-fold0: started\n", encoding="utf-8")
    handle_event(p, _record(LogEvent.RUN_INFO, stats={"train_fold": 1, "total": 1}))
    handle_event(p, _record(LogEvent.JOB_INFO, jobid=7, rule_name="train_fold", log=[str(log)], wildcards={}))
    with log.open("a", encoding="utf-8") as fh:
        fh.write("epoch 1/3:  50%|##   | 1/2 [00:01<00:01]\r[ecrs] epoch 1/3 · loss 0.693 · val_auc 0.550 · 1.0 s\n")
    p.poll()
    clock.t += 10
    with log.open("a", encoding="utf-8") as fh:
        fh.write("[ecrs] epoch 2/3 · loss 0.650 · val_auc 0.600 · 1.0 s\n[ecrs] epoch 3/3 · loss 0.6")  # a half-written line
    p.poll()  # within 30 s of the last relayed epoch: not shown
    clock.t += 40
    with log.open("a", encoding="utf-8") as fh:
        fh.write("01 · val_auc 0.700 · 1.0 s\n")
    handle_event(p, _record(LogEvent.JOB_FINISHED, job_id=7))
    relayed = [ln for ln in _lines(out) if ": epoch " in ln]
    assert relayed == [
        "[ecrs]        train-li2025-resnet3d-fold0: epoch 1/3 · loss 0.693 · val_auc 0.550 · 1.0 s",
        "[ecrs]        train-li2025-resnet3d-fold0: epoch 3/3 · loss 0.601 · val_auc 0.700 · 1.0 s",
    ]


def test_a_failed_job_shows_its_log_tail_path_and_what_to_do(tmp_path):
    p, out, clock = _progress(tmp_path)
    log = tmp_path / "results" / "logs" / "chapter-02_clinical.log"
    log.write_text("".join(f"line {i}\n" for i in range(40)) + "\x1b[31mValueError: boom\x1b[0m\n[ecrs] chapter-02_clinical failed: ValueError: boom\n")
    handle_event(p, _record(LogEvent.RUN_INFO, stats={"chapter_02_clinical": 1, "total": 1}))
    handle_event(p, _record(LogEvent.JOB_INFO, jobid=2, rule_name="chapter_02_clinical", log=[str(log)], wildcards={}))
    clock.t += 14
    handle_event(p, _record(LogEvent.JOB_ERROR, jobid=2, rule_name="chapter_02_clinical", log=[str(log)]))
    text = out.getvalue()
    assert "[ecrs] FAILED chapter-02_clinical after 14 s  [0/1 jobs · 14 s elapsed]" in text
    assert f"last lines of {log}:" in text
    assert "         | ValueError: boom\n" in text and "line 39" in text and "line 27" not in text  # the last 12 lines, cleaned
    assert "what to do:" in text and "failed" in text.split("what to do:")[1] and "run the same command again" in text
    assert "\x1b" not in text


def test_the_end_table_lists_stages_times_and_the_book(tmp_path):
    p, out, clock = _progress(tmp_path)
    handle_event(p, _record(LogEvent.RUN_INFO, stats={"train_fold": 2, "book": 1, "total": 3}))
    for jobid, rule in ((1, "train_fold"), (2, "train_fold")):
        handle_event(p, _record(LogEvent.JOB_INFO, jobid=jobid, rule_name=rule, log=[], wildcards={"fold": jobid}))
    clock.t += 100
    handle_event(p, _record(LogEvent.JOB_FINISHED, job_id=1))
    clock.t += 20
    handle_event(p, _record(LogEvent.JOB_FINISHED, job_id=2))
    handle_event(p, _record(LogEvent.JOB_INFO, jobid=3, rule_name="book", log=[], wildcards={}))
    clock.t += 30
    handle_event(p, _record(LogEvent.JOB_FINISHED, job_id=3))
    rows = p.stage_times()
    assert [(r["stage"], r["jobs"], r["seconds"], r["longest"], r["wall"]) for r in rows] == [("train_fold", 2, 220.0, 120.0, 120.0), ("book", 1, 30.0, 30.0, 30.0)]
    text = summary_text({"stage_times": rows, "executed_jobs": ["a", "b", "c"], "elapsed_s": 150, "published": "/x/_build/html/index.html"})
    assert re.search(r"train_fold\s+2\s+2 min\s+4 min\s+2 min", text)
    assert "[ecrs] done: 3 job(s) ran in 2 min" in text and text.endswith("[ecrs] book at /x/_build/html/index.html")
    assert summary_text({"executed_jobs": []}) == "[ecrs] done: 0 job(s) ran (nothing had changed)"


def test_snakemake_instantiates_the_plugin_as_its_only_terminal_output(tmp_path):
    from snakemake.logging import LoggerManager
    from snakemake.settings.types import OutputSettings

    p, out, clock = _progress(tmp_path)
    lg = logging.getLogger("ecrs-test-snakemake")
    manager = LoggerManager(lg, OutputSettings(**p.output_settings()))
    try:
        assert [type(h).__name__ for h in manager.get_log_handlers()] == ["LogHandler"]
        assert not [h for h in lg.handlers if getattr(h, "name", "") == "DefaultStreamHandler"]
        lg.info("stats", extra={"event": LogEvent.RUN_INFO, "stats": {"x": 1, "total": 1}})
    finally:
        manager.stop()
    assert _lines(out) and _lines(out)[0].startswith("[ecrs] 1 job(s) to run")


def test_a_display_error_never_stops_the_run(tmp_path, monkeypatch):
    p, out, clock = _progress(tmp_path)
    monkeypatch.setattr(p, "plan", lambda stats: 1 / 0)
    handler = LogHandler(None, LogHandlerSettings(progress=p))
    monkeypatch.setattr(handler, "handleError", lambda record: None)
    handler.emit(_record(LogEvent.RUN_INFO, stats={}))  # no exception


def test_a_failed_job_without_a_log_says_so(tmp_path):
    p, out, clock = _progress(tmp_path)
    missing = tmp_path / "results" / "logs" / "train-li2025-resnet3d-fold0.log"
    handle_event(p, _record(LogEvent.JOB_ERROR, jobid=9, rule_name="train_fold", log=[str(missing)]))
    text = out.getvalue()
    assert "[ecrs] FAILED train-li2025-resnet3d-fold0 after 0 s" in text and "is empty or missing" in text and "| " not in text
    assert "ran out of memory" in text  # the training jobs' advice


def test_a_finished_run_leaves_no_handler_on_snakemakes_global_logger(tmp_path):
    # Snakemake's logger outlives a run: a second run in the same process (a test session, a notebook)
    # once wrote through the first run's handler into its closed terminal stream.
    p, out, clock = _progress(tmp_path)
    logger = logging.getLogger("ecrs-test-snakemake")
    p.attach(logger)
    handler = LogHandler(None, LogHandlerSettings(progress=p))
    logger.addHandler(handler)
    p.detach(logger)
    assert handler not in logger.handlers and p.detached
    handler.emit(_record(LogEvent.RUN_INFO, stats={"cohort": 1, "total": 1}))  # a stray event: ignored, no error
    assert "cohort" not in out.getvalue()
