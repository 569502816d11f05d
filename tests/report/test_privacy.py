import json
from types import SimpleNamespace

import pandas as pd

from ecrs_analysis.report.privacy import find_identifiers, identifiers_of, scrub_notebook, scrub_text, unverifiable


def test_identifiers_are_found_as_whole_tokens_only(tmp_path):
    (tmp_path / "a.html").write_text("<p>patient MRN123456 had eCRS</p>", encoding="utf-8")
    (tmp_path / "b.html").write_text("<p>MRN1234567 is another number; XMRN123456 too</p>", encoding="utf-8")
    (tmp_path / "img.png").write_bytes(b"MRN123456")  # binary files are not text pages
    assert find_identifiers(tmp_path, ["MRN123456"]) == {"a.html": ["MRN123456"]}


def test_numeric_ids_are_not_found_inside_other_numbers(tmp_path):
    (tmp_path / "a.html").write_text("<td>12345</td><td>0.1234</td><td>1,234</td><td>AUC 0.81234</td>", encoding="utf-8")
    assert find_identifiers(tmp_path, ["1234", "234"]) == {}
    (tmp_path / "b.html").write_text("<td>1234</td> and images/1234_ct.nii.gz", encoding="utf-8")
    assert find_identifiers(tmp_path, ["1234"]) == {"b.html": ["1234"]}


def test_short_identifiers_are_not_searched(tmp_path):
    (tmp_path / "a.html").write_text("<td>17</td>", encoding="utf-8")
    assert find_identifiers(tmp_path, ["17"]) == {}
    assert find_identifiers(tmp_path, []) == {}


def test_the_books_own_prose_numbers_are_not_false_hits(tmp_path):
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    (root / "book" / "intro.md").write_text("Li et al. 2025: 1098 patients from two hospitals.", encoding="utf-8")
    html = tmp_path / "html"
    (html / "_static").mkdir(parents=True)
    (html / "intro.html").write_text("<p>Li et al. 2025: 1098 patients</p><p>patient 4711 leaked</p>", encoding="utf-8")
    (html / "_static" / "theme.js").write_text("var x = 4711;", encoding="utf-8")  # theme assets are not pages
    ids = ["1098", "2025", "4711"]
    assert find_identifiers(html, ids) == {"intro.html": ["1098", "2025", "4711"]}  # without the book's own text
    assert find_identifiers(html, ids, book_root=root) == {"intro.html": ["4711"]}
    assert unverifiable(ids, root) == {"1098", "2025"}


def test_identifiers_of_a_cohort_cover_ids_identifying_columns_and_scan_dates():
    table = pd.DataFrame({"patient_id": ["P0001", "P0002"], "scan_date": pd.to_datetime(["2021-03-04", "2022-11-30"]), "label": [0, 1]})
    cohort = SimpleNamespace(table=table, identifiers=frozenset({"P0001", "Doe, Jane", "1957-02-01"}))
    assert identifiers_of(cohort) == {"P0001", "P0002", "2021-03-04", "2022-11-30", "Doe, Jane", "1957-02-01"}


def test_identifying_columns_of_a_real_manifest_reach_the_identifiers(tmp_path, tiny_cohort):
    from ecrs_analysis.data.manifest import validate_manifest

    m = pd.read_csv(tiny_cohort / "manifest.csv", dtype=str)
    m.insert(1, "MRN", [f"{9000100 + i}" for i in range(len(m))])
    m.insert(2, "date of birth", ["1960-05-0" + str(1 + i % 9) for i in range(len(m))])
    m["image"] = [str(tiny_cohort / p) for p in m["image"]]
    m["roi_mask"] = [str(tiny_cohort / p) for p in m["roi_mask"]]
    m["sinus_mask"] = [str(tiny_cohort / p) for p in m["sinus_mask"]]
    m.to_csv(tmp_path / "manifest.csv", index=False)
    cohort = validate_manifest(tmp_path / "manifest.csv", check_images=False)
    ids = identifiers_of(cohort)
    assert "9000100" in ids and "1960-05-01" in ids and m["patient_id"][0] in ids and m["scan_date"][0] in ids
    assert "MRN" not in cohort.table and "date of birth" not in cohort.table


def test_scrub_removes_ids_from_outputs_and_errors_only(tmp_path):
    nb = {
        "cells": [
            {"cell_type": "code", "source": "x = 1  # LI0042 in a comment stays: sources are ours", "outputs": [
                {"output_type": "stream", "name": "stdout", "text": ["row LI0042 and 2021-03-04\n"]},
                {"output_type": "error", "ename": "KeyError", "evalue": "'LI0042'", "traceback": ["KeyError: 'LI0042' (LI00421 is another)"]},
                {"output_type": "display_data", "data": {"text/html": "<td>LI0042</td>", "text/plain": "LI0042"}, "metadata": {}},
            ]},
        ],
        "metadata": {"papermill": {"exception": True}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    p = tmp_path / "failed.ipynb"
    p.write_text(json.dumps(nb), encoding="utf-8")
    assert scrub_notebook(p, {"LI0042", "2021-03-04"}) == 6
    out = json.loads(p.read_text(encoding="utf-8"))
    text = json.dumps(out["cells"][0]["outputs"])
    assert "LI0042'" not in text and "2021-03-04" not in text and "LI00421" in text and "[redacted]" in text
    assert "LI0042" in out["cells"][0]["source"]
    assert scrub_text("id LI0042.", ["LI0042"]) == ("id [redacted].", 1)


def test_the_prefix_tree_pattern_finds_what_a_plain_alternation_finds():
    """Reference: the plain ``a|b|c`` alternation, longest first (what the prefix tree replaced for speed)."""
    import random
    import re

    from ecrs_analysis.report.privacy import identifier_pattern

    def alternation(ids):
        body = "|".join(re.escape(i) for i in sorted(set(ids), key=len, reverse=True))
        return re.compile(r"(?<![A-Za-z0-9])(?<![0-9][.,])(" + body + r")(?![A-Za-z0-9])(?![.,][0-9])")

    rng = random.Random(7)
    for _ in range(400):  # small alphabets: many shared prefixes, ids inside ids, boundaries of every kind
        ids = {"".join(rng.choice("12aB-., ") for _ in range(rng.randint(1, 6))).strip() for _ in range(rng.randint(1, 15))} - {""}
        if not ids:
            continue
        text = "".join(rng.choice("12aB-., x") for _ in range(400))
        assert identifier_pattern(ids).findall(text) == alternation(ids).findall(text), (sorted(ids), text)
