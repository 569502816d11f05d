"""Slicer, DICOM-SEG and RTSTRUCT masks: each placed on the CT grid equals the same mask saved as NIfTI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
import slicerio
import yaml
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian

from ecrs_analysis import cli
from ecrs_analysis.data.imageio import Geometry, read_image, write_image
from ecrs_analysis.data.integrity import mask_problems
from ecrs_analysis.data.masks import MaskReadError, mask_format, read_mask, segment_names
from ecrs_analysis.data.settings import PreprocessSettings
from ecrs_analysis.data.preprocess import preprocess_patient

from .dicom_writer import head_phantom, uid, write_ct_series


@pytest.fixture(scope="module")
def ct(tmp_path_factory) -> dict[str, object]:
    """A small CT as a DICOM series, its grid, and two masks (an ROI with a hole, a sinus block) as NIfTI."""
    root = tmp_path_factory.mktemp("masks")
    image = head_phantom(spacing=(1.0, 1.0, 2.0), coverage_mm=40.0)  # 24 x 24 x 20
    files = write_ct_series(root / "ct", image)
    back = read_image(root / "ct")
    geom = Geometry.of(back)
    roi = np.zeros(sitk.GetArrayFromImage(back).shape, np.uint8)  # (z, y, x)
    roi[5:9, 6:14, 8:16] = 1
    roi[6:8, 8:11, 10:13] = 0  # a hole
    sinus = np.zeros_like(roi)
    sinus[3:12, 4:10, 4:20] = 1  # overlaps the ROI
    nifti = {}
    for name, arr in (("roi", roi), ("sinus", sinus)):
        nifti[name] = write_image(arr, root / f"{name}.nii.gz", spacing=geom.spacing, origin=geom.origin, direction=geom.direction)
    return {"root": root, "files": files, "geom": geom, "roi": roi, "sinus": sinus, "nifti": nifti, "ct_dir": root / "ct"}


def _ijk_to_lps(geom: Geometry, offset=(0, 0, 0)) -> np.ndarray:
    d = np.asarray(geom.direction).reshape(3, 3) * np.asarray(geom.spacing)
    m = np.eye(4)
    m[:3, :3] = d
    m[:3, 3] = np.asarray(geom.origin) + d @ np.asarray(offset, dtype=float)
    return m


def write_slicer(path: Path, geom: Geometry, segments: dict[str, np.ndarray], *, crop: bool = True, layers: bool = False, flip_x: bool = False) -> Path:
    """A .seg.nrrd as 3D Slicer saves it: named segments as label values (or layers), cropped to their extent."""
    zyx = list(segments.values())
    union = np.any(np.stack(zyx), axis=0)
    nz = np.argwhere(union)
    lo, hi = (nz.min(0), nz.max(0) + 1) if crop else (np.zeros(3, int), np.asarray(union.shape))
    sl = tuple(slice(a, b) for a, b in zip(lo, hi))
    offset = tuple(int(x) for x in lo[::-1])  # (i, j, k)
    ijk = [a[sl].transpose(2, 1, 0) for a in zyx]
    if layers:
        voxels = np.stack([a.astype(np.uint8) for a in ijk])  # one layer per segment, label 1 in each
        info = [{"id": f"Segment_{k + 1}", "name": n, "labelValue": 1, "layer": k} for k, n in enumerate(segments)]
    else:
        voxels = np.zeros(ijk[0].shape, np.uint8)
        for k, a in enumerate(ijk):
            voxels[a > 0] = k + 1  # later segments overwrite earlier ones where they overlap
        info = [{"id": f"Segment_{k + 1}", "name": n, "labelValue": k + 1, "layer": 0} for k, n in enumerate(segments)]
    m = _ijk_to_lps(geom, offset)
    if flip_x:  # the same voxels with the i axis reversed (Slicer writes RAS-oriented volumes this way)
        voxels = voxels[..., ::-1, :, :] if layers else voxels[::-1]
        m[:3, 3] = m[:3, 3] + m[:3, 0] * ((voxels.shape[1] if layers else voxels.shape[0]) - 1)
        m[:3, 0] = -m[:3, 0]
    for s in info:
        s["color"] = [0.5, 0.5, 0.5]
    slicerio.write_segmentation(str(path), {"voxels": voxels, "ijkToLPS": m, "segments": info, "encoding": "gzip"})
    return path


def write_dicom_seg(path: Path, ct: dict, segments: dict[str, np.ndarray]) -> Path:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    src = [pydicom.dcmread(f) for f in ct["files"]]
    stack = np.stack([a for a in segments.values()], axis=-1).astype(np.uint8)  # (frames, rows, columns, segments)
    descs = [hd.seg.SegmentDescription(segment_number=k + 1, segment_label=n, segmented_property_category=codes.SCT.Tissue,
                                       segmented_property_type=codes.SCT.Tissue, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
             for k, n in enumerate(segments)]
    seg = hd.seg.Segmentation(source_images=src, pixel_array=stack, segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=descs,
                              series_instance_uid=uid("seg"), series_number=100, sop_instance_uid=uid("seg", 1), instance_number=1,
                              manufacturer="ecrs-tests", manufacturer_model_name="tests", software_versions="1", device_serial_number="1")
    seg.save_as(path)
    return path


def _box_contours(geom: Geometry, z: int, box: tuple[int, int, int, int]) -> list[float]:
    """A rectangle around pixels x0..x1-1, y0..y1-1 of slice z, its corners half a voxel outside, in patient coordinates."""
    ref = sitk.Image([int(s) for s in geom.size], sitk.sitkUInt8)
    ref.SetSpacing(geom.spacing)
    ref.SetOrigin(geom.origin)
    ref.SetDirection(geom.direction)
    x0, x1, y0, y1 = box
    corners = [(x0 - 0.5, y0 - 0.5), (x1 - 0.5, y0 - 0.5), (x1 - 0.5, y1 - 0.5), (x0 - 0.5, y1 - 0.5)]
    return [c for x, y in corners for c in ref.TransformContinuousIndexToPhysicalPoint((x, y, float(z)))]


def write_rtstruct(path: Path, geom: Geometry, regions: dict[str, list[tuple[int, tuple[int, int, int, int]]]]) -> Path:
    """An RT Structure Set with closed planar contours (z, box) per region, written with pydicom."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.481.3"
    meta.MediaStorageSOPInstanceUID = uid("rt")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "RTSTRUCT"
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P001", uid("study-1"), uid("rt-series")
    ds.StructureSetROISequence = DicomSequence()
    ds.ROIContourSequence = DicomSequence()
    for number, (name, contours) in enumerate(regions.items(), start=1):
        roi = Dataset()
        roi.ROINumber, roi.ROIName = number, name
        ds.StructureSetROISequence.append(roi)
        rc = Dataset()
        rc.ReferencedROINumber = number
        rc.ContourSequence = DicomSequence()
        for z, box in contours:
            c = Dataset()
            c.ContourGeometricType = "CLOSED_PLANAR"
            data = _box_contours(geom, z, box)
            c.NumberOfContourPoints = len(data) // 3
            c.ContourData = [f"{v:.4f}" for v in data]
            rc.ContourSequence.append(c)
        ds.ROIContourSequence.append(rc)
    ds.save_as(path, enforce_file_format=True)
    return path


