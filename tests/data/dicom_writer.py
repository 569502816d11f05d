"""The test suite's DICOM writer: CT series, scouts, dose reports and other objects, written with pydicom.

Every UID is derived from the arguments (``generate_uid(entropy_srcs=...)``), so the files are
the same on every run.  Patient name and birth date are filled in so that tests can check
that no such header value reaches an output.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.67"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
PATIENT_NAME = "Testperson^Erika"
BIRTH_DATE = "19610812"


def uid(*parts: object) -> str:
    return generate_uid(entropy_srcs=[str(p) for p in parts])


def _base(sop_class: str, sop_uid: str, *, patient_id: str | None, study: str, series: str, modality: str, study_date: str | None,
          series_number: int | None, accession: str | None, institution: str | None, kernel: str | None, description: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    ds.PatientName, ds.PatientBirthDate = PATIENT_NAME, BIRTH_DATE
    if patient_id is not None:
        ds.PatientID = patient_id
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = study, series, modality
    for name, value in (("StudyDate", study_date), ("SeriesNumber", series_number),
                        ("InstitutionName", institution), ("ConvolutionKernel", kernel)):
        if value is not None:
            setattr(ds, name, value)
    ds.SeriesDescription = description
    ds.FrameOfReferenceUID = uid(study, "frame")
    ds.StudyID, ds.PatientSex, ds.ReferringPhysicianName, ds.Manufacturer = "1", "O", "", "ecrs-tests"
    ds.StudyTime, ds.AccessionNumber = "101500", accession or ""
    return ds


def _pixels(ds: Dataset, arr: np.ndarray) -> None:
    a = np.ascontiguousarray(arr.astype(np.int16))
    ds.Rows, ds.Columns = a.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope = "0", "1"
    ds.PixelData = a.tobytes()


def write_ct_series(
    folder: Path,
    image: sitk.Image,
    *,
    patient_id: str | None = "P001",
    study: str = "study-1",
    series_number: int | None = 2,
    study_date: str | None = "20210304",
    accession: str | None = "ACC1",
    institution: str | None = "Sinus Clinic North",
    kernel: str | None = "H30s",
    modality: str = "CT",
    sop_class: str = CT_IMAGE,
    image_type: Sequence[str] = ("ORIGINAL", "PRIMARY", "AXIAL"),
    description: str = "Sinus 0.6 H30s",
    slice_thickness: bool = True,
    prefix: str = "IM",
) -> list[Path]:
    """Write a 3D SimpleITK image (HU, any orientation) as one DICOM series, one file per slice."""
    folder.mkdir(parents=True, exist_ok=True)
    arr = sitk.GetArrayFromImage(image)  # (z, y, x)
    d = image.GetDirection()
    iop = [d[0], d[3], d[6], d[1], d[4], d[7]]
    sx, sy, sz = image.GetSpacing()
    study_uid, series_uid = uid(study), uid(study, series_number, kernel, modality, description)
    paths = []
    for k in range(arr.shape[0]):
        ds = _base(sop_class, uid(series_uid, k), patient_id=patient_id, study=study_uid, series=series_uid, modality=modality, study_date=study_date,
                   series_number=series_number, accession=accession, institution=institution, kernel=kernel, description=description)
        ds.ImageType = list(image_type)
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [f"{v:.6f}" for v in image.TransformIndexToPhysicalPoint((0, 0, k))]
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in iop]
        ds.PixelSpacing = [f"{sy:.6f}", f"{sx:.6f}"]
        if slice_thickness:
            ds.SliceThickness = f"{sz:.6f}"
        _pixels(ds, arr[k])
        p = folder / f"{prefix}{series_number or 0:02d}{k:04d}"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
    return paths


def write_scout(folder: Path, *, patient_id: str = "P001", study: str = "study-1", series_number: int = 1, **kw: object) -> Path:
    """A single localizer (scout) image."""
    image = sitk.GetImageFromArray(np.full((1, 32, 32), -1000, np.int16))
    image.SetSpacing((2.0, 2.0, 1.0))
    return write_ct_series(folder, image, patient_id=patient_id, study=study, series_number=series_number, image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"),
                           description="Topogram", prefix="SC", **kw)[0]  # type: ignore[arg-type]


def write_dose_report(folder: Path, *, patient_id: str = "P001", study: str = "study-1", study_date: str = "20210304") -> list[Path]:
    """What scanners send as a dose report: a structured report and a secondary-capture dose page."""
    folder.mkdir(parents=True, exist_ok=True)
    sr = _base(DOSE_SR, uid(study, "sr"), patient_id=patient_id, study=uid(study), series=uid(study, "sr-series"), modality="SR", study_date=study_date,
               series_number=997, accession="ACC1", institution=None, kernel=None, description="Dose Report")
    sr.save_as(folder / "SR0001", enforce_file_format=True)
    sc = _base(SECONDARY_CAPTURE, uid(study, "sc"), patient_id=patient_id, study=uid(study), series=uid(study, "sc-series"), modality="CT", study_date=study_date,
               series_number=999, accession="ACC1", institution=None, kernel=None, description="Dose Info")
    sc.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
    _pixels(sc, np.zeros((32, 32)))
    sc.save_as(folder / "SC0999", enforce_file_format=True)
    return [folder / "SR0001", folder / "SC0999"]


def head_phantom(*, size: tuple[int, int, int] = (24, 24, 0), spacing: tuple[float, float, float] = (1.0, 1.0, 0.6), coverage_mm: float = 72.0,
                 origin: tuple[float, float, float] = (-12.0, -12.0, -40.0)) -> sitk.Image:
    """A small CT-like volume in HU: air around a water ellipse with a bone ring, ``coverage_mm`` long in z."""
    nz = size[2] or int(round(coverage_mm / spacing[2]))
    z, y, x = np.mgrid[:nz, : size[1], : size[0]]
    r = np.hypot((x - size[0] / 2) / (size[0] * 0.4), (y - size[1] / 2) / (size[1] * 0.45))
    arr = np.where(r < 1, 40, -1000).astype(np.int16)
    arr[(r > 0.8) & (r < 1)] = 900
    arr += (z % 7).astype(np.int16)  # slices differ, so a reordering would show
    image = sitk.GetImageFromArray(arr)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    return image
