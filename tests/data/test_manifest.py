"""Every bad input of the manifest gets one clear report naming row, patient, column and file."""

import shutil

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from ecrs_analysis.data.imageio import write_image
from ecrs_analysis.data.manifest import ManifestError, validate_manifest

CENTERS = ("hospital_A", "hospital_B")


@pytest.fixture
def cohort(tmp_path, tiny_cohort):
    dst = tmp_path / "c"
    shutil.copytree(tiny_cohort, dst)
    return dst


def _edit(folder, fn):
    m = pd.read_csv(folder / "manifest.csv", dtype={"patient_id": str})
    m = fn(m)
    m.to_csv(folder / "manifest.csv", index=False)
    return folder / "manifest.csv"


def _problems(path, **kw):
    with pytest.raises(ManifestError) as e:
        validate_manifest(path, known_centers=CENTERS, **kw)
    return e.value.problems, str(e.value)


def test_clean_manifest_validates(cohort):
    c = validate_manifest(cohort / "manifest.csv", known_centers=CENTERS)
    assert c.n == 16 and "blood_eos_pct" in c.clinical_columns
    assert pd.api.types.is_datetime64_any_dtype(c.table["scan_date"])


def test_all_problems_are_reported_at_once(cohort):
    def break_it(m):
        m.loc[1, "patient_id"] = m.loc[0, "patient_id"]
        m.loc[2, "label"] = 2
        m.loc[3, "center"] = "hospital_Z"
        m.loc[4, "scan_date"] = "31/02/2020"
        m.loc[5, "image"] = "images/missing.nii.gz"
        m["asthma"] = m["asthma"].astype(object)
        m.loc[6, "asthma"] = "maybe"
        m.loc[7, "label"] = np.nan
        return m

    problems, text = _problems(_edit(cohort, break_it))
    by_col = {(p.row, p.column) for p in problems}
    # rows as a spreadsheet numbers them: the header is row 1
    assert {(2, "patient_id"), (3, "patient_id"), (4, "label"), (5, "center"), (6, "scan_date"), (7, "image"), (8, "asthma"), (9, "label")} <= by_col
    assert "images/missing.nii.gz" in text and "file not found" in text
    assert "nothing was written" in text


def test_missing_required_column_is_named(cohort):
    problems, text = _problems(_edit(cohort, lambda m: m.drop(columns=["roi_mask"])))
    assert [p.column for p in problems] == ["roi_mask"]


def test_mask_geometry_must_match_its_ct(cohort):
    m = pd.read_csv(cohort / "manifest.csv")
    mask = sitk.ReadImage(str(cohort / m["roi_mask"][0]))
    arr = sitk.GetArrayFromImage(mask)
    write_image(arr, cohort / m["roi_mask"][0], spacing=tuple(s * 1.5 for s in mask.GetSpacing()), origin=mask.GetOrigin())
    problems, text = _problems(cohort / "manifest.csv")
    assert len(problems) == 1 and problems[0].column == "roi_mask" and problems[0].row == 2
    assert "geometry does not match" in text and "spacing" in text


def test_empty_and_non_binary_masks(cohort):
    m = pd.read_csv(cohort / "manifest.csv")
    for i, fill in ((0, 0), (1, 3)):
        mask = sitk.ReadImage(str(cohort / m["roi_mask"][i]))
        arr = sitk.GetArrayFromImage(mask)
        arr[:] = 0
        arr[0, 0, :2] = fill
        write_image(arr, cohort / m["roi_mask"][i], spacing=mask.GetSpacing(), origin=mask.GetOrigin())
    problems, text = _problems(cohort / "manifest.csv")
    msgs = {p.row: p.message for p in problems}
    assert "empty" in msgs[2] and "not binary" in msgs[3]


def test_ct_not_in_hounsfield_units(cohort):
    m = pd.read_csv(cohort / "manifest.csv")
    ct = sitk.ReadImage(str(cohort / m["image"][0]))
    raw = sitk.GetArrayFromImage(ct).astype(np.int32) + 1024  # stored pixel values, intercept not applied
    write_image(raw.astype(np.int16), cohort / m["image"][0], spacing=ct.GetSpacing(), origin=ct.GetOrigin())
    problems, text = _problems(cohort / "manifest.csv")
    assert len(problems) == 1 and problems[0].column == "image" and "does not look calibrated in Hounsfield units" in text


def test_unreadable_image_and_not_a_csv(cohort, tmp_path):
    m = pd.read_csv(cohort / "manifest.csv")
    (cohort / m["image"][2]).write_bytes(b"garbage")
    problems, text = _problems(cohort / "manifest.csv")
    assert problems[0].row == 4 and "cannot be read" in text
    with pytest.raises(ManifestError, match="not found"):
        validate_manifest(tmp_path / "none.csv")