def _roi_contours() -> list[tuple[int, tuple[int, int, int, int]]]:
    """The fixture's ROI as contours: the box on slices 5-8, and its hole on slices 6-7."""
    return [(z, (8, 16, 6, 14)) for z in range(5, 9)] + [(z, (10, 13, 8, 11)) for z in (6, 7)]


def _same_as_nifti(mask: sitk.Image, ct: dict, name: str = "roi") -> None:
    nifti = read_image(ct["nifti"][name])
    assert not Geometry.of(mask).mismatch(Geometry.of(nifti))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(mask), sitk.GetArrayFromImage(nifti))
    assert mask_problems(mask, ct["geom"]) == mask_problems(nifti, ct["geom"]) == []


# ----------------------------------------------------------------------------------------- Slicer


@pytest.mark.parametrize("layers, crop, flip_x", [(False, True, False), (True, True, False), (False, False, True), (True, True, True)])
def test_slicer_segment_by_name_equals_the_nifti_mask(ct, tmp_path, layers, crop, flip_x):
    # label values: the sinus written last overwrites the ROI where they overlap, so the ROI is only whole in layers
    segments = {"Segment_1": ct["roi"], "sinus": ct["sinus"]} if layers else {"sinus": ct["sinus"], "Segment_1": ct["roi"]}
    p = write_slicer(tmp_path / "m.seg.nrrd", ct["geom"], segments, crop=crop, layers=layers, flip_x=flip_x)
    assert mask_format(p) == "slicer" and segment_names(p) == list(segments)
    _same_as_nifti(read_mask(p, reference=ct["geom"], segment="Segment_1"), ct)
    if layers:
        _same_as_nifti(read_mask(p, reference=ct["geom"], segment="sinus"), ct, "sinus")


