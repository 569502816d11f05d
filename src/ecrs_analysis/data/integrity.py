"""Is this file a whole, sane 3D CT (or mask)?  Checks SimpleITK alone does not make.

SimpleITK's NIfTI reader fills a truncated file's missing voxels with zeros and reads NaN
voxels as 0; so NIfTI files are also read in full by nibabel, which refuses a short file or a
broken gzip stream and keeps NaN as NaN.  The other formats (NRRD, MetaImage) fail loudly
in ITK already; their messages are translated here.

Each check returns plain sentences (``list[str]``): what is wrong and what to do.  The
manifest's validation adds row, patient, column and file.

HU calibration is judged on robust statistics of the body, not on the extremes: padding
outside the field of view (-3024, -2048 HU) and metal (up to 30,000 HU) are normal in real
scanner output.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import numpy as np
import SimpleITK as sitk
from numpy.typing import NDArray

from ecrs_analysis.data.imageio import SUPPORTED_SUFFIXES, Geometry, ImageReadError, read_image

__all__ = [
    "HU_RANGE", "SPACING_RANGE_MM", "MIN_VOXELS_PER_AXIS", "quiet_itk", "read_checked", "geometry_problems",
    "hu_problems", "ct_problems", "mask_problems", "sample_voxels",
]

HU_RANGE = (-1100.0, 3100.0)
"""Values of a CT in HU that describe the body; lower is padding, higher is metal or streaks."""
SPACING_RANGE_MM = (0.05, 20.0)
MIN_VOXELS_PER_AXIS = 8
"""A volume with fewer voxels along an axis is a slab, not a sinus CT."""
AIR_MEDIAN_HU = (-1100.0, -850.0)
MIN_AIR_SHARE = 0.005
MIN_BONE_SHARE = 0.0005
UNEVEN_SLICE_SPACING = 0.1
"""Relative spread of a DICOM series' slice gaps above which a slice is missing or two series are mixed.

