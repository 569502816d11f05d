"""From a DICOM export to a manifest: which series is chosen and why, what is written, what never is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from ecrs_analysis import cli
from ecrs_analysis.data.dicom_export import DicomExportError, manifest_from_dicom, scan_export
from ecrs_analysis.data.imageio import Geometry, read_image

from .dicom_writer import BIRTH_DATE, PATIENT_NAME, head_phantom, uid, write_ct_series, write_dose_report, write_scout

INSTITUTION = "Sinus Clinic North"


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """Two patients as a PACS export hands them over (see the comments for what each series is)."""
    root = tmp_path_factory.mktemp("export") / "EXPORT"
    thin = head_phantom(spacing=(1.0, 1.0, 0.6))
    thick = head_phantom(spacing=(1.0, 1.0, 5.0), coverage_mm=80.0)
    s1 = root / "PAT1" / "STUDY1"
    write_scout(s1 / "SER1")                                                                  # scout
    write_ct_series(s1 / "SER2", thin, series_number=2, kernel="H30s", description="Sinus 0.6 H30s")   # soft tissue, 0.6 mm
    write_ct_series(s1 / "SER3", thin, series_number=3, kernel="H70h", description="Sinus 0.6 H70h")   # bone, 0.6 mm: a tie
    write_ct_series(s1 / "SER4", thick, series_number=4, kernel="H30s", description="Sinus 5.0")       # 5 mm
    write_ct_series(s1 / "MR", head_phantom(spacing=(1.0, 1.0, 4.0)), series_number=5, modality="MR", sop_class="1.2.840.10008.5.1.4.1.1.4", kernel=None)
    write_dose_report(s1 / "DOSE")                                                            # structured report + dose page
    later = head_phantom(spacing=(1.0, 1.0, 1.0))
    write_ct_series(root / "PAT1" / "STUDY2" / "SER2", later, study="study-2", study_date="20220110", accession="ACC2", series_number=2)
    # patient 2: everything in one folder, tags missing (no SliceThickness, no SeriesNumber, no InstitutionName on the scout)
    flat = root / "PAT2"
    write_ct_series(flat, head_phantom(spacing=(1.0, 1.0, 2.0), origin=(5.0, -3.0, 10.0)), patient_id="P002", study="p2", study_date="20200517",
                    accession="ACC9", series_number=None, slice_thickness=False, institution="SINUS CLINIC NORTH", kernel=None, prefix="A")
    coronal = head_phantom(spacing=(1.0, 1.0, 1.0))
    coronal.SetDirection((1, 0, 0, 0, 0, 1, 0, -1, 0))
    write_ct_series(flat, coronal, patient_id="P002", study="p2", study_date="20200517", series_number=7, image_type=("DERIVED", "SECONDARY", "MPR"), prefix="B")
    write_ct_series(flat, head_phantom(spacing=(1.0, 1.0, 3.0), coverage_mm=30.0), patient_id="P002", study="p2", study_date="20200517", series_number=8, prefix="C")
    (root / "DICOMDIR").write_bytes(b"\x00" * 128 + b"DICM" + b"\x00" * 64)  # an unreadable DICOMDIR: the walk does not need it
    (root / "README.TXT").write_text("Exported by PACS viewer", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def labels(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("sheet") / "labels.csv"
    pd.DataFrame({"MRN": ["P001", "P002", "P999"], "eCRS": ["1", "0", "1"], "age": ["52", "47", "60"]}).to_csv(p, index=False)
    return p


def _center_map(tmp_path: Path) -> Path:
    p = tmp_path / "centres.yaml"
    p.write_text(f"{INSTITUTION}: hospital_A\n", encoding="utf-8")
    return p


def _decisions(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "series_decisions.csv", dtype={"series": str}).set_index(["patient_id", "series"])


def test_scan_groups_patient_study_series_and_skips_other_files(export):
    series, other = scan_export(export)
    assert other == 2  # DICOMDIR and README
    assert {s.patient_id for s in series} == {"P001", "P002"}
    assert len({s.study_uid for s in series if s.patient_id == "P001"}) == 2
    assert len([s for s in series if s.patient_id == "P001"]) == 8  # scout, 2 x 0.6 mm, 5 mm, MR, SR, SC, later study


def test_the_thinnest_axial_ct_of_the_first_study_is_chosen_and_every_decision_explained(export, labels, tmp_path):
    out = tmp_path / "out"
    result = manifest_from_dicom(export, out=out, center_map=_center_map(tmp_path), labels=labels, join_column="MRN", label_column="eCRS")
    d = _decisions(out)
    assert d.loc[("P001", "1.2"), "decision"] == "chosen"
    assert "tie with 1.3 kernel H70h" in d.loc[("P001", "1.2"), "reason"] and "2 studies" in d.loc[("P001", "1.2"), "reason"]
    assert d.loc[("P001", "1.3"), "decision"] == "not chosen" and "tie" in d.loc[("P001", "1.3"), "reason"]
    assert "thicker" in d.loc[("P001", "1.4"), "reason"] and d.loc[("P001", "1.4"), "slice_spacing_mm"] == 5.0
    assert "scout" in d.loc[("P001", "1.1"), "reason"]
    assert "modality MR" in d.loc[("P001", "1.5"), "reason"]
    assert "structured report" in d.loc[("P001", "1.997"), "reason"]
    assert "secondary capture (a dose page)" in d.loc[("P001", "1.999"), "reason"]
    assert "later study" in d.loc[("P001", "2.2"), "reason"]
    assert d.loc[("P002", "1.?"), "decision"] == "chosen"  # no SeriesNumber, no SliceThickness: spacing from the positions
    assert d.loc[("P002", "1.?"), "slice_spacing_mm"] == 2.0
    assert "not axial" in d.loc[("P002", "1.7"), "reason"]
    assert "covers 30 mm" in d.loc[("P002", "1.8"), "reason"]

    m = pd.read_csv(result.manifest, dtype=str, keep_default_na=False)
    assert list(m.columns) == ["patient_id", "center", "scan_date", "image", "label", "age"]
    assert m["scan_date"].tolist() == ["2021-03-04", "2020-05-17"] and m["center"].tolist() == ["hospital_A", "hospital_A"]
    assert m["label"].tolist() == ["1", "0"]
    assert m["image"][1] == "series/P002"  # its folder holds three series: a folder of its own
    assert (out / m["image"][0]).resolve() == (export / "PAT1" / "STUDY1" / "SER2").resolve()
    assert "1 row(s) of the label sheet match no patient" in " ".join(result.notes)
    # the chosen series read back by the pipeline's reader is the volume that was written
    for row, written in ((0, head_phantom(spacing=(1.0, 1.0, 0.6))), (1, head_phantom(spacing=(1.0, 1.0, 2.0), origin=(5.0, -3.0, 10.0)))):
        back = read_image(out / m["image"][row])
        assert not Geometry.of(back).mismatch(Geometry.of(written))
        np.testing.assert_array_equal(sitk.GetArrayFromImage(back), sitk.GetArrayFromImage(written))


def test_no_other_header_value_reaches_an_output(export, labels, tmp_path):
    out = tmp_path / "out"
    manifest_from_dicom(export, out=out, center_map=_center_map(tmp_path), labels=labels, join_column="MRN")
    text = "\n".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file() and not p.is_symlink())
    forbidden = [PATIENT_NAME, "Testperson", BIRTH_DATE, INSTITUTION, INSTITUTION.upper(), "Topogram", "Dose Info", "Sinus 0.6", "ACC1", uid("study-1"), "P999"]
    assert not [f for f in forbidden if f in text]


def test_series_override_and_its_unknown_key(export, tmp_path):
    out = tmp_path / "out"
    manifest_from_dicom(export, out=out, center="hospital_A", series={"P001": "1.3"})
    d = _decisions(out)
    assert d.loc[("P001", "1.3"), "decision"] == "chosen" and d.loc[("P001", "1.2"), "decision"] == "not chosen"
    with pytest.raises(DicomExportError) as e:
        manifest_from_dicom(export, out=tmp_path / "other", center="hospital_A", series={"P001": "1.42"})
    assert "names no series" in str(e.value) and "1.1, 1.2, 1.3" in str(e.value)
    assert not (tmp_path / "other").exists()


def test_pseudonyms_from_a_key_file_outside_the_output(export, tmp_path):
    out, key = tmp_path / "out", tmp_path / "keys" / "key.csv"
    with pytest.raises(DicomExportError, match="inside the output folder"):
        manifest_from_dicom(export, out=out, center="hospital_A", pseudonymise=out / "key.csv")
    assert not out.exists()
    manifest_from_dicom(export, out=out, center="hospital_A", pseudonymise=key)
    m = pd.read_csv(out / "manifest.csv", dtype=str)
    assert m["patient_id"].tolist() == ["R0001", "R0002"] and m["image"].tolist() == ["series/R0001", "series/R0002"]
    assert pd.read_csv(key, dtype=str).values.tolist() == [["P001", "R0001"], ["P002", "R0002"]]
    text = "\n".join(p.read_text(encoding="utf-8") for p in out.rglob("*.csv")) + (out / "manifest.dictionary.yaml").read_text(encoding="utf-8")
    assert "P001" not in text and "P002" not in text
    manifest_from_dicom(export, out=tmp_path / "again", center="hospital_A", pseudonymise=key, series={"R0001": "1.4"})  # a pseudonym names the patient too
    assert pd.read_csv(tmp_path / "again" / "manifest.csv", dtype=str)["patient_id"].tolist() == ["R0001", "R0002"]


def test_mask_segments_go_into_the_dictionary_stub(export, tmp_path):
    import yaml

    from ecrs_analysis.data.dictionary import load_dictionary

    sheet = tmp_path / "labels.csv"
    pd.DataFrame({"patient_id": ["P001", "P002"], "label": ["1", "0"], "roi_mask": ["seg/P001.seg.nrrd", "seg/P002.seg.nrrd"]}).to_csv(sheet, index=False)
    out = tmp_path / "out"
    manifest_from_dicom(export, out=out, center="hospital_A", labels=sheet, segments={"roi_mask": "Segment_1", "sinus_mask": "Sinuses"})
    dd = load_dictionary(out / "manifest.dictionary.yaml")
    assert dd.lookup("roi_mask").segment == "Segment_1" and dd.lookup("sinus_mask").segment == "Sinuses"
    m = pd.read_csv(out / "manifest.csv", dtype=str)
    assert (out / m["roi_mask"][0]).resolve() == (tmp_path / "seg" / "P001.seg.nrrd").resolve()  # read from the sheet's folder
    assert yaml.safe_load((out / "manifest.dictionary.yaml").read_text(encoding="utf-8"))["columns"]["label"] == "label"


def test_labels_joined_on_the_chosen_study_accession(export, tmp_path):
    sheet = tmp_path / "by_accession.csv"
    pd.DataFrame({"Accession Number": ["ACC1", "ACC9", "ACC2"], "label": ["1", "0", "0"]}).to_csv(sheet, index=False)
    manifest_from_dicom(export, out=tmp_path / "out", center="hospital_A", labels=sheet, join="accession")
    assert pd.read_csv(tmp_path / "out" / "manifest.csv", dtype=str)["label"].tolist() == ["1", "0"]


def test_problems_are_reported_together_and_nothing_is_written(export, tmp_path):
    sheet = tmp_path / "labels.csv"
    pd.DataFrame({"patient_id": ["P001"], "label": ["1"]}).to_csv(sheet, index=False)
    with pytest.raises(DicomExportError) as e:
        manifest_from_dicom(export, out=tmp_path / "out", labels=sheet)
    text = str(e.value)
    assert "no centre" in text and "1 patient(s) of the export have no row" in text and "P002" in text
    assert not (tmp_path / "out").exists()


def test_a_patient_without_a_usable_series_gets_every_reason(tmp_path):
    root = tmp_path / "export"
    write_scout(root / "a", patient_id="P003")
    write_ct_series(root / "b", head_phantom(spacing=(1.0, 1.0, 3.0), coverage_mm=45.0), patient_id="P003")
    with pytest.raises(DicomExportError) as e:
        manifest_from_dicom(root, out=tmp_path / "out", center="hospital_A")
    assert "patient P003: no usable CT series" in str(e.value) and "scout" in str(e.value) and "covers 45 mm" in str(e.value) and "--series P003=" in str(e.value)


def test_cli_writes_and_prints_the_decisions(export, labels, tmp_path, capsys):
    out = tmp_path / "out"
    rc = cli.main(["manifest", "from-dicom", str(export), "--out", str(out), "--center", "hospital_A", "--labels", str(labels), "--join-column", "MRN", "--label-column", "eCRS", "--series", "P002=1.?"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "P001  1.2" in captured.out and "chosen" in captured.out and str(out / "manifest.csv") in captured.out
    assert cli.main(["manifest", "from-dicom", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o2"), "--center", "x"]) == 2
    assert "export folder does not exist" in capsys.readouterr().err


def test_real_head_ct_as_a_dicom_series(reference_ct, tmp_path):
    ct = sitk.ReadImage(str(reference_ct))[::4, ::4, :]  # 128 x 128 x 107: the real anatomy and orientation, fast to write
    write_ct_series(tmp_path / "export" / "S1", ct, patient_id="HEAD1")
    write_scout(tmp_path / "export" / "S0", patient_id="HEAD1")
    res = manifest_from_dicom(tmp_path / "export", out=tmp_path / "out", center="hospital_A")
    chosen = [d for d in res.decisions if d.decision == "chosen"]
    assert [d.key for d in chosen] == ["1.2"]
    back = read_image(tmp_path / "out" / pd.read_csv(res.manifest)["image"][0])
    # The NIfTI's axes are left-handed (x and y swapped), which a DICOM series cannot hold: the reader
    # returns the same voxels in patient space with the slice order reversed. Compare in patient space.
    assert back.GetSize() == ct.GetSize() and np.allclose(back.GetSpacing(), ct.GetSpacing(), atol=1e-4)
    on_grid = sitk.Resample(back, ct, sitk.Transform(), sitk.sitkNearestNeighbor, -4000)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(on_grid), sitk.GetArrayFromImage(ct))


# ------------------------------------------------------------------ end to end: export -> manifest -> validate -> run


@pytest.fixture(scope="module")
def exported_cohort(tmp_path_factory) -> dict[str, Path]:
    """A 40-patient MTLNet cohort as a hospital has it: CTs in a DICOM export, masks (NIfTI) and labels in a sheet."""
    from ecrs_analysis.data.synth.cohort import generate_cohort

    root = tmp_path_factory.mktemp("e2e")
    cohort = generate_cohort(root / "hospital", design="mtlnet2025", seed=7, n_patients=40, spacing_scale=8.0, n_jobs=1)
    m = pd.read_csv(cohort / "manifest.csv", dtype=str, keep_default_na=False)
    export = root / "PACS_EXPORT"
    for k, r in m.iterrows():
        ct = sitk.ReadImage(str(cohort / r["image"]))
        study = f"st{k}"
        write_scout(export / f"DIR{k:03d}" / "S1", patient_id=r["patient_id"], study=study, study_date=r["scan_date"].replace("-", ""), institution="Hospital C")
        write_ct_series(export / f"DIR{k:03d}" / "S2", ct, patient_id=r["patient_id"], study=study, study_date=r["scan_date"].replace("-", ""), institution="Hospital C")
    sheet = cohort / "labels.csv"  # what the clinic keeps: no image, centre or date
    m.drop(columns=["image", "center", "scan_date"]).to_csv(sheet, index=False)
    (root / "centres.yaml").write_text("Hospital C: hospital_C\n", encoding="utf-8")
    return {"export": export, "labels": sheet, "centres": root / "centres.yaml", "root": root}


def test_export_to_manifest_to_validate(exported_cohort, tmp_path, monkeypatch, capsys):
    c = exported_cohort
    out = tmp_path / "manifest"
    monkeypatch.setenv("ECRS_PARAMS_DIR", str(Path(__file__).resolve().parents[2] / "params"))
    assert cli.main(["manifest", "from-dicom", str(c["export"]), "--out", str(out), "--center-map", str(c["centres"]), "--labels", str(c["labels"])]) == 0
    capsys.readouterr()
    assert cli.main(["validate", str(out / "manifest.csv"), "--study", "mtlnet2025", "--profile", "smoke"]) == 0
    assert "40 patients" in capsys.readouterr().out
    assert cli.main(["validate", str(out / "manifest.csv"), "--profile", "smoke"]) == 0
    text = capsys.readouterr().out
    assert "mtlnet2025: a run would start" in text and "li2025: a run would not start" in text


@pytest.mark.slow
def test_export_to_manifest_to_a_run(exported_cohort, tmp_path, monkeypatch, copy_book_sources):
    from ecrs_analysis.pipeline.runner import RunOptions, run_book

    checkout = copy_book_sources(tmp_path / "checkout")
    monkeypatch.chdir(checkout)
    c = exported_cohort
    out = tmp_path / "manifest"
    manifest_from_dicom(c["export"], out=out, center_map=c["centres"], labels=c["labels"])
    results = tmp_path / "results"
    run_book(RunOptions(profile="smoke", data=(f"mtlnet2025={out / 'manifest.csv'}",), targets=("file:mtlnet2025/preprocessed.csv",), results_dir=results))
    pre = pd.read_csv(results / "mtlnet2025" / "preprocessed.csv")
    assert len(pre) == 40


def test_a_cd_export_with_a_real_dicomdir(tmp_path):
    """pydicom's FileSet writes what a CD burner writes: a DICOMDIR and files renamed into PT*/ST*/SE* folders."""
    import pydicom
    from pydicom.fileset import FileSet

    src = tmp_path / "src"
    files = write_ct_series(src, head_phantom(spacing=(1.0, 1.0, 2.0)), patient_id="P010")
    files.append(write_scout(src / "scout", patient_id="P010"))
    fs = FileSet()
    for f in files:
        fs.add(pydicom.dcmread(f))
    cd = tmp_path / "CD"
    fs.write(cd)
    assert (cd / "DICOMDIR").is_file() and not list(cd.rglob("*.dcm"))
    res = manifest_from_dicom(cd, out=tmp_path / "out", center="hospital_A")
    assert [(d.key, d.decision) for d in res.decisions] == [("1.1", "skipped"), ("1.2", "chosen")]
    assert "1 file(s) that are not DICOM images were skipped" in " ".join(res.notes)  # the DICOMDIR itself


def test_files_without_a_patient_id_are_reported(tmp_path):
    write_ct_series(tmp_path / "export" / "a", head_phantom(spacing=(1.0, 1.0, 2.0)), patient_id=None)
    write_ct_series(tmp_path / "export" / "b", head_phantom(spacing=(1.0, 1.0, 2.0)), patient_id="P011")
    with pytest.raises(DicomExportError, match="36 DICOM file.* in 1 series have no PatientID"):
        manifest_from_dicom(tmp_path / "export", out=tmp_path / "out", center="hospital_A")