def test_slicer_unknown_or_missing_segment_name_lists_the_segments(ct, tmp_path):
    p = write_slicer(tmp_path / "m.seg.nrrd", ct["geom"], {"Segment_1": ct["roi"], "Sinuses": ct["sinus"]}, layers=True)
    with pytest.raises(MaskReadError, match="no segment named 'ROI' in the file; its segments are: 'Segment_1', 'Sinuses'"):
        read_mask(p, reference=ct["geom"], segment="ROI")
    with pytest.raises(MaskReadError, match="holds 2 segments .*segment: NAME"):
        read_mask(p, reference=ct["geom"])
    one = write_slicer(tmp_path / "one.seg.nrrd", ct["geom"], {"Segment_1": ct["roi"]})
    _same_as_nifti(read_mask(one, reference=ct["geom"]), ct)  # one segment needs no name


def test_slicer_segmentation_on_another_grid_is_refused_as_a_nifti_mask_is(ct, tmp_path):
    g = ct["geom"]
    other = Geometry(g.size, (g.spacing[0] * 2, g.spacing[1], g.spacing[2]), g.origin, g.direction)
    p = write_slicer(tmp_path / "m.seg.nrrd", other, {"Segment_1": ct["roi"]})
    with pytest.raises(MaskReadError, match="not on its CT's voxel grid .*spacing"):
        read_mask(p, reference=g)
    shifted = Geometry(g.size, g.spacing, (g.origin[0] + 0.4, g.origin[1], g.origin[2]), g.direction)
    p = write_slicer(tmp_path / "s.seg.nrrd", shifted, {"Segment_1": ct["roi"]})
    with pytest.raises(MaskReadError, match="between the CT's voxels"):
        read_mask(p, reference=g)


# -------------------------------------------------------------------------------------- DICOM-SEG


def test_dicom_seg_segment_by_name_equals_the_nifti_mask(ct, tmp_path):
    p = write_dicom_seg(tmp_path / "seg.dcm", ct, {"Sinuses": ct["sinus"], "ROI": ct["roi"]})
    assert mask_format(p) == "dicom-seg" and segment_names(p) == ["Sinuses", "ROI"]
    _same_as_nifti(read_mask(p, reference=ct["geom"], segment="ROI"), ct)
    _same_as_nifti(read_mask(p, reference=ct["geom"], segment="sinuses"), ct, "sinus")  # case-insensitive when unambiguous
    with pytest.raises(MaskReadError, match="its segments are: 'Sinuses', 'ROI'"):
        read_mask(p, reference=ct["geom"], segment="Segment_1")


# --------------------------------------------------------------------------------------- RTSTRUCT


def test_rtstruct_contours_rasterised_equal_the_nifti_mask(ct, tmp_path):
    p = write_rtstruct(tmp_path / "rt.dcm", ct["geom"], {"External": [(z, (1, 23, 1, 23)) for z in range(20)], "ROI": _roi_contours()})
    assert mask_format(p) == "rtstruct" and segment_names(p) == ["External", "ROI"]
    _same_as_nifti(read_mask(p, reference=ct["geom"], segment="ROI"), ct)
    with pytest.raises(MaskReadError, match="its segments are: 'External', 'ROI'"):
        read_mask(p, reference=ct["geom"], segment="Sinus")


