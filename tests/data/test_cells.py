"""Reading one cell: dates that only one reading makes a date, missing markers, labels in words."""

import datetime as dt

import pytest
import yaml
from openpyxl.utils.datetime import from_excel

from ecrs_analysis.data.cells import MISSING_MARKERS, is_missing, label_mapping_hint, missing_marker, parse_date


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2021-03-04", dt.date(2021, 3, 4)),
        ("2021-03-04 10:15", dt.date(2021, 3, 4)),
        ("2021-03-04T10:15:30.5", dt.date(2021, 3, 4)),
        ("2021-3-4", dt.date(2021, 3, 4)),
        ("20210304", dt.date(2021, 3, 4)),          # DICOM StudyDate
        ("2021/03/04", dt.date(2021, 3, 4)),
        ("2021.03.04", dt.date(2021, 3, 4)),
        ("25/03/2021", dt.date(2021, 3, 25)),       # day first: 25 cannot be a month
        ("03/25/2021", dt.date(2021, 3, 25)),       # month first: 25 cannot be a month
        ("03/03/2021", dt.date(2021, 3, 3)),        # both readings are the same day
        (" 2019-12-31 ", dt.date(2019, 12, 31)),
    ],
)
def test_unambiguous_dates_are_read(text, expected):
    r = parse_date(text)
    assert r.problem is None and r.value.date() == expected


@pytest.mark.parametrize("serial", [18264, 40000, 44259, 45500, 73051])
def test_excel_serials_match_openpyxl(serial):
    assert parse_date(str(serial)).value.date() == from_excel(serial).date()
    assert parse_date(f"{serial}.25").value.date() == from_excel(serial + 0.25).date()


@pytest.mark.parametrize(
    "text, words",
    [
        ("03/04/2021", ("could be 2021-03-04 or 2021-04-03", "YYYY-MM-DD")),
        ("04.03.2021", ("could be 2021-03-04 or 2021-04-03",)),
        ("3/4/21", ("two-digit year", "2021")),
        ("2021-02-30", ("not a calendar date",)),
        ("31/31/2021", ("not a calendar date",)),
        ("12345", ("outside the range of Excel dates",)),
        ("yesterday", ("is not a date", "YYYY-MM-DD")),
    ],
)
def test_ambiguous_or_wrong_dates_are_refused_with_the_fix(text, words):
    r = parse_date(text)
    assert r.value is None
    for w in words:
        assert w in r.problem


def test_serials_are_not_dates_outside_a_date_column():
    assert parse_date("44259", excel_serials=False).value is None


@pytest.mark.parametrize("marker", ["", "NA", "N/A", "n/a", "#N/A", "-", ".", "#DIV/0!", "NaN", "null", "  na  "])
def test_spreadsheet_missing_markers(marker):
    assert is_missing(marker)
    assert missing_marker(marker) == (marker.strip() or "empty")


@pytest.mark.parametrize("value", ["0", "-1", "-0.5", "none of them", "n.a.x", "--"])
def test_values_are_not_missing(value):
    assert not is_missing(value)


def test_every_listed_marker_is_lower_case():
    assert all(m == m.casefold() for m in MISSING_MARKERS)


@pytest.mark.parametrize(
    "values, mapping",
    [
        (["TRUE", "FALSE", "TRUE"], {"TRUE": 1, "FALSE": 0}),
        (["yes", "no"], {"yes": 1, "no": 0}),
        (["eCRS", "non-eCRS"], {"eCRS": 1, "non-eCRS": 0}),
        (["Yes"], {"Yes": 1, "no": 0}),
    ],
)
def test_label_hint_is_a_dictionary_entry_that_parses(values, mapping):
    hint = label_mapping_hint("Endotype", values, dictionary_name="m.dictionary.yaml")
    entry = yaml.safe_load(hint.split("m.dictionary.yaml: ", 1)[1])
    assert entry == {"Endotype": {"role": "label", "values": mapping}}


def test_no_hint_for_words_that_are_no_known_pair():
    assert label_mapping_hint("label", ["positive", "negative"], dictionary_name="x") is None
    assert label_mapping_hint("label", ["2"], dictionary_name="x") is None