ITK marks a series as unevenly sampled (``ITK_non_uniform_sampling_deviation``) at any difference
between gaps, including the rounding of positions written with six decimals: every 0.6 or 0.7 mm
reconstruction would be refused.  A missing slice doubles a gap.
"""


@contextlib.contextmanager
def quiet_itk() -> Iterator[None]:
    """Silence ITK's own messages on stderr (they are turned into problems instead).

    ITK's warnings are switched off; some readers (MetaImage) write to the C++ error stream
    directly, so file descriptor 2 is pointed at the null device for the duration.
    """
    before = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    sys.stderr.flush()
    try:
        saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
    except OSError:  # no file descriptor 2 (embedded interpreter): warnings off is all we can do
        saved = null = -1
    try:
        yield
    finally:
        if saved >= 0:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(null)
        sitk.ProcessObject.SetGlobalWarningDisplay(before)


def _plain(reason: str) -> str:
    """An ITK/teem message without its internals (``sitk::ERROR:``, ``[nrrd] _nrrdHeaderCheck:``, source paths)."""
    reason = re.sub(r"(sitk|itk)::(ERROR|WARNING):\s*", "", reason)
    reason = re.sub(r"\[\w+\]\s*_?\w+:\s*", "", reason)
    reason = re.sub(r"/\S+\.(cxx|hxx|cpp|h):\d+:?\s*", "", reason)
    if "Unable to determine ImageIO reader" in reason:
        return "no image reader recognises the file's content: is it really a NIfTI/NRRD/MetaImage file? Export it again"
    return reason.strip() or "unreadable"


def _detached_data_problem(p: Path) -> list[str]:
    """A .mhd/.nhdr header names its voxel file; say so when that file is missing."""
    if not p.name.lower().endswith((".mhd", ".nhdr")):
        return []
    try:
        text = p.read_text(encoding="latin-1")[:4000]
    except OSError:
        return []
    m = re.search(r"^(?:ElementDataFile\s*=|data ?file:)\s*(\S+)", text, re.M | re.I)
    if m and m.group(1).upper() not in ("LOCAL", "LIST") and not (p.parent / m.group(1)).exists():
        return [f"the header names its voxel data '{m.group(1)}', which is not beside it; copy it along with the header"]
    return []


def _is_nifti(p: Path) -> bool:
    name = p.name.lower()
    return name.endswith(".nii") or name.endswith(".nii.gz")


def _nifti_problems(p: Path) -> list[str]:
    """Full read by nibabel: truncation, broken compression, NaN/Inf voxels; the shape of anything but one 3D volume."""
    import nibabel as nib

    try:
        img = cast("nib.spatialimages.SpatialImage", nib.load(str(p)))  # NIfTI: a spatial image (shape, dataobj)
        if len(img.shape) != 3:
            return _header_problems(p) or [f"the image has shape {' x '.join(map(str, img.shape))}; give one 3D volume per patient"]
        data = np.asanyarray(img.dataobj)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        return [f"the compressed file is truncated or damaged ({exc}); copy or export it again"]
    except OSError as exc:
        text = str(exc).splitlines()[0]
        if "Expected" in text and "bytes" in text:
            return [f"the file is truncated: {text.split(' from ')[0].lower()} of voxel data; copy or export it again"]
        return [f"cannot be read as NIfTI ({text}); export it again"]
    except Exception as exc:  # nibabel's header errors (ImageFileError, HeaderDataError) vary by version
        return [f"cannot be read as NIfTI ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'damaged header'}); export it again"]
    if np.issubdtype(data.dtype, np.floating):
        bad = int(np.size(data) - np.count_nonzero(np.isfinite(data)))
        if bad:
            return [f"{bad} voxel(s) are NaN or infinite (a reader would silently turn them into 0); fix or re-export the image"]
    return []


def _header_problems(p: Path) -> list[str]:
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(p))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        return []  # the full read below reports it
    return _shape_problems(reader.GetDimension(), tuple(reader.GetSize()), reader.GetNumberOfComponents())


def _shape_problems(dim: int, size: tuple[int, ...], components: int) -> list[str]:
    if components != 1:
        return [f"the image has {components} values per voxel (a colour or vector image); a CT has one value per voxel"]
    if dim == 2:
        return [f"this is a 2D image ({size[0]} x {size[1]} pixels): give the whole 3D volume (NIfTI/NRRD file or a DICOM series folder)"]
    if dim == 4:
        return [f"this is a 4D image (size {' x '.join(map(str, size))}): several volumes in one file; give one 3D volume per patient"]
    if dim != 3:
        return [f"this is a {dim}D image; give one 3D volume per patient"]
    thin = [f"{n} along {axis}" for n, axis in zip(size, "xyz") if n < MIN_VOXELS_PER_AXIS]
    if thin:
        return [f"the volume is only {', '.join(thin)} voxel(s) (size {' x '.join(map(str, size))}): a sinus CT needs the whole 3D volume"]
    return []


def read_checked(path: str | os.PathLike[str]) -> tuple[sitk.Image | None, list[str]]:
    """Read an image and check it is whole: one 3D volume, every voxel present and finite.

    Returns ``(image, [])`` or ``(None or image, problems)``.  Never raises for a bad file.
    """
    p = Path(path)
    try:
        exists, is_dir = p.exists(), p.is_dir()
    except OSError as exc:
        return None, [f"cannot be opened: {exc.strerror} (the path has {len(str(p))} characters); shorten the file or folder name"]
    if not exists:
        return None, ["file not found"]
    if not is_dir and not p.name.lower().endswith(SUPPORTED_SUFFIXES):
        hint = " (a single DICOM slice: give the folder holding the whole series instead)" if p.suffix.lower() in (".dcm", ".ima", "") else ""
        return None, [f"'{p.suffix or p.name}' is not a supported 3D image format{hint}; use NIfTI (.nii.gz), NRRD (.nrrd), MetaImage (.mha) or a DICOM series folder"]
    problems: list[str] = []
    if not is_dir:
        problems = _nifti_problems(p) if _is_nifti(p) else (_detached_data_problem(p) or _header_problems(p))
        if problems:
            return None, problems
    try:
        image = read_image(p)
    except ImageReadError as exc:
        reason = str(exc).split(": ", 1)[-1]
        if any(w in reason for w in ("expected", "not read completely", "No such file", "received")):
            reason = "the file is truncated or damaged (it holds fewer voxels than its header announces); copy or export it again"
        return None, [_plain(reason)]
    except Exception as exc:  # an ITK failure that read_image does not translate: never a traceback
        return None, [f"cannot be read as an image ({type(exc).__name__})"]
    problems = _shape_problems(image.GetDimension(), tuple(image.GetSize()), image.GetNumberOfComponentsPerPixel())
    if problems:
        return None, problems
    if image.HasMetaDataKey("ITK_non_uniform_sampling_deviation"):
        gaps = _slice_gaps(p)
        if gaps is None or gaps[1] - gaps[0] > UNEVEN_SLICE_SPACING * gaps[0]:
            shown = f" (slice spacing {gaps[0]:g} to {gaps[1]:g} mm)" if gaps is not None else ""
            problems.append(f"the DICOM slices are not evenly spaced{shown}: a slice is missing or two series are mixed; export the complete series")
    arr = sitk.GetArrayViewFromImage(image)
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        problems.append(f"{bad} voxel(s) are NaN or infinite; fix or re-export the image")
    return image, problems + geometry_problems(Geometry.of(image))


def _slice_gaps(folder: Path) -> tuple[float, float] | None:
    """The smallest and largest gap between slice positions (mm); ITK flags uneven gaps, but its deviation value does not reach Python."""
    try:
        files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder))
        reader = sitk.ImageFileReader()
        z = []
        for f in files:
            reader.SetFileName(f)
            reader.ReadImageInformation()
            z.append(float(reader.GetMetaData("0020|0032").split("\\")[2]))
        gaps = np.abs(np.diff(sorted(z)))
        return (round(float(gaps.min()), 4), round(float(gaps.max()), 4)) if gaps.size else None
    except (RuntimeError, ValueError, IndexError):
        return None


def geometry_problems(geom: Geometry) -> list[str]:
    """Spacing within 0.05-20 mm and a proper rotation as direction (orientation sanity)."""
    out = []
    spacing = np.asarray(geom.spacing, dtype=float)
    lo, hi = SPACING_RANGE_MM
    if not np.isfinite(spacing).all() or (spacing < lo).any() or (spacing > hi).any():
        shown = " x ".join(f"{s:g}" for s in spacing)
        out.append(
            f"implausible voxel spacing {shown} mm (a CT has {lo:g}-{hi:g} mm): is the header's unit wrong (cm or um instead of mm)? Re-export with the scanner's spacing"
        )
    d = np.asarray(geom.direction, dtype=float).reshape(3, 3)
    if not np.isfinite(d).all() or not np.allclose(d @ d.T, np.eye(3), atol=1e-3):
        out.append("the orientation (direction cosines) in the header is not a rotation: axes are collapsed or scaled; re-export the image from the original DICOM")
    return out


def sample_voxels(image: sitk.Image, *, max_voxels: int = 2_000_000) -> NDArray[np.float32]:
    """A fixed-stride sample of the voxels (deterministic, fast on 512^3 volumes)."""
    a = sitk.GetArrayViewFromImage(image).ravel()
    return a[:: max(a.size // max_voxels, 1)].astype(np.float32)


def hu_problems(values: NDArray[np.floating]) -> list[str]:
    """Is this CT calibrated in Hounsfield units?  Judged on the body, not on the extremes.

    Voxels outside ``HU_RANGE`` (padding outside the field of view, metal) are set aside.
    Of the rest, a head CT has air (at least 0.5 % below -500 HU, median -1100 to -850 HU)
    and bone (at least 0.05 % above +300 HU).

    >>> import numpy as np
    >>> body = np.r_[np.full(500, -1000.0), np.full(400, 40.0), np.full(100, 900.0)]
    >>> hu_problems(np.r_[body, np.full(300, -3024.0), [12000.0]])   # padding and metal are fine
    []
    >>> hu_problems(body + 1024)[0][:38]                              # intercept not applied
    'does not look calibrated in Hounsfield'
    """
    v = np.asarray(values, dtype=np.float64)
    lo, hi = HU_RANGE
    body = v[(v >= lo) & (v <= hi)]
    hint = "is the rescale slope/intercept applied (DICOM RescaleSlope/RescaleIntercept, NIfTI scl_slope/scl_inter)?"
    if body.size < 0.05 * max(v.size, 1):
        p1, p99 = (np.percentile(v, [1, 99]) if v.size else (0.0, 0.0))
        return [f"does not look calibrated in Hounsfield units: only {100 * body.size / max(v.size, 1):.1f}% of voxels lie in {lo:g}..{hi:g} HU (1st-99th percentile {p1:.0f}..{p99:.0f}); {hint}"]
    p1, p50, p99 = np.percentile(body, [1, 50, 99])
    span = f"body values (1st/50th/99th percentile, ignoring padding below {lo:g} and metal above {hi:g}): {p1:.0f} / {p50:.0f} / {p99:.0f} HU"
    air = body[body < -500]
    if air.size < MIN_AIR_SHARE * body.size:
        return [f"does not look calibrated in Hounsfield units: no air near -1000 HU ({span}); {hint}"]
    air_median = float(np.median(air))
    if not AIR_MEDIAN_HU[0] <= air_median <= AIR_MEDIAN_HU[1]:
        return [f"does not look calibrated in Hounsfield units: air lies at {air_median:.0f} HU instead of about -1000 HU ({span}); {hint}"]
    if np.count_nonzero(body > 300) < MIN_BONE_SHARE * body.size:
        return [f"no bone above +300 HU ({span}): is this a head CT in Hounsfield units, with bone in the field of view? {hint}"]
    return []


def ct_problems(image: sitk.Image) -> list[str]:
    """A CT's voxel values: not constant, calibrated in HU."""
    v = sample_voxels(image)
    if v.size and float(v.min()) == float(v.max()):
        return [f"every voxel has the same value ({float(v[0]):g}): the image is blank; export it again"]
    return hu_problems(v)


def mask_problems(mask: sitk.Image, ct: Geometry) -> list[str]:
    """A mask: same geometry as its CT, values 0/1, neither empty nor everywhere."""
    diff = ct.mismatch(Geometry.of(mask))
    if diff:
        return ["mask geometry does not match its CT (" + "; ".join(diff) + "): the mask must be saved on the CT's own voxel grid"]
    m = sitk.GetArrayViewFromImage(mask)
    values = np.unique(m)
    if not np.isin(values, (0, 1)).all():
        shown = ", ".join(f"{float(v):g}" for v in values[:6]) + (" ..." if len(values) > 6 else "")
        hint = " (0/255: divide by 255)" if set(values.tolist()) == {0, 255} else ""
        return [f"mask is not binary (values {shown}); save it with 0 outside and 1 inside{hint}"]
    ones = int(np.count_nonzero(m))
    if ones == 0:
        return ["mask is empty (no voxel is 1): the segmentation was not saved, or belongs to another scan"]
    if ones == m.size:
        return ["mask covers the whole image (every voxel is 1): the segmentation was not saved, or was filled by mistake"]
    return []
