"""The worked example of book/data_format.md runs as documented."""

import re
import shutil
from pathlib import Path

import pandas as pd

from ecrs_analysis import cli

from .test_dicom_export import export  # noqa: F401  (the test suite's DICOM export, a fixture)

DOC = Path(__file__).resolve().parents[2] / "book" / "data_format.md"


def _blocks() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## A worked example")
    manifest, dictionary, report = re.findall(r"```\w+\n(.*?)```", text[start:], re.S)[:3]
    return {"manifest": manifest, "dictionary": dictionary, "report": report}


def test_worked_example_validates_and_reports_as_documented(tmp_path, tiny_cohort, capsys):
    blocks = _blocks()
    src = pd.read_csv(tiny_cohort / "manifest.csv")
    folder = tmp_path / "sinus_ct"
    for sub in ("ct", "roi"):
        (folder / sub).mkdir(parents=True)
    for i, pid in enumerate(("S0017", "S0018")):
        shutil.copy(tiny_cohort / src["image"][i], folder / "ct" / f"{pid}.nii.gz")
        shutil.copy(tiny_cohort / src["roi_mask"][i], folder / "roi" / f"{pid}.nii.gz")
    (folder / "manifest.csv").write_text(blocks["manifest"], encoding="utf-8")
    (folder / "manifest.dictionary.yaml").write_text(blocks["dictionary"], encoding="utf-8")
    assert cli.main(["validate", str(folder / "manifest.csv")]) == 2  # two patients: valid, but no study could run
    captured = capsys.readouterr()
    assert "clinical columns (3): Age, Asthma, Blood eos %" in captured.out
    assert "the table and its files are valid; a run with profile demo would start for no study" in captured.out
    assert "li2025: a run would not start" in captured.out and "study li2025:" in captured.err

    ct = folder / "ct" / "S0018.nii.gz"
    ct.write_bytes(ct.read_bytes()[: ct.stat().st_size // 2])
    assert cli.main(["validate", str(folder / "manifest.csv")]) == 2
    err = capsys.readouterr().err.replace(str(folder), "/data/sinus_ct")
    assert err.strip() == blocks["report"].strip()


def _dicom_section() -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## From a DICOM export"):text.index("## Masks from")]
    return re.findall(r"```(\w+)\n(.*?)```", section, re.S)


def test_dicom_section_commands_parse():
    import shlex

    commands = _dicom_section()[0][1].replace("\\\n", " ")
    for line in filter(None, (l.strip() for l in commands.splitlines())):
        argv = shlex.split(line)
        assert argv[0] == "ecrs"
        cli.build_parser().parse_args(argv[1:])  # exits on an unknown option


def test_dicom_section_shows_what_the_commands_print(export, tmp_path, monkeypatch, capsys):
    """The decision table and the label message of the DICOM section, from the test suite's export."""
    _, table = _dicom_section()[1]
    _, message = _dicom_section()[2]
    sheet = tmp_path / "labels.csv"
    sheet.write_text("patient_id,eCRS,age\nP001,eCRS,52\nP002,non-eCRS,47\n", encoding="utf-8")
    out = tmp_path / "sinus_ct"
    assert cli.main(["manifest", "from-dicom", str(export), "--out", str(out), "--center", "hospital_A", "--labels", str(sheet),
                     "--label-column", "eCRS", "--pseudonymise", str(tmp_path / "keys" / "key.csv")]) == 0
    printed = [l for l in capsys.readouterr().out.splitlines() if l.startswith("R0")]
    assert printed == table.strip().splitlines()
    monkeypatch.setenv("ECRS_PARAMS_DIR", str(Path(__file__).resolve().parents[2] / "params"))
    assert cli.main(["validate", str(out / "manifest.csv")]) == 2
    assert message.strip() in capsys.readouterr().err
