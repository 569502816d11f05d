"""Masks as radiologists save them: 3D Slicer ``.seg.nrrd``, DICOM-SEG and RTSTRUCT, onto the CT's grid.

ITK-SNAP and most tools save a mask as NIfTI/NRRD on the CT's own voxel grid; those are read by
:func:`~ecrs_analysis.data.imageio.read_image` as they are.  Three other forms are common:

- **3D Slicer segmentation** (``.seg.nrrd``): several named segments in one file, stored as label
  values (or layers where segments overlap), often cropped to the segments' extent.  Read with
  ``slicerio``, which reads the segment names, label values and layers from the header.
- **DICOM-SEG** (Segmentation Storage): named segments as binary frames.  Read with ``highdicom``.
- **RTSTRUCT** (RT Structure Set): named regions as planar contours in patient coordinates,
  rasterised here onto the CT's slices (``skimage.draw.polygon``, the even-odd rule, so a contour
  inside another cuts a hole).  ``rt-utils`` would do the same but pulls in OpenCV for its polygon
  fill; scikit-image is already a dependency.

Each is turned into a 0/1 image on the CT's grid, the grid the NIfTI path requires; it is then
checked exactly as a NIfTI mask is (:func:`~ecrs_analysis.data.integrity.mask_problems`) and
preprocessed into the cache once, like any mask.  A labelmap (Slicer, DICOM-SEG) must share the
CT's spacing and orientation and lie on its voxel lattice (a crop of it): it is then placed, never
resampled.  The segment is chosen by name (the data dictionary's ``segment:`` for the mask column,
or ``ecrs validate --mask roi_mask=NAME``); a file with one segment needs no name, and an unknown
name is answered with the names the file holds.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ecrs_analysis.data.imageio import Geometry
from ecrs_analysis.data.imageio import read_image

__all__ = ["MaskReadError", "mask_format", "segment_names", "read_mask", "load_mask", "FORMATS"]

FORMATS = {"slicer": "3D Slicer segmentation (.seg.nrrd)", "dicom-seg": "DICOM-SEG", "rtstruct": "DICOM RTSTRUCT"}
SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
RTSTRUCT_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
LATTICE_TOL = 0.05
"""How far (in voxels) a labelmap's origin may lie off the CT's voxel lattice."""


class MaskReadError(ValueError):
    """A radiologist's mask that cannot be placed on its CT; the message says why and what to do."""