def test_rtstruct_drawn_on_another_scan_is_refused(ct, tmp_path):
    g = ct["geom"]
    other = Geometry(g.size, g.spacing, (g.origin[0], g.origin[1], g.origin[2] + 1.0), g.direction)  # between the CT's slices
    p = write_rtstruct(tmp_path / "rt.dcm", other, {"ROI": _roi_contours()})
    with pytest.raises(MaskReadError, match="does not lie on one of the CT's slices"):
        read_mask(p, reference=g)


# ---------------------------------------------------------------------- through validation and preprocessing


def _manifest(folder: Path, ct: dict, mask: Path, segment: str | None) -> Path:
    folder.mkdir(exist_ok=True)
    pd.DataFrame({"patient_id": ["P0001"], "center": ["hospital_A"], "scan_date": ["2021-03-04"], "label": [1], "image": [str(ct["ct_dir"])], "roi_mask": [str(mask)]}).to_csv(folder / "manifest.csv", index=False)
    if segment:
        (folder / "manifest.dictionary.yaml").write_text(yaml.safe_dump({"columns": {"roi_mask": {"role": "mask", "mask": "roi_mask", "segment": segment}}}), encoding="utf-8")
    return folder / "manifest.csv"


def test_each_format_passes_validation_and_preprocesses_as_the_nifti_mask(ct, tmp_path, monkeypatch, capsys):
    from ecrs_analysis.data.manifest import validate_manifest

    files = {
        "slicer": write_slicer(tmp_path / "m.seg.nrrd", ct["geom"], {"Segment_1": ct["roi"], "sinus": ct["sinus"]}, layers=True),
        "dicom-seg": write_dicom_seg(tmp_path / "seg.dcm", ct, {"Segment_1": ct["roi"], "sinus": ct["sinus"]}),
        "rtstruct": write_rtstruct(tmp_path / "rt.dcm", ct["geom"], {"Segment_1": _roi_contours(), "sinus": [(5, (0, 3, 0, 3))]}),
    }
    params = PreprocessSettings(spacing_mm=[2.0, 2.0, 2.0], hu_window=[-1000.0, 1000.0], input_size=[16, 16, 8], margin_mm=4.0, crop_to="roi_mask")
    reference = preprocess_patient(ct["ct_dir"], {"roi_mask": ct["nifti"]["roi"]}, params)
    for kind, path in files.items():
        cohort = validate_manifest(_manifest(tmp_path / kind, ct, path, "Segment_1"), mask_columns=("roi_mask",))
        assert cohort.mask_segments == {"roi_mask": "Segment_1"}
        got = preprocess_patient(ct["ct_dir"], {"roi_mask": path}, params, segments=dict(cohort.mask_segments))
        for key in ("image", "roi_mask", "spacing_mm"):
            np.testing.assert_array_equal(got[key], reference[key], err_msg=f"{kind}: {key}")
    # an unknown segment is a validation problem naming the file's segments, never a traceback
    monkeypatch.setenv("ECRS_PARAMS_DIR", str(Path(__file__).resolve().parents[2] / "params"))
    m = _manifest(tmp_path / "bad", ct, files["slicer"], None)
    assert cli.main(["validate", str(m), "--masks", "roi_mask", "--mask", "roi_mask=ROI"]) == 2
    err = capsys.readouterr().err
    assert "column 'roi_mask'" in err and "no segment named 'ROI' in the file; its segments are: 'Segment_1', 'sinus'" in err


def test_the_segment_names_survive_the_cohort_stage(ct, tmp_path):
    """The workflow's later stages reload the cohort from its artefacts: the segment must come back with it."""
    from ecrs_analysis.data import study as S
    from ecrs_analysis.data.manifest import validate_manifest

    p = write_slicer(tmp_path / "m.seg.nrrd", ct["geom"], {"Segment_1": ct["roi"], "sinus": ct["sinus"]}, layers=True)
    cohort = validate_manifest(_manifest(tmp_path / "c", ct, p, "Segment_1"), mask_columns=("roi_mask",))
    paths = S.ResultPaths(tmp_path / "results")
    S._save_cohort(cohort, paths, "li2025", synthetic=False)
    assert dict(S.load_cohort(paths, "li2025").mask_segments) == {"roi_mask": "Segment_1"}
