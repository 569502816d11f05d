"""Reading hospital exports: encodings, separators, Excel, empty rows; rows numbered as in a spreadsheet."""

import datetime as dt

import pytest

from ecrs_analysis.data.tables import TableReadError, read_table

TEXT = "patient_id;age;note\nP1;41,5;\u00e9t\u00e9\n\nP2;38;ok\n"


@pytest.mark.parametrize("encoding, name", [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with byte-order mark"), ("cp1252", "Windows-1252"), ("utf-16", "UTF-16")])
def test_encodings_and_semicolons(tmp_path, encoding, name):
    p = tmp_path / "m.csv"
    p.write_bytes(TEXT.encode(encoding))
    t = read_table(p)
    assert t.header == ("patient_id", "age", "note") and t.source == f"CSV, {name}, separator ';'"
    assert t.cells[2].tolist() == ["\u00e9t\u00e9", "ok"] and t.decimal_comma
    assert t.rows == (2, 4) and t.notes == ("1 empty row(s) ignored (row 3)",)


def test_blank_lines_above_the_header_keep_spreadsheet_row_numbers(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("\n\na,b\n1,2\n", encoding="utf-8")
    assert read_table(p).rows == (4,)


def test_xlsx_dates_numbers_and_empty_rows(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["patient_id", "scan_date", "label"])
    wb.active.append([1017, dt.datetime(2021, 3, 4), 1])
    wb.active.append([None, None, None])
    wb.create_sheet("notes").append(["x"])
    wb.create_sheet("more").append(["a"])
    wb["more"].append(["b"])
    wb.save(tmp_path / "m.xlsx")
    t = read_table(tmp_path / "m.xlsx")
    assert t.cells.values.tolist() == [["1017", "2021-03-04", "1"]]
    assert "1 empty row(s) ignored (row 3)" in t.notes and any("other worksheet(s) ignored: more" in n for n in t.notes)


def test_header_names_are_kept_as_written_even_when_repeated(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text(" Age,age,\n1,2,\n", encoding="utf-8")
    assert read_table(p).header == (" Age", "age")


def test_undecodable_bytes_say_how_to_save(tmp_path):
    p = tmp_path / "m.csv"
    p.write_bytes(b"a,b\n\x81\x8d,1\n")
    with pytest.raises(TableReadError, match="CSV UTF-8"):
        read_table(p)
