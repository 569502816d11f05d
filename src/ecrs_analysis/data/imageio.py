"""Reading and writing CT volumes and masks with SimpleITK (NIfTI, NRRD, MHA, DICOM series)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from numpy.typing import NDArray

from ecrs_analysis.atomic import atomic_path

__all__ = ["ImageReadError", "Geometry", "read_image", "read_header", "write_image", "load_preprocessed", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")


class ImageReadError(ValueError):
    """A file that should hold an image cannot be read; the message names the file."""


@dataclass(frozen=True)
class Geometry:
    """Where an image lies in patient space (ITK/LPS convention)."""

    size: tuple[int, ...]
    spacing: tuple[float, ...]
    origin: tuple[float, ...]
    direction: tuple[float, ...]

    @classmethod
    def of(cls, image: sitk.Image) -> Geometry:
        return cls(tuple(image.GetSize()), tuple(image.GetSpacing()), tuple(image.GetOrigin()), tuple(image.GetDirection()))

    def mismatch(self, other: Geometry, *, tol_mm: float = 1e-3) -> list[str]:
        """Names of the geometry fields that differ (size, spacing, origin, direction)."""
        out = []
        if self.size != other.size:
            out.append(f"size {self.size} vs {other.size}")
        for name in ("spacing", "origin", "direction"):
            a, b = np.asarray(getattr(self, name)), np.asarray(getattr(other, name))
            if a.shape != b.shape or not np.allclose(a, b, atol=tol_mm):
                out.append(f"{name} {_fmt(a)} vs {_fmt(b)}")
        return out


def _fmt(values: np.ndarray) -> str:
    """(0.5, 0.5, 2.0): plain numbers, never numpy reprs."""
    return "(" + ", ".join(f"{float(v):.4g}" for v in values) + ")"


def _is_dicom_dir(path: Path) -> bool:
    return path.is_dir()


def read_image(path: str | os.PathLike[str]) -> sitk.Image:
    """Read a CT or mask from a NIfTI/NRRD/MHA file or a folder holding one DICOM series.

    Raises
    ------
    ImageReadError
        When the path is missing, not an image, or a folder without exactly one DICOM series.
    """
    p = Path(path)
    if not p.exists():
        raise ImageReadError(f"{p}: file not found")
    try:
        if _is_dicom_dir(p):
            series = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(p))
            if not series:
                raise ImageReadError(f"{p}: folder holds no DICOM series")
            if len(series) > 1:
                raise ImageReadError(f"{p}: folder holds {len(series)} DICOM series; give one series per folder")
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(p), series[0]))
            return reader.Execute()
        return sitk.ReadImage(str(p))
    except ImageReadError:
        raise
    except RuntimeError as exc:  # SimpleITK reports every I/O failure as RuntimeError
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise ImageReadError(f"{p}: cannot be read as an image ({first})") from exc


def read_header(path: str | os.PathLike[str]) -> Geometry:
    """Geometry of an image file without reading its voxels (falls back to a full read for DICOM)."""
    p = Path(path)
    if p.is_dir() or not p.exists():
        return Geometry.of(read_image(p))
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(p))
    try:
        reader.ReadImageInformation()
    except RuntimeError as exc:
        raise ImageReadError(f"{p}: cannot be read as an image") from exc
    return Geometry(tuple(reader.GetSize()), tuple(reader.GetSpacing()), tuple(reader.GetOrigin()), tuple(reader.GetDirection()))


def write_image(
    array_zyx: NDArray,
    path: str | os.PathLike[str],
    *,
    spacing: tuple[float, float, float],
    origin: tuple[float, float, float],
    direction: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
    compress: bool = True,
) -> Path:
    """Write a (z, y, x) array as an image file, atomically (never a half-written file)."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(array_zyx))
    image.SetSpacing(tuple(float(s) for s in spacing))
    image.SetOrigin(tuple(float(o) for o in origin))
    image.SetDirection(tuple(float(d) for d in direction))
    p = Path(path)
    with atomic_path(p) as tmp:
        sitk.WriteImage(image, str(tmp), useCompression=compress)
    return p


def load_preprocessed(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Arrays of one cached patient (a ``.npz`` that ``data.preprocess`` wrote): here, so that a reader of the
    cache (``explain.summaries``) loads neither torch nor MONAI."""
    with np.load(path) as z:
        return {k: z[k] for k in z.files}
