"""A catalogue of what hospitals actually hand over, run through `ecrs validate`.

Every bad case must end with exit code 2, a message naming what the user needs (row, column,
file and the fix), no traceback or numpy repr, and nothing written anywhere.  Every realistic
case (scanner padding, metal, BOM, semicolons, Excel, capitalised headers, relative paths ...)
must pass.  All cases are built from a few small generated cohorts (session fixtures), copied
and changed per case.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from ecrs_analysis import cli
from ecrs_analysis.data.imageio import write_image
from ecrs_analysis.data.synth.cohort import generate_cohort

SMOKE = ["--profile", "smoke"]
LI = ["--study", "li2025", *SMOKE]
MT = ["--study", "mtlnet2025", *SMOKE]


@pytest.fixture(scope="session")
def cohorts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """small: 12 li2025 patients; li: 40 (enough for the smoke profile's folds); mt: 40 mtlnet2025 patients."""
    root = tmp_path_factory.mktemp("catalogue")
    return {
        "small": generate_cohort(root / "small", design="li2025", seed=5, n_patients=12, spacing_scale=8.0, n_jobs=1),
        "li": generate_cohort(root / "li", design="li2025", seed=9, n_patients=40, spacing_scale=8.0, n_jobs=1),
        "mt": generate_cohort(root / "mt", design="mtlnet2025", seed=7, n_patients=40, spacing_scale=8.0, n_jobs=1),
    }


# ------------------------------------------------------------------------------------ helpers


def read_m(folder: Path, name: str = "manifest.csv") -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def write_m(folder: Path, m: pd.DataFrame, name: str = "manifest.csv", **kw) -> Path:
    m.to_csv(folder / name, index=False, **kw)
    return folder / name


def edit(folder: Path, fn: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    m = read_m(folder)
    out = fn(m)
    write_m(folder, m if out is None else out)


def file_of(folder: Path, row: int, col: str = "image") -> Path:
    return folder / read_m(folder)[col][row]


def rewrite(folder: Path, row: int, fn: Callable[[np.ndarray], np.ndarray], col: str = "image", **geometry) -> Path:
    """Replace one patient's image by ``fn(voxels)`` on the same grid (or the geometry given)."""
    p = file_of(folder, row, col)
    img = sitk.ReadImage(str(p))
    arr = fn(sitk.GetArrayFromImage(img))
    write_image(arr, p, spacing=geometry.get("spacing", img.GetSpacing()), origin=img.GetOrigin(), direction=geometry.get("direction", img.GetDirection()))
    return p


def set_dictionary(folder: Path, fn: Callable[[dict], None]) -> None:
    p = folder / "manifest.dictionary.yaml"
    d = yaml.safe_load(p.read_text(encoding="utf-8"))
    fn(d["columns"])
    p.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")


def set_cell(folder: Path, col: str, row: int, value: str) -> None:
    """Write ``value`` into one cell of the manifest (``row`` counts patients from 0)."""
    m = read_m(folder)
    m.loc[row, col] = value
    write_m(folder, m)


def point_to(folder: Path, row: int, new: Path, col: str = "image") -> None:
    set_cell(folder, col, row, str(new.relative_to(folder)))


# --------------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    build: Callable[[Path], object]
    expect: tuple[str, ...]
    args: tuple[str, ...] = ()
    cohort: str = "small"


BAD: list[Case] = []
GOOD: list[Case] = []


def bad(kind: str, *expect: str, args: list[str] | tuple[str, ...] = (), cohort: str = "small"):
    def deco(fn):
        BAD.append(Case(fn.__name__, kind, fn, expect, tuple(args), cohort))
        return fn

    return deco


def good(kind: str, *expect: str, args: list[str] | tuple[str, ...] = SMOKE, cohort: str = "li"):
    """A realistic case that must pass; by default on the 40-patient cohort, on which a smoke run of li2025 would start."""
    def deco(fn):
        GOOD.append(Case(fn.__name__, kind, fn, expect, tuple(args), cohort))
        return fn

    return deco


# --- damaged scans


@bad("damaged scan", "row 2", "column 'image'", "LI0001_ct.nii.gz", "truncated or damaged", "export it again")
def truncated_nii_gz(f):
    p = file_of(f, 0)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


@bad("damaged scan", "row 3", "column 'image'", "ct.nii", "truncated", "bytes")
def truncated_uncompressed_nii(f):
    p = f / "images" / "ct.nii"
    img = sitk.ReadImage(str(file_of(f, 1)))
    sitk.WriteImage(img, str(p), useCompression=False)
    p.write_bytes(p.read_bytes()[: p.stat().st_size - 2000])
    point_to(f, 1, p)


@bad("damaged scan", "row 4", "column 'image'", "NaN or infinite", "would silently turn them into 0")
def nan_voxels_in_nifti(f):
    def fn(a):
        a = a.astype(np.float32)
        a[2, 5, 5] = np.nan
        return a

    rewrite(f, 2, fn)


@bad("damaged scan", "row 2", "column 'image'", "truncated or damaged")
def truncated_nrrd(f):
    p = f / "images" / "ct.nrrd"
    sitk.WriteImage(sitk.ReadImage(str(file_of(f, 0))), str(p), useCompression=True)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    point_to(f, 0, p)


@bad("damaged scan", "row 2", "column 'image'", "ct.nrrd", "no image reader recognises the file's content")
def garbage_under_an_nrrd_name(f):
    p = f / "images" / "ct.nrrd"
    p.write_bytes(bytes(range(256)) * 4)
    point_to(f, 0, p)


@bad("damaged scan", "row 2", "ct.mhd", "voxel data 'ct.raw', which is not beside it")
def metaimage_header_without_its_raw_file(f):
    p = f / "images" / "ct.mhd"
    sitk.WriteImage(sitk.ReadImage(str(file_of(f, 0))), str(p))
    (f / "images" / "ct.raw").unlink()
    point_to(f, 0, p)


@bad("damaged scan", "row 4", "column 'image'", "cannot be read as NIfTI")
def garbage_bytes(f):
    file_of(f, 2).write_bytes(gzip.compress(b"not an image at all" * 50))


@bad("damaged scan", "row 2", "column 'image'", "blank")
def constant_ct(f):
    rewrite(f, 0, lambda a: np.full_like(a, -1000))


@bad("mask", "row 2", "column 'roi_mask'", "whole image", "every voxel is 1")
def mask_all_ones(f):
    rewrite(f, 0, np.ones_like, col="roi_mask")


@bad("mask", "row 3", "column 'roi_mask'", "mask is empty")
def mask_all_zeros(f):
    rewrite(f, 1, np.zeros_like, col="roi_mask")


@bad("mask", "row 2", "column 'roi_mask'", "not binary", "0, 255", "divide by 255")
def mask_0_255(f):
    rewrite(f, 0, lambda a: (a * 255).astype(np.uint8), col="roi_mask")


@bad("mask", "row 2", "column 'roi_mask'", "geometry does not match", "spacing", "CT's own voxel grid")
def mask_on_another_grid(f):
    img = sitk.ReadImage(str(file_of(f, 0, "roi_mask")))
    rewrite(f, 0, lambda a: a, col="roi_mask", spacing=tuple(s * 1.5 for s in img.GetSpacing()))


@bad("duplicate", "row 2", "row 3", "same CT file content", "training and test")
def same_path_for_two_patients(f):
    set_cell(f, "image", 1, read_m(f)["image"][0])


@bad("duplicate", "row 2", "row 5", "same CT file content", "give each patient their own file")
def same_content_under_two_names(f):
    p = f / "images" / "copy_of_first.nii.gz"
    shutil.copy(file_of(f, 0), p)
    point_to(f, 3, p)


# --- scanner output that is not a 3D CT in HU


@bad("calibration", "row 2", "column 'image'", "does not look calibrated in Hounsfield units", "rescale slope/intercept")
def stored_values_without_intercept(f):
    rewrite(f, 0, lambda a: (a.astype(np.int32) + 1024).astype(np.int16))


@bad("calibration", "row 2", "does not look calibrated", "scl_slope")
def normalised_to_unit_range(f):
    rewrite(f, 0, lambda a: ((a.astype(np.float32) + 1024) / 4096).astype(np.float32))


@bad("geometry", "row 2", "column 'image'", "2D image", "whole 3D volume")
def two_dimensional_image(f):
    p = f / "images" / "slice.nii.gz"
    sitk.WriteImage(sitk.ReadImage(str(file_of(f, 0)))[:, :, 5], str(p))
    point_to(f, 0, p)


@bad("geometry", "row 2", "4D image", "one 3D volume per patient")
def four_dimensional_image(f):
    p = f / "images" / "series.nii.gz"
    img = sitk.ReadImage(str(file_of(f, 0)))
    sitk.WriteImage(sitk.JoinSeries([img, img]), str(p))
    point_to(f, 0, p)


@bad("geometry", "row 2", "only 3 along z", "whole 3D volume")
def thin_slab(f):
    rewrite(f, 0, lambda a: a[:3])


@bad("geometry", "row 2", "implausible voxel spacing", "cm or um")
def spacing_in_centimetres(f):
    img = sitk.ReadImage(str(file_of(f, 0)))
    rewrite(f, 0, lambda a: a, spacing=tuple(s * 10 for s in img.GetSpacing()))


@bad("geometry", "row 2", "colour or vector image")
def rgb_export(f):
    p = f / "images" / "rgb.nii.gz"
    img = sitk.ReadImage(str(file_of(f, 0)))
    sitk.WriteImage(sitk.Compose([img, img, img]), str(p))
    point_to(f, 0, p)


@bad("file", "row 2", "column 'image'", "not a supported 3D image format", "DICOM series folder")
def png_screenshot(f):
    p = f / "images" / "ct.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    point_to(f, 0, p)


@bad("file", "row 2", "a single DICOM slice", "folder holding the whole series")
def single_dicom_file(f):
    p = f / "images" / "IM0001.dcm"
    p.write_bytes(b"\x00" * 128 + b"DICM")
    point_to(f, 0, p)


# --- columns that must not become predictors


@bad("columns", "column 'MRN'", "identifies a person", "identifying")
def mrn_declared_clinical(f):
    edit(f, lambda m: m.insert(1, "MRN", [str(9_000_000 + i) for i in range(len(m))]))
    set_dictionary(f, lambda c: c.__setitem__("MRN", {"role": "clinical", "type": "continuous"}))


@bad("columns", "column 'tissue_eos_hpf'", "leak the label", "exclude")
def label_source_declared_clinical(f):
    edit(f, lambda m: m.__setitem__("tissue_eos_hpf", [str(5 + 20 * int(v)) for v in m["label"]]))
    set_dictionary(f, lambda c: c.__setitem__("tissue_eos_hpf", {"role": "clinical", "type": "continuous"}))


@bad("columns", "column 'marker_x'", "separates the labels almost perfectly", "leakage_checked", cohort="li")
def perfect_predictor_declared_clinical(f):
    edit(f, lambda m: m.__setitem__("marker_x", [f"{3 * int(v) + 0.1 * (i % 7):.2f}" for i, v in enumerate(m["label"])]))
    set_dictionary(f, lambda c: c.__setitem__("marker_x", {"role": "clinical", "type": "continuous"}))


@bad("columns", "'age' (column 8)", "'age' (column 36)", "rename or delete one")
def duplicated_age_column(f):
    m = read_m(f)
    text = (f / "manifest.csv").read_text(encoding="utf-8").splitlines()
    text = [text[0] + ",age"] + [line + "," + a for line, a in zip(text[1:], m["age"])]
    (f / "manifest.csv").write_text("\n".join(text) + "\n", encoding="utf-8")


@bad("columns", "'center'", "'Centre'", "both stand for 'center'")
def center_and_centre(f):
    edit(f, lambda m: m.insert(2, "Centre", m["center"]))


@bad("dictionary", "manifest.dictionary.yaml", "'bmi_kg'", "does not have")
def dictionary_names_absent_column(f):
    set_dictionary(f, lambda c: c.__setitem__("bmi_kg", {"role": "clinical", "type": "continuous"}))


@bad("dictionary", "manifest.dictionary.yaml", "role 'predictor' is not one of", "clinical")
def dictionary_unknown_role(f):
    set_dictionary(f, lambda c: c.__setitem__("age", {"role": "predictor", "type": "continuous"}))


@bad("dictionary", "manifest.dictionary.yaml", "'asthma'", "needs type: continuous, binary, categorical")
def dictionary_clinical_without_type(f):
    set_dictionary(f, lambda c: c.__setitem__("asthma", "clinical"))


@bad("dictionary", "manifest.dictionary.yaml", "not valid YAML at line")
def dictionary_broken_yaml(f):
    (f / "manifest.dictionary.yaml").write_text("columns:\n  age: {role: clinical, type: continuous\n  sex: binary\n", encoding="utf-8")


@bad("values", "row 2", "column 'age'", "outside the declared range 0..120 years")
def age_outside_declared_range(f):
    set_cell(f, "age", 0, "250")
    set_dictionary(f, lambda c: c["age"].update({"min": 0, "max": 120}))


@bad("values", "row 2", "column 'smoking'", "'sometimes' is not one of the declared levels never, former, current")
def categorical_outside_levels(f):
    edit(f, lambda m: m.__setitem__("smoking", ["sometimes" if i == 0 else ["never", "former", "current"][i % 3] for i in range(len(m))]))
    set_dictionary(f, lambda c: c.__setitem__("smoking", {"role": "clinical", "type": "categorical", "levels": ["never", "former", "current"]}))


@bad("values", "row 3", "row 2", "same patient id", "one row")
def duplicate_patient_id(f):
    set_cell(f, "patient_id", 1, read_m(f)["patient_id"][0])


@bad("values", "more row(s) with the same problem", "label 'x' is not 0")
def same_problem_on_every_row(f):
    edit(f, lambda m: m.__setitem__("label", ["x"] * len(m)))


# --- table formats


@bad("format", "required column 'label' not found", "did you mean 'lable'")
def misspelt_header(f):
    edit(f, lambda m: m.rename(columns={"label": "lable"}))


@bad("format", "required column 'roi_mask' not found", "add it, or name the column")
def required_mask_column_missing(f):
    edit(f, lambda m: m.drop(columns=["roi_mask"]))


@bad("format", "manifest.csv", "the file is empty")
def empty_manifest(f):
    (f / "manifest.csv").write_text("", encoding="utf-8")


@bad("format", "header but no patients")
def header_only(f):
    text = (f / "manifest.csv").read_text(encoding="utf-8").splitlines()[0]
    (f / "manifest.csv").write_text(text + "\n", encoding="utf-8")


@bad("format", "row 3", "more cells than the header", "double quotes")
def unquoted_separator_in_a_value(f):
    lines = (f / "manifest.csv").read_text(encoding="utf-8").splitlines()
    lines[2] += ",Hôpital, Nord"
    (f / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@bad("format", "encoding cannot be recognised", "CSV UTF-8")
def unknown_encoding(f):
    raw = (f / "manifest.csv").read_bytes().replace(b"hospital_A", b"hospital_\x81", 1)
    (f / "manifest.csv").write_bytes(raw)


@bad("format", "Excel 97-2003", "Save As")
def old_excel_under_csv_name(f):
    (f / "manifest.csv").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)


@bad("format", "manifest.xls", "Excel 97-2003 workbook (.xls)", "Excel Workbook (*.xlsx)")
def xls_file(f):
    (f / "manifest.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 600)
    return f / "manifest.xls"


@bad("format", "OpenDocument", "CSV UTF-8")
def ods_file(f):
    (f / "manifest.ods").write_bytes(b"PK\x03\x04")
    return f / "manifest.ods"


@bad("format", "cannot be read as an Excel workbook", "password-protected or damaged")
def damaged_xlsx(f):
    (f / "manifest.xlsx").write_bytes(b"PK\x03\x04 this is not a zip archive")
    return f / "manifest.xlsx"


@bad("format", "nope.csv", "file not found")
def manifest_not_found(f):
    return f / "nope.csv"


# --- what the study needs (ecrs validate --study)


@bad("study", "required column 'sinus_mask' not found", args=MT, cohort="mt")
def mtlnet_without_sinus_mask(f):
    edit(f, lambda m: m.drop(columns=["sinus_mask"]))


@bad("study", "cut-off 2024-05-01", "0 of 40", "scan_date", args=MT, cohort="mt")
def no_scan_after_the_cutoff(f):
    edit(f, lambda m: m.__setitem__("scan_date", [v if v < "2024-05-01" else "2023-06-01" for v in m["scan_date"]]))


@bad("study", "every patient has label 0", "both eosinophilic (1) and non-eosinophilic (0)", args=LI)
def a_single_class(f):
    edit(f, lambda m: m.__setitem__("label", ["0"] * len(m)))


@bad("study", "the training set has 1 eosinophilic and 0 non-eosinophilic", "at least 8 of each", "deep.folds=3", "Add patients", "set 'external_test' (1 patients)", args=LI)
def three_patients(f):
    edit(f, lambda m: m.iloc[[i for i in range(len(m)) if m["center"][i] == "hospital_A"][:2] + [list(m["center"]).index("hospital_B")]])


@bad("study", "the training set has", "deep.svm_folds=5", "5-fold Platt calibration", args=[*LI, "--set", "deep.svm_folds=5", "--set", "deep.folds=2"])
def too_few_for_the_svm_calibration(f):
    pass


@bad("study", "set 'external_test'", "has no eosinophilic (label 1) patient", args=LI, cohort="li")
def external_set_with_one_class(f):
    edit(f, lambda m: m.__setitem__("label", ["0" if c == "hospital_B" else v for c, v in zip(m["center"], m["label"])]))


@bad("study", "no clinical column is declared", "role: clinical", args=LI, cohort="li")
def no_clinical_column(f):
    (f / "manifest.dictionary.yaml").unlink()


@bad("study", "split.json", "no set named 'train'", "position in the file does not matter", args=LI, cohort="li")
def user_split_without_a_train_set(f):
    m = read_m(f)
    ext = [p for p, c in zip(m["patient_id"], m["center"]) if c == "hospital_B"]
    rest = [p for p in m["patient_id"] if p not in ext]
    (f / "split.json").write_text(json.dumps({"sets": {"external_test": ext, "training": rest[:30], "internal_test": rest[30:]}}), encoding="utf-8")
    return ["--set", f"studies.li2025.split_file={f / 'split.json'}"]


# Cases that change one cell: (name, column, patient (from 0), new value, kind, words the message must hold[, extra arguments]).
ONE_CELL = [
    ("relative_path_not_found", "image", 1, "images/missing.nii.gz", "path", "row 3", "images/missing.nii.gz", "relative path is read from the manifest's folder"),
    ("windows_drive_path", "image", 0, "C:\\Studies\\ct\\LI0001.nii.gz", "path", "row 2", "Windows path", "relative to the manifest's folder"),
    ("file_name_of_300_characters", "image", 0, "images/" + "x" * 300 + ".nii.gz", "path", "row 2", "column 'image'", "shorten the file or folder name"),
    ("binary_value_maybe", "asthma", 2, "maybe", "values", "row 4", "column 'asthma'", "'maybe' is not binary", "0/1"),
    ("lab_value_with_comparator", "total_ige", 1, ">2000", "values", "row 3", "column 'total_ige'", "'>2000' is not a number", "leave the cell empty"),
    ("label_two", "label", 0, "2", "values", "row 2", "column 'label'", "label '2' is not 0", "1 (eosinophilic)"),
    ("label_as_text", "label", 3, "eCRS", "values", "row 5", "column 'label'", "label 'eCRS' is not 0"),
    ("label_empty", "label", 1, "", "values", "row 3", "column 'label'", "empty cell", "needs a value on every row"),
    ("empty_patient_id", "patient_id", 2, "", "values", "row 4", "empty patient id"),
    ("date_day_first", "scan_date", 0, "04/03/2021", "values", "row 2", "column 'scan_date'", "'04/03/2021' could be 2021-03-04 or 2021-04-03", "write it as YYYY-MM-DD"),
    ("date_in_the_future", "scan_date", 0, "2099-01-05", "values", "row 2", "column 'scan_date'", "in the future"),
    ("mask_cell_empty", "roi_mask", 0, "", "values", "row 2", "column 'roi_mask'", "empty cell"),
    ("unknown_centre", "center", 0, "Hospital A", "study", "row 2", "column 'center'", "unknown centre 'Hospital A'", "did you mean 'hospital_A'", LI),
]


def _one_cell(column: str, row: int, value: str) -> Callable[[Path], None]:
    return lambda f: set_cell(f, column, row, value)


for name, column, row, value, kind, *rest in ONE_CELL:
    expect = tuple(w for w in rest if isinstance(w, str))
    args = next((a for a in rest if isinstance(a, list)), ())
    BAD.append(Case(name, kind, _one_cell(column, row, value), expect, tuple(args)))


# ------------------------------------------------------------------------------ realistic, passing


@good("baseline", "40 patients", "ready for study li2025", "sets: train", args=LI, cohort="li")
def synthetic_cohort_as_generated(f):
    pass


@good("scanner", "the table and its files are valid", "would start for li2025", "li2025: a run would start", "mtlnet2025: a run would not start", "runs li2025 only")
def padding_minus_3024_outside_the_field_of_view(f):
    def fn(a):
        a = a.copy()
        a[:, :4, :] = -3024
        a[:, :, :3] = -3024
        return a

    rewrite(f, 0, fn)


@good("scanner", "the table and its files are valid")
def metal_at_12000_hu(f):
    def fn(a):
        a = a.copy()
        a[5, 14:17, 14:17] = 12000
        return a

    rewrite(f, 0, fn)


@good("encoding", "UTF-8 with byte-order mark")
def utf8_with_bom(f):
    write_m(f, read_m(f), encoding="utf-8-sig")


@good("encoding", "separator ';'")
def semicolons_and_decimal_commas(f):
    m = read_m(f)
    m["age"] = [v.replace(".", ",") for v in m["bmi"]]
    write_m(f, m, sep=";")


@good("encoding", "Windows-1252", "remarque")
def cp1252_with_accents(f):
    m = read_m(f)
    m["remarque"] = ["évalué à l'hôpital"] * len(m)
    write_m(f, m, encoding="cp1252")


@good("encoding", "UTF-16", "separator tab")
def utf16_tab_separated(f):
    write_m(f, read_m(f), encoding="utf-16", sep="\t")


@good("excel", "Excel worksheet 'Patients'", "3 empty row(s) ignored (row 42-44)")
def xlsx_with_dates_and_three_empty_rows(f):
    from openpyxl import Workbook

    m = read_m(f)
    wb = Workbook()
    ws = wb.active
    ws.title = "Patients"
    ws.append(list(m.columns))
    for r in m.itertuples(index=False):
        row = [pd.Timestamp(v).to_pydatetime() if c == "scan_date" else (float(v) if c not in ("patient_id", "center", "image", "roi_mask", "sinus_mask") and v else v) for c, v in zip(m.columns, r)]
        ws.append(row)
    for _ in range(3):
        ws.append([None] * len(m.columns))
    for cell in ws[ws.max_row]:  # Excel keeps formatting on "empty" rows
        cell.number_format = "0.00"
    wb.save(f / "manifest.xlsx")
    return f / "manifest.xlsx"


@good("format", "2 empty row(s) ignored (row 42-43)")
def csv_with_trailing_separator_rows(f):
    text = (f / "manifest.csv").read_text(encoding="utf-8")
    width = text.splitlines()[0].count(",")
    (f / "manifest.csv").write_text(text + ("," * width + "\n") * 2, encoding="utf-8")


@good("columns", "'Patient_ID' read as 'patient_id'", "' Label ' read as 'label'")
def capitalised_and_padded_headers(f):
    edit(f, lambda m: m.rename(columns={"patient_id": "Patient_ID", "label": " Label ", "scan_date": "Scan Date"}))


@good("columns", "column 'MRN' is ignored and checked for in the rendered book")
def numeric_mrn_column_stays_out(f):
    edit(f, lambda m: m.insert(1, "MRN", [str(9_000_000 + i) for i in range(len(m))]))


@good("columns", "2 column(s) ignored (not in the data dictionary): tissue_eos_hpf, comments")
def undeclared_columns_are_listed_as_ignored(f):
    edit(f, lambda m: m.assign(tissue_eos_hpf=[str(5 + 20 * int(v)) for v in m["label"]], comments="ok"))


@good("dictionary", "read as 'patient_id'", "read as 'image'")
def hospital_names_declared_in_the_dictionary(f):
    edit(f, lambda m: m.rename(columns={"patient_id": "Study number", "image": "CT file"}))
    set_dictionary(f, lambda c: [c.pop("patient_id"), c.pop("image"), c.update({"Study number": "id", "CT file": "image"})])


@good("paths", "the table and its files are valid")
def windows_backslash_relative_paths(f):
    edit(f, lambda m: m.__setitem__("image", [v.replace("/", "\\") for v in m["image"]]))


@good("paths", "the table and its files are valid")
def absolute_paths(f):
    edit(f, lambda m: m.__setitem__("image", [str((f / v).resolve()) for v in m["image"]]))


@good("values", "the table and its files are valid")
def missing_values_written_na_and_yes_no(f):
    def fn(m):
        m["bmi"] = ["NA" if i % 3 == 0 else v for i, v in enumerate(m["bmi"])]
        m["asthma"] = ["yes" if v == "1.0" else "No" for v in m["asthma"]]

    edit(f, fn)


@good("dates", "the table and its files are valid")
def dates_in_every_unambiguous_form(f):
    forms = ("{:%Y%m%d}", "{:%Y/%m/%d}", "{:%Y-%m-%d} 10:15:00", "{:%Y-%m-%dT%H:%M:%S}", "{:%Y.%m.%d}")

    def fn(m):
        m["scan_date"] = [forms[i % len(forms)].format(pd.Timestamp(v)) for i, v in enumerate(m["scan_date"])]
        m.loc[0, "scan_date"] = "25/03/2021"  # day first: only one reading is a date

    edit(f, fn)


@good("dates", "ready for study li2025", "sets: train", args=LI)
def excel_serial_dates_in_the_date_column_keep_the_split(f):
    from openpyxl.utils.datetime import to_excel

    edit(f, lambda m: m.__setitem__("scan_date", [str(int(to_excel(pd.Timestamp(v).to_pydatetime()))) for v in m["scan_date"]]))


@good("values", "column 'bmi': 6 missing value(s) (", "#N/A 1", "#DIV/0! 1", "- 1")
def spreadsheet_missing_markers_in_a_clinical_column(f):
    markers = ["#N/A", "NA", "n/a", "-", "#DIV/0!", "."]
    edit(f, lambda m: m.__setitem__("bmi", [markers[i] if i < len(markers) else v for i, v in enumerate(m["bmi"])]))


@good("values", "ready for study li2025", args=LI)
def label_words_through_a_declared_mapping(f):
    edit(f, lambda m: m.__setitem__("label", ["eCRS" if v == "1" else "non-eCRS" for v in m["label"]]))
    set_dictionary(f, lambda c: c.update({"label": {"role": "label", "values": {"eCRS": 1, "non-eCRS": 0}}}))


@good("values", "ready for study li2025", args=LI)
def label_yes_no_through_an_unquoted_yaml_mapping(f):
    edit(f, lambda m: m.__setitem__("label", ["Yes" if v == "1" else "no" for v in m["label"]]))
    p = f / "manifest.dictionary.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("  label: label\n", "  label: {role: label, values: {yes: 1, no: 0}}\n"), encoding="utf-8")
    assert "values: {yes: 1" in p.read_text(encoding="utf-8")


@bad("values", "label 'TRUE' is not 0", "write this entry", "label: {role: label, values: {'FALSE': 0, 'TRUE': 1}}", "nothing was written")
def label_true_false_without_a_mapping(f):
    edit(f, lambda m: m.__setitem__("label", ["TRUE" if v == "1" else "FALSE" for v in m["label"]]))


@bad("values", "label 'eCRS' is not 0", "label: {role: label, values: {eCRS: 1, non-eCRS: 0}}")
def label_ecrs_words_without_a_mapping(f):
    edit(f, lambda m: m.__setitem__("label", ["eCRS" if v == "1" else "non-eCRS" for v in m["label"]]))


@bad("values", "column 'center'", "'#N/A' marks a missing value", "needs a value on every row")
def missing_marker_in_a_required_column(f):
    set_cell(f, "center", 1, "#N/A")


@bad("values", "column 'bmi'", "'NA' marks a missing value", "missing: false")
def missing_value_where_the_dictionary_refuses_it(f):
    set_cell(f, "bmi", 0, "NA")
    set_dictionary(f, lambda c: c.update({"bmi": {**c["bmi"], "missing": False}}))


@bad("dates", "'03/04/2021' could be 2021-03-04 or 2021-04-03", "YYYY-MM-DD", "row 3")
def ambiguous_date_among_unambiguous_ones(f):
    edit(f, lambda m: m.__setitem__("scan_date", ["25/03/2021"] + ["03/04/2021"] + list(m["scan_date"][2:])))


@bad("study", "study li2025", "at least 8 of each", "study mtlnet2025", "unknown centre", "nothing was written", args=SMOKE)
def no_study_would_start_though_the_table_is_valid(f):
    pass


@good("truth", "truth.csv beside the manifest is ignored")
def empty_truth_csv_beside_a_hospital_manifest(f):
    (f / "generator.json").unlink()
    (f / "truth.csv").write_text("", encoding="utf-8")


@good("study", "will not compute the jesrec comparator", "Lund-Mackay scores", args=LI, cohort="li")
def no_lund_mackay_scores(f):
    edit(f, lambda m: m.drop(columns=[c for c in m.columns if c.startswith("lm_")]))
    set_dictionary(f, lambda c: [c.pop(k) for k in list(c) if k.startswith("lm_")])


@good("study", "ready for study mtlnet2025", args=MT, cohort="mt")
def mtlnet_cohort_as_generated(f):
    pass


# ------------------------------------------------------------------------------------ the tests


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def _run(case: Case, cohorts: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    folder = tmp_path / "cohort"
    shutil.copytree(cohorts[case.cohort], folder)
    out = case.build(folder)
    manifest = out if isinstance(out, Path) else folder / "manifest.csv"
    extra = out if isinstance(out, list) else []
    elsewhere = tmp_path / "elsewhere"  # relative paths must be read from the manifest's folder, not from here
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # outside the checkout, `--profile` reads the parameters of the checkout named by ECRS_PARAMS_DIR
    monkeypatch.setenv("ECRS_PARAMS_DIR", str(Path(__file__).resolve().parents[2] / "params"))
    before = _tree(tmp_path)
    capsys.readouterr()
    rc = cli.main(["validate", str(manifest), *case.args, *extra])
    captured = capsys.readouterr()
    assert _tree(tmp_path) == before, "validate wrote or changed a file"
    return rc, captured.out, captured.err


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_bad_input_is_refused_with_a_message_a_user_can_act_on(case, cohorts, tmp_path, monkeypatch, capsys):
    rc, out, err = _run(case, cohorts, tmp_path, monkeypatch, capsys)
    assert rc == 2, f"exit code {rc}; stdout: {out}; stderr: {err}"
    for words in case.expect:
        assert words in err, f"{words!r} not in:\n{err}"
    assert "nothing was written" in err
    assert "Traceback" not in err and "np.float" not in err and "np.int" not in err and "itk::" not in err.lower()
    # patients are named by row and a masked id ("L…01"); an id appears only inside a file name the user wrote
    assert not re.search(r"(?<![/\\\w])(LI|MT)\d{4}", err), "a patient id is shown unmasked"


@pytest.mark.parametrize("case", GOOD, ids=[c.name for c in GOOD])
def test_realistic_input_passes(case, cohorts, tmp_path, monkeypatch, capsys):
    rc, out, err = _run(case, cohorts, tmp_path, monkeypatch, capsys)
    assert rc == 0, f"exit code {rc}; stderr:\n{err}"
    for words in case.expect:
        assert words in out, f"{words!r} not in:\n{out}"


def test_the_catalogue_covers_every_kind():
    assert len(BAD) >= 40
    kinds = {c.kind for c in BAD}
    assert {"damaged scan", "mask", "duplicate", "calibration", "geometry", "columns", "dictionary", "values", "format", "study", "path"} <= kinds


def test_outside_a_checkout_the_table_is_still_checked(cohorts, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("ECRS_PARAMS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate", str(cohorts["small"] / "manifest.csv")]) == 0
    out = capsys.readouterr().out
    assert "the table and its files are valid" in out and "no ecrs-book checkout here" in out
    assert cli.main(["validate", str(cohorts["small"] / "manifest.csv"), "--study", "li2025"]) == 2
