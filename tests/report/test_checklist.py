"""The TRIPOD+AI checklist: answers come from the run's facts, and every link points at a page or label that exists."""

import json
import re
from pathlib import Path

import pandas as pd

from ecrs_analysis.report import checklist
from ecrs_analysis.config.params import load_params
from ecrs_analysis.pipeline.workflow import load_chapters

ROOT = Path(__file__).resolve().parents[2]


def _facts():
    li = checklist.StudyFacts(
        name="li2025", synthetic=True, n=120,
        per_set=pd.DataFrame({"patients": [59, 26, 35], "cases": [29, 13, 16]}, index=pd.Index(["train", "internal_test", "external_test"], name="set")),
        centres=pd.Series({"hospital_A": 85, "hospital_B": 35}), first_scan="2016-01-02", last_scan="2020-12-30",
        clinical_columns=("age", "total_ige", "blood_eos_count"), missing=pd.Series({"total_ige": 4, "blood_eos_count": 7}), split_mode="center",
    )
    return {"studies": {"li2025": li}, "integrated": {"best_params": {"C": 1.0, "kernel": "rbf"}, "cv_auc": 0.8123}, "params": load_params("smoke")}


def test_answers_carry_the_run_facts():
    items = checklist.tripod_ai_items(_facts()).set_index(["item", "topic"])
    answer = items["answer"]
    assert "training 59 (29 eCRS); internal test 26 (13 eCRS); external test 35 (16 eCRS)" in answer[("10", "Sample size (Li 2025)")]
    # the precision of each evaluation set (Riley et al. 2021), from its size and prevalence
    from ecrs_analysis.stats.samplesize import minimum_sample_size, validation_precision

    ext = validation_precision(35, 16 / 35, c_statistic=0.8)
    need = minimum_sample_size(16 / 35, c_statistic=0.8)
    assert (f"external test: expected 95% CI width {ext.c_ci_width:.2f} for the AUC and {ext.slope_ci_width:.2f} for the calibration slope "
            f"(widths 0.1 and 0.2 need {need.c_statistic:,} and {need.calibration_slope:,} patients") in answer[("10", "Sample size (Li 2025)")]
    assert "training: expected" not in answer[("10", "Sample size (Li 2025)")]
    assert answer[("11", "Missing data (Li 2025)")].startswith("11 values missing in 2 of 3 clinical columns (most: blood_eos_count 7, total_ige 4)")
    assert "{'C': 1.0, 'kernel': 'rbf'} (CV AUC 0.812)" in answer[("12c", "Model type, building, hyperparameter tuning")]
    assert "hospital_A: 85 patients; hospital_B: 35 patients" in answer[("6a", "Setting, centres (Li 2025)")]
    assert f"({load_params('smoke')['stats']['n_resamples']} resamples)" in answer[("12e", "Performance measures")]
    assert "no ethics approval" in answer[("17", "Ethical approval")]
    assert answer[("13", "Class imbalance")].startswith("eCRS share per set: training 49%; internal test 50%; external test 46%")
    assert "class-balanced loss weights" in answer[("13", "Class imbalance")]
    assert answer[("20a", "Flow of participants")].startswith("Li 2025: training 59 (29 eCRS)")
    md = checklist.as_markdown(items.reset_index())
    assert md.count("\n") == len(items) + 1 and all(ln.count(" | ") == 3 for ln in md.splitlines()[2:])


def test_every_link_of_the_checklist_resolves_to_a_page_or_label_of_the_book():
    chapters, appendix = load_chapters(ROOT / "workflow" / "chapters.yaml")
    pages = {c.name for c in chapters} | {appendix} | {f"../{p.stem}" for p in (ROOT / "book").glob("*.md")}
    labels = set()
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                labels |= set(re.findall(r"^\(([\w-]+)\)=", "".join(cell["source"]), flags=re.M))
    for md in (ROOT / "book").glob("*.md"):
        labels |= set(re.findall(r"^\(([\w-]+)\)=", md.read_text(encoding="utf-8"), flags=re.M))
    where = checklist.tripod_ai_items(_facts())["where"]
    docs = [d for w in where for d in re.findall(r"\{doc\}`([^`]+)`", w)]
    refs = [r for w in where for r in re.findall(r"\{ref\}`([^`]+)`", w)]
    assert docs and refs
    assert set(docs) <= pages, set(docs) - pages
    assert set(refs) <= labels, set(refs) - labels


# The item numbers of TRIPOD+AI (Collins et al., BMJ 2024;385:e078378, Table 1), typed from the published checklist.
TRIPOD_AI_ITEMS = {
    "1", "2", "3a", "3b", "3c", "4", "5a", "5b", "6a", "6b", "6c", "7", "8a", "8b", "8c", "9a", "9b", "9c", "10", "11",
    "12a", "12b", "12c", "12d", "12e", "12f", "12g", "13", "14", "15", "16", "17", "18a", "18b", "18c", "18d", "18e", "18f",
    "19", "20a", "20b", "20c", "21", "22", "23a", "23b", "24", "25", "26", "27a", "27b", "27c",
}


def test_every_row_is_an_item_of_the_published_checklist_and_blinding_is_8c():
    items = checklist.tripod_ai_items(_facts())
    numbers = {n for item in items["item"] for n in item.split("–")}
    assert numbers <= TRIPOD_AI_ITEMS, numbers - TRIPOD_AI_ITEMS
    topic = dict(zip(items["item"], items["topic"]))
    assert "Blind" in topic["8c"] and "assessor" in topic["8b"].lower() and "clusters" in topic["23b"]
    assert {"18c", "18e", "18f"} <= set(items["item"])
