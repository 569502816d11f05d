from ecrs_analysis.book.privacy import find_identifiers


def test_identifiers_are_found_as_whole_tokens_only(tmp_path):
    (tmp_path / "a.html").write_text("<p>patient MRN123456 had eCRS</p>")
    (tmp_path / "b.html").write_text("<p>MRN1234567 is another number; XMRN123456 too</p>")
    (tmp_path / "img.png").write_bytes(b"MRN123456")  # binary files are not text pages
    assert find_identifiers(tmp_path, ["MRN123456"]) == {"a.html": ["MRN123456"]}


def test_short_identifiers_are_not_searched(tmp_path):
    (tmp_path / "a.html").write_text("<td>17</td>")
    assert find_identifiers(tmp_path, ["17"]) == {}
    assert find_identifiers(tmp_path, []) == {}
