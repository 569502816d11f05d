"""CLAIM 2024: answered from the run, section by section; what the run cannot answer says so."""

import re

from ecrs_analysis.report import checklist
from ecrs_analysis.report.claim import SECTIONS, claim_items
from .test_checklist import ROOT, _facts, _source_labels


def _items(**extra):
    return claim_items({**_facts(), "labels": _source_labels(), **extra})


def test_the_topics_the_issue_names_are_answered_in_claims_order():
    items = _items()
    assert list(dict.fromkeys(items["section"])) == [s for s in SECTIONS if s in set(items["section"])]
    topics = " / ".join(items["section"] + ": " + items["topic"]).lower()
    for needed in ("data sources", "preprocessing", "reference standard: definition", "annotation", "data partitions", "model: description",
                   "training: approach", "evaluation: metrics", "robustness", "failure analysis", "code and data availability"):
        assert needed in topics, needed


def test_answers_carry_the_run_facts():
    items = _items().set_index("topic")
    assert "training 59 (29 eCRS); internal test 26 (13 eCRS); external test 35 (16 eCRS)" in items.loc["Sample size (Li 2025)", "answer"]
    assert "{'C': 1.0, 'kernel': 'rbf'}" in items.loc["Selection of the final model", "answer"]
    assert "11 values missing in 2 of 3 clinical columns" in items.loc["Missing data (Li 2025)", "answer"]
    seed = _facts()["params"]["seed"]
    assert f"seed {seed}" in items.loc["Initialisation", "answer"]
    mt = _facts()["params"]["studies"]["mtlnet2025"]
    crop = checklist.crop_text(mt["preprocess"], masks=mt["masks"], target=_facts()["params"]["mtlnet"]["mask"])
    assert f"MTLNet: resampled to {mt['preprocess']['spacing_mm']} mm" in items.loc["Preprocessing", "answer"] and crop in items.loc["Preprocessing", "answer"]
    assert ("ground-truth" in crop) == (mt["preprocess"]["crop_to"] in mt["masks"])


def test_what_the_run_cannot_answer_says_so_and_links_nothing():
    items = _items(labels=_source_labels() - set(checklist.CALIBRATION_LABELS))  # a book whose chapters show no calibration
    unanswered = items[items["answer"].str.contains("not reported|cannot be answered", case=False)]
    assert {"Inter- and intrarater variability", "Funding"} <= set(unanswered["topic"])
    metrics = items.set_index("topic").loc["Metrics"]
    assert "calibration and decision curves of the integrated model and MTLNet: not reported" in metrics.answer and "calibration" not in metrics["where"]
    linked = _items(labels=_source_labels() | set(checklist.CALIBRATION_LABELS)).set_index("topic").loc["Metrics"]
    assert "{ref}`integrated-calibration`" in linked["where"] and "not reported" not in linked.answer


def test_every_row_links_an_exhibit_or_says_why_not():
    items = _items()
    bare = items[items["where"] == ""]
    ok = re.compile(r"not reported|cannot be answered|none claimed|not registered|reference standard of both", re.I)
    assert all(ok.search(a) for a in bare["answer"]), bare[~bare["answer"].map(lambda a: bool(ok.search(a)))]["topic"].tolist()
    md = checklist.as_markdown(items, key="section")
    assert md.splitlines()[0].startswith("| section | topic |") and md.count("\n") == len(items) + 1
    assert (ROOT / "notebooks" / "97_claim.ipynb").exists()