def mask_format(path: str | os.PathLike[str]) -> str | None:
    """``slicer``, ``dicom-seg`` or ``rtstruct`` for such a file, None for anything else (NIfTI, NRRD, a folder)."""
    p = Path(path)
    if p.name.lower().endswith(".seg.nrrd"):
        return "slicer"
    if not p.is_file() or p.name.lower().endswith((".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")):
        return None
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(p, stop_before_pixels=True, specific_tags=["SOPClassUID", "Modality"])
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError, AttributeError):
        return None
    sop = str(getattr(ds, "SOPClassUID", "") or getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", ""))
    if sop == SEG_STORAGE or str(getattr(ds, "Modality", "")) == "SEG":
        return "dicom-seg"
    if sop == RTSTRUCT_STORAGE or str(getattr(ds, "Modality", "")) == "RTSTRUCT":
        return "rtstruct"
    return None


def _pick(names: list[str], segment: str | None, path: Path) -> str:
    if segment is None:
        if len(names) == 1:
            return names[0]
        raise MaskReadError(f"the file holds {len(names)} segments ({', '.join(repr(n) for n in names)}); say which one is the mask: "
                            "segment: NAME in the mask column's data-dictionary entry (or ecrs validate --mask roi_mask=NAME)")
    if segment in names:
        return segment
    folded = [n for n in names if n.casefold() == segment.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise MaskReadError(f"no segment named '{segment}' in the file; its segments are: {', '.join(repr(n) for n in names) or 'none'}")


def segment_names(path: str | os.PathLike[str]) -> list[str]:
    """The segment (region) names a Slicer, DICOM-SEG or RTSTRUCT file holds, in file order."""
    p = Path(path)
    kind = mask_format(p)
    if kind == "slicer":
        import slicerio

        return [str(s["name"]) for s in slicerio.read_segmentation(str(p), skip_voxels=True)["segments"]]
    if kind == "dicom-seg":
        import highdicom as hd

        seg = hd.seg.segread(p)
        return [str(d.SegmentLabel) for d in seg.SegmentSequence]
    if kind == "rtstruct":
        import pydicom

        ds = pydicom.dcmread(p, stop_before_pixels=True)
        return [str(r.ROIName) for r in getattr(ds, "StructureSetROISequence", [])]
    raise MaskReadError(f"{p}: not a Slicer segmentation, DICOM-SEG or RTSTRUCT file")


def _empty_on(ct: Geometry) -> np.ndarray:
    return np.zeros(tuple(reversed(ct.size)), dtype=np.uint8)  # (z, y, x)


def _reference(ct: Geometry) -> sitk.Image:
    ref = sitk.Image([int(s) for s in ct.size], sitk.sitkUInt8)
    ref.SetSpacing(ct.spacing)
    ref.SetOrigin(ct.origin)
    ref.SetDirection(ct.direction)
    return ref


def _as_image(arr_zyx: np.ndarray, ct: Geometry) -> sitk.Image:
    image = sitk.GetImageFromArray(np.ascontiguousarray(arr_zyx.astype(np.uint8)))
    image.SetSpacing(ct.spacing)
    image.SetOrigin(ct.origin)
    image.SetDirection(ct.direction)
    return image


def _align(arr: np.ndarray, m: np.ndarray, ct: Geometry, what: str) -> tuple[np.ndarray, np.ndarray]:
    """The labelmap's axes permuted and flipped to the CT's axis order (DICOM-SEG stores slices first, Slicer may flip)."""
    ct_dir = np.asarray(ct.direction, dtype=float).reshape(3, 3)
    cols = m[:3, :3] / np.maximum(np.linalg.norm(m[:3, :3], axis=0), 1e-12)
    dots = ct_dir.T @ cols  # [CT axis b, labelmap axis a]
    perm = [int(np.argmax(np.abs(dots[b]))) for b in range(3)]
    if sorted(perm) != [0, 1, 2] or any(abs(dots[b, perm[b]]) < 0.99 for b in range(3)):
        raise MaskReadError(f"the {what} is not on its CT's voxel grid (its axes are rotated against the CT's): it must be drawn on this CT; re-create it on the CT's own grid")
    out = np.transpose(arr, perm)
    new = np.eye(4)
    new[:3, 3] = m[:3, 3]
    for b in range(3):
        col = m[:3, perm[b]]
        if dots[b, perm[b]] < 0:
            out = np.flip(out, axis=b)
            new[:3, 3] = new[:3, 3] + col * (out.shape[b] - 1)
            col = -col
        new[:3, b] = col
    return np.ascontiguousarray(out), new


def _place(labelmap_ijk: np.ndarray, ijk_to_lps: np.ndarray, ct: Geometry, what: str) -> sitk.Image:
    """A 0/1 labelmap (array axes i, j, k) with its index-to-LPS matrix, placed on the CT's grid (same spacing and axes, on its lattice)."""
    labelmap_ijk, m = _align(np.asarray(labelmap_ijk), np.asarray(ijk_to_lps, dtype=float), ct, what)
    spacing = np.linalg.norm(m[:3, :3], axis=0)
    direction = m[:3, :3] / np.where(spacing > 0, spacing, 1)
    own = Geometry(tuple(int(s) for s in labelmap_ijk.shape), tuple(float(s) for s in spacing), tuple(float(o) for o in m[:3, 3]), tuple(direction.ravel().tolist()))
    diff = [d for d in Geometry(own.size, ct.spacing, own.origin, ct.direction).mismatch(own) if not d.startswith("origin")]
    if diff:
        raise MaskReadError(f"the {what} is not on its CT's voxel grid ({'; '.join(diff)}): it must be drawn on this CT; re-create it on the CT's own grid")
    ref = _reference(ct)
    offset = np.asarray(ref.TransformPhysicalPointToContinuousIndex(own.origin))
    if np.abs(offset - np.round(offset)).max() > LATTICE_TOL:
        raise MaskReadError(f"the {what} lies between the CT's voxels (its origin falls at voxel {', '.join(f'{x:.2f}' for x in offset)} of the CT): it must be drawn on this CT's grid")
    o = np.round(offset).astype(int)
    out = _empty_on(ct).transpose(2, 1, 0)  # (i, j, k) view of the (z, y, x) array
    lo = np.maximum(o, 0)
    hi = np.minimum(o + np.asarray(labelmap_ijk.shape), np.asarray(ct.size))
    src = labelmap_ijk.astype(bool)
    if np.any(hi <= lo):
        inside = np.zeros_like(src)
    else:
        inside = np.zeros_like(src)
        sl = tuple(slice(a - b, c - b) for a, b, c in zip(lo, o, hi))
        inside[sl] = True
        out[tuple(slice(a, c) for a, c in zip(lo, hi))] = src[sl]
    if np.any(src & ~inside):
        raise MaskReadError(f"the {what} reaches outside its CT's field of view ({int(np.count_nonzero(src & ~inside))} voxel(s)): is it drawn on another scan of this patient?")
    return _as_image(out.transpose(2, 1, 0), ct)


def _slicer(p: Path, segment: str | None, ct: Geometry) -> sitk.Image:
    import slicerio

    seg = slicerio.read_segmentation(str(p))
    names = [str(s["name"]) for s in seg["segments"]]
    name = _pick(names, segment, p)
    info = seg["segments"][names.index(name)]
    voxels = np.asarray(seg["voxels"])
    layer = voxels[int(info.get("layer", 0) or 0)] if voxels.ndim == 4 else voxels
    return _place(layer == int(info["labelValue"]), seg["ijkToLPS"], ct, f"segment '{name}'")


def _dicom_seg(p: Path, segment: str | None, ct: Geometry) -> sitk.Image:
    import highdicom as hd

    seg = hd.seg.segread(p)
    labels = [str(d.SegmentLabel) for d in seg.SegmentSequence]
    name = _pick(labels, segment, p)
    number = int(seg.SegmentSequence[labels.index(name)].SegmentNumber)
    try:
        vol = seg.get_volume(segment_numbers=[number], combine_segments=True, relabel=True)
    except (RuntimeError, ValueError) as exc:
        raise MaskReadError(f"the DICOM-SEG's frames do not form one regular volume ({str(exc).splitlines()[0]}); export it again from the segmentation tool") from None
    arr = np.asarray(vol.array)
    return _place(arr > 0, np.asarray(vol.affine), ct, f"segment '{name}'")


def _rtstruct(p: Path, segment: str | None, ct: Geometry) -> sitk.Image:
    import pydicom
    from skimage.draw import polygon

    ds = pydicom.dcmread(p)
    rois = {int(r.ROINumber): str(r.ROIName) for r in getattr(ds, "StructureSetROISequence", [])}
    name = _pick(list(rois.values()), segment, p)
    number = next(k for k, v in rois.items() if v == name)
    contours = [c for rc in getattr(ds, "ROIContourSequence", []) if int(rc.ReferencedROINumber) == number for c in getattr(rc, "ContourSequence", [])]
    ref = _reference(ct)
    out = _empty_on(ct)
    nz, ny, nx = out.shape
    for c in contours:
        if str(getattr(c, "ContourGeometricType", "CLOSED_PLANAR")) not in ("CLOSED_PLANAR", "CLOSEDPLANAR"):
            continue  # points and open lines mark no area
        pts = np.asarray([float(v) for v in c.ContourData]).reshape(-1, 3)
        idx = np.asarray([ref.TransformPhysicalPointToContinuousIndex(tuple(q)) for q in pts])
        k = np.round(idx[:, 2])
        if np.abs(idx[:, 2] - k).max() > LATTICE_TOL * 4 or len(set(k.astype(int))) != 1:
            raise MaskReadError(f"a contour of '{name}' does not lie on one of the CT's slices: the structure set was drawn on another scan (or another reconstruction); draw it on this CT")
        z = int(k[0])
        if not 0 <= z < nz:
            raise MaskReadError(f"a contour of '{name}' lies outside the CT's slices: is the structure set drawn on another scan of this patient?")
        rr, cc = polygon(idx[:, 1], idx[:, 0], shape=(ny, nx))
        out[z, rr, cc] ^= 1  # even-odd: a contour inside another is a hole
    if not contours:
        raise MaskReadError(f"region '{name}' has no contour in the structure set")
    return _as_image(out, ct)


def read_mask(path: str | os.PathLike[str], *, reference: Geometry, segment: str | None = None) -> sitk.Image:
    """A Slicer, DICOM-SEG or RTSTRUCT mask as a 0/1 image on the CT's grid (``reference``).

    Raises
    ------
    MaskReadError
        An unknown segment (the message lists the file's segments), several segments and no
        name, a labelmap off the CT's grid, a contour off the CT's slices, an unreadable file.
    """
    p = Path(path)
    kind = mask_format(p)
    readers = {"slicer": _slicer, "dicom-seg": _dicom_seg, "rtstruct": _rtstruct}
    if kind not in readers:
        raise MaskReadError("not a Slicer segmentation, DICOM-SEG or RTSTRUCT file")
    try:
        return readers[kind](p, segment, reference)
    except MaskReadError:
        raise
    except Exception as exc:  # a damaged file breaks these readers in many ways: one message, never a traceback
        raise MaskReadError(f"cannot be read as a {FORMATS[kind]} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'damaged'}); save it again") from None


def load_mask(path: str | os.PathLike[str], *, reference: Geometry, segment: str | None = None) -> sitk.Image:
    """Any mask the manifest accepts: a Slicer, DICOM-SEG or RTSTRUCT segment placed on the CT's grid, else the image file as it is.

    The one call for code that reads a mask beside its CT (preprocessing, explanation views);
    ``segment`` is the cohort's ``mask_segments[column]``.
    """
    return read_mask(path, reference=reference, segment=segment) if mask_format(path) else read_image(path)
