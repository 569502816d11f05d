"""CT scanners of the synthetic hospitals: voxel grid, reconstruction kernel and noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = ["Scanner", "SCANNERS", "FIELD_OF_VIEW_MM", "acquire"]

# Mid-face field of view in LPS millimetres: x (right->left), y (anterior->posterior), z (inferior->superior).
FIELD_OF_VIEW_MM = ((-62.0, 62.0), (-98.0, 22.0), (-34.0, 68.0))


@dataclass(frozen=True)
class Scanner:
    """Acquisition settings of one hospital's CT protocol.

    Attributes
    ----------
    name : str
        Human-readable protocol name.
    spacing_mm : tuple of float
        Native (x, y, z) voxel spacing; ``z`` is the slice spacing.
    kernel_sigma_mm : float
        In-plane blur of the reconstruction kernel (smaller = sharper "bone" kernel).
    noise_hu : float
        Standard deviation of the image noise in HU.
    hu_offset : float
        Calibration offset of the scanner in HU.
    """

    name: str
    spacing_mm: tuple[float, float, float]
    kernel_sigma_mm: float
    noise_hu: float
    hu_offset: float = 0.0


SCANNERS = {
    "hospital_A": Scanner("hospital A: 64-row CT, bone kernel", (0.45, 0.45, 1.0), 0.45, 14.0, 0.0),
    "hospital_B": Scanner("hospital B: 16-row CT, soft kernel", (0.49, 0.49, 1.25), 0.8, 22.0, 6.0),
}


def grid_for(scanner: Scanner, *, spacing_scale: float) -> tuple[tuple[int, int, int], tuple[float, float, float], tuple[float, float, float]]:
    """(shape_zyx, spacing_xyz, origin_xyz) of the scanner's grid over the field of view.

    ``spacing_scale`` > 1 coarsens the grid (the ``smoke`` and ``demo`` profiles).
    """
    spacing = tuple(s * spacing_scale for s in scanner.spacing_mm)
    shape_xyz = [int(np.floor((hi - lo) / s)) for (lo, hi), s in zip(FIELD_OF_VIEW_MM, spacing)]
    origin = tuple(lo + s / 2.0 for (lo, _), s in zip(FIELD_OF_VIEW_MM, spacing))
    return (shape_xyz[2], shape_xyz[1], shape_xyz[0]), spacing, origin  # type: ignore[return-value]


def acquire(hu: NDArray[np.float32], scanner: Scanner, *, spacing_xyz: tuple[float, float, float], rng: np.random.Generator) -> NDArray[np.int16]:
    """Apply the reconstruction kernel (Gaussian blur), noise and calibration; return int16 HU."""
    sigma_zyx = (
        max(scanner.kernel_sigma_mm / spacing_xyz[2], 0.0) * 0.5,
        scanner.kernel_sigma_mm / spacing_xyz[1],
        scanner.kernel_sigma_mm / spacing_xyz[0],
    )
    img = ndimage.gaussian_filter(hu, sigma=sigma_zyx, mode="nearest")
    img += rng.normal(scanner.hu_offset, scanner.noise_hu, size=img.shape).astype(np.float32)
    return np.clip(np.rint(img), -1024, 3071).astype(np.int16)
