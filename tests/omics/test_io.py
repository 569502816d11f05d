"""Reading MaxQuant and matrix files: the real reference file, and every validation error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.omics.io import ProteomicsInputError, load_proteomics


def test_real_maxquant_file_is_read_with_flags_genes_and_samples(maxquant: tuple[Path, Path]) -> None:
    pg, meta = maxquant
    data = load_proteomics(pg, meta)
    raw = pd.read_csv(pg, sep="\t", low_memory=False)
    assert data.intensities.shape == (len(raw), 48)
    assert list(data.samples.index) == [c.removeprefix("LFQ intensity ") for c in raw.columns if c.startswith("LFQ intensity ")]
    assert int(data.proteins["reverse"].sum()) == int((raw["Reverse"] == "+").sum())
    assert int(data.proteins["contaminant"].sum()) == int((raw["Potential contaminant"] == "+").sum())
    # first gene of "A;B" entries, and intensities untouched (zeros stay zeros).
    i = int(np.flatnonzero(raw["Gene names"].fillna("").str.contains(";"))[0])
    assert data.proteins["gene"].iloc[i] == raw["Gene names"].iloc[i].split(";")[0]
    col = raw.columns[raw.columns.str.startswith("LFQ intensity ")][0]
    np.testing.assert_array_equal(data.intensities.iloc[:, 0].to_numpy(), raw[col].to_numpy(dtype=float))
    assert set(data.samples["disease"]) == {"healthy", "liver cirrhosis", "non-alcoholic fatty liver disease", "type 2 diabetes mellitus", "type 2 diabetes mellitus|non-alcoholic fatty liver disease"}


def _matrix(tmp: Path, text: str, sheet: str, name: str = "m.csv") -> tuple[Path, Path]:
    (tmp / name).write_text(text)
    (tmp / "sheet.csv").write_text(sheet)
    return tmp / name, tmp / "sheet.csv"


GOOD = "protein,gene,s1,s2,s3\nP1,CCL11,10,0,30\nP2,CCR3,,5,6\n"
SHEET = "sample,patient_id,batch\ns1,LI0001,b1\ns2,LI0002,b1\ns3,LI0003,b2\n"


def test_plain_matrix_with_sheet_and_known_patients(tmp_path: Path) -> None:
    m, s = _matrix(tmp_path, GOOD.replace(",", "\t"), SHEET, name="m.tsv")
    data = load_proteomics(m, s, known_patients=["LI0001", "LI0002", "LI0003", "LI0009"])
    assert list(data.proteins["gene"]) == ["CCL11", "CCR3"]
    assert np.isnan(data.intensities.loc["P2", "s1"]) and data.intensities.loc["P1", "s2"] == 0
    assert list(data.samples["patient_id"]) == ["LI0001", "LI0002", "LI0003"]


@pytest.mark.parametrize(
    ("matrix", "sheet", "known", "message"),
    [
        (GOOD, SHEET, ["LI0001", "LI0002"], "unknown patient 'LI0003'"),
        (GOOD, SHEET + "s1,LI0001,b1\n", None, "duplicate sample 's1'"),
        ("protein,gene\nP1,CCL11\n", "sample\n", None, "no intensity columns"),
        (GOOD.replace("30", "high"), SHEET, None, "non-numeric value"),
        (GOOD, SHEET.replace("s3,", "s4,"), None, "samples in the intensity file but not in the sheet: ['s3']"),
        (GOOD, "sample\ns1\ns2\ns3\n", ["LI0001"], "no 'patient_id' column"),
        (GOOD.replace("P2", "P1"), SHEET, None, "duplicate protein id"),
        (GOOD.replace("10", "-10"), SHEET, None, "negative intensities"),
    ],
)
def test_validation_errors_name_the_problem(tmp_path: Path, matrix: str, sheet: str, known: list[str] | None, message: str) -> None:
    m, s = _matrix(tmp_path, matrix, sheet)
    with pytest.raises(ProteomicsInputError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        load_proteomics(m, s, known_patients=known)


def test_maxquant_without_intensity_columns_says_which_prefix(tmp_path: Path) -> None:
    (tmp_path / "proteinGroups.txt").write_text("Protein IDs\tGene names\tIntensity s1\tReverse\tPotential contaminant\tOnly identified by site\nP1\tA\t5\t\t\t\n")
    (tmp_path / "s.csv").write_text("sample\ns1\n")
    with pytest.raises(ProteomicsInputError, match="no intensity columns starting with 'LFQ intensity '"):
        load_proteomics(tmp_path / "proteinGroups.txt", tmp_path / "s.csv")
    data = load_proteomics(tmp_path / "proteinGroups.txt", tmp_path / "s.csv", intensity_prefix="Intensity ")
    assert data.intensities.loc["P1", "s1"] == 5


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProteomicsInputError, match="file not found"):
        load_proteomics(tmp_path / "nope.txt", tmp_path / "s.csv")
