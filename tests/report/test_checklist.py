"""The TRIPOD+AI checklist: answers come from the run's facts, and every link points at a page or label that exists."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

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


# --- every answer points at an exhibit that exists (issue 24) -------------------------------------------------

def _source_labels():
    """The labels the committed notebooks and book pages declare: what a build of this checkout can link."""
    return checklist.declared_labels(sorted((ROOT / "notebooks").glob("*.ipynb")))


def _links(where):
    docs = [d for w in where for d in re.findall(r"\{doc\}`([^`]+)`", w)]
    refs = [r for w in where for r in re.findall(r"\{ref\}`([^`]+)`", w)]
    return docs, refs


def test_declared_labels_reads_notebook_cells_and_book_pages():
    labels = _source_labels()
    assert {"integrated-performance", "clinical-missing", "checklist-subgroups", "synthetic-limits"} <= labels
    # a label in a code cell or mid-line is no MyST target
    assert not any(" " in label for label in labels)


def test_every_ref_of_both_checklists_is_a_label_a_chapter_declares():
    from ecrs_analysis.report.claim import claim_items

    chapters, appendix = load_chapters(ROOT / "workflow" / "chapters.yaml")
    pages = {c.name for c in chapters} | {appendix} | {f"../{p.stem}" for p in (ROOT / "book").glob("*.md")}
    facts = {**_facts(), "labels": _source_labels()}  # with labels, the builders themselves refuse an undeclared one
    for items in (checklist.tripod_ai_items(facts), claim_items(facts)):
        docs, refs = _links(items["where"])
        assert set(docs) <= pages, set(docs) - pages
        assert set(refs) <= facts["labels"], set(refs) - facts["labels"]


def test_a_link_to_an_undeclared_label_is_an_error_naming_it():
    facts = {**_facts(), "labels": _source_labels() - {"clinical-missing"}}
    with pytest.raises(ValueError, match="clinical-missing"):
        checklist.tripod_ai_items(facts)


def test_12e_claims_calibration_only_where_a_calibration_exhibit_exists():
    base = _source_labels() - set(checklist.CALIBRATION_LABELS)
    row = lambda labels: checklist.tripod_ai_items({**_facts(), "labels": labels}).set_index("item").loc["12e"]  # noqa: E731
    none = row(base)
    assert "calibration and decision curves of the integrated model and MTLNet: not reported" in none.answer
    assert "calibration" not in none["where"]
    both = row(base | set(checklist.CALIBRATION_LABELS))
    assert "not reported" not in both.answer and "{ref}`integrated-calibration`" in both["where"] and "{ref}`mtlnet-calibration`" in both["where"]
    one = row(base | {"integrated-calibration"})
    assert "decision curves of the integrated model" in one.answer and "of the MTLNet: not reported" in one.answer
    assert "integrated-calibration" in one["where"] and "mtlnet-calibration" not in one["where"]


def test_12g_says_which_training_predictions_are_in_sample():
    answer = checklist.tripod_ai_items(_facts()).set_index("item").loc["12g", "answer"]
    assert "only the CNN scores are out-of-fold" in answer
    assert "the SVM's, the clinical signature's and MTLNet's training predictions are in-sample" in answer


def test_item_7_words_each_studys_crop_from_its_parameters():
    facts = _facts()
    answer = checklist.tripod_ai_items(facts).set_index("item").loc["7", "answer"]
    mtl = facts["params"]["studies"]["mtlnet2025"]["preprocess"]["crop_to"]
    assert "MTLNet:" in answer and "Li 2025:" in answer
    assert checklist.crop_text(facts["params"]["studies"]["mtlnet2025"]["preprocess"], masks=facts["params"]["studies"]["mtlnet2025"]["masks"],
                               target=facts["params"]["mtlnet"]["mask"]) in answer
    assert f"`{mtl}`" in answer
    # the wording follows the value: a ground-truth mask, the segmentation target, no crop, a crop from the image
    pp = {"crop_to": "sinus_mask", "margin_mm": 6}
    assert "ground-truth `sinus_mask`" in checklist.crop_text(pp, masks=["sinus_mask", "roi_mask"], target="sinus_mask")
    assert "oracle crop" in checklist.crop_text(pp, masks=["sinus_mask", "roi_mask"], target="sinus_mask")
    assert "oracle" not in checklist.crop_text({"crop_to": "roi_mask", "margin_mm": 6}, masks=["sinus_mask", "roi_mask"], target="sinus_mask")
    assert checklist.crop_text({"crop_to": None}, masks=["sinus_mask"]) == "not cropped (the whole head)"
    head = checklist.crop_text({"crop_to": "head_box", "head_box": [[0.2, 0.3, 0.4], [0.8, 0.9, 0.7]]}, masks=["sinus_mask"], target="sinus_mask")
    assert "ground-truth" not in head and "no mask" in head and "[[0.2, 0.3, 0.4], [0.8, 0.9, 0.7]]" in head
    assert "ground-truth" not in checklist.crop_text({"crop_to": "other_box"}, masks=["sinus_mask"], target="sinus_mask")
