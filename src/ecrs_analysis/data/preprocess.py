"""Preprocessing of CT + masks into model inputs, with MONAI transforms, cached on disk.

Pipeline (one convention for every cohort, real or synthetic):

1. read with SimpleITK (NIfTI / NRRD / MHA / DICOM series) and convert to a MONAI
   ``MetaTensor`` with a RAS affine;
2. ``Orientationd`` to RAS; ``Spacingd`` to the target spacing (linear for CT,
   nearest for masks);
3. ``CropForegroundd`` around the crop mask (the lesion ROI of the first study, whose input
   is the paper's design) with a margin in millimetres; ``crop_to: head_box``: around a
   fixed sub-box of the head's bounding box (HU > -500), found from the image alone
   (:class:`HeadBox`; MTLNet, which must not be shown the mask it segments); ``null``:
   around the whole head;
4. ``ScaleIntensityRanged``: clip to the HU window and scale to [0, 1];
5. ``Resized`` to the model's input size.

Each patient's result is stored as ``<key>.npz`` where the key hashes the input files'
contents, the parameters and :data:`PREPROCESS_VERSION`, so unchanged inputs are never
processed twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, CropForegroundd, Orientationd, Resized, ScaleIntensityRanged, Spacingd
from numpy.typing import DTypeLike

from ecrs_analysis.atomic import atomic_path
from ecrs_analysis.hashing import hash_params, sha256_path
from ecrs_analysis.data.imageio import Geometry, load_preprocessed, read_image  # load_preprocessed: re-exported for the trainers; explain.summaries imports it from imageio, without torch
from ecrs_analysis.data.masks import load_mask

if TYPE_CHECKING:  # the data room's settings model (its values are the profile's; this module has none of its own)
    from ecrs_analysis.data.settings import PreprocessSettings

__all__ = ["HEAD_HU", "HeadBox", "to_metatensor", "pipeline", "preprocess_patient", "preprocess_cohort", "load_preprocessed", "PREPROCESS_VERSION"]

PREPROCESS_VERSION = "2"  # 2: the voxel size of the model grid is stored ("spacing_mm")
HEAD_HU = -500.0
"""Voxels above this HU are the head (tissue and bone, not air)."""
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def to_metatensor(image: sitk.Image, *, dtype: DTypeLike = np.float32) -> MetaTensor:
    """SimpleITK image -> channel-first MONAI MetaTensor (1, x, y, z) with a RAS affine."""
    arr = sitk.GetArrayFromImage(image).astype(dtype).transpose(2, 1, 0)  # (z,y,x) -> (x,y,z)
    direction = np.asarray(image.GetDirection(), dtype=float).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = direction @ np.diag(image.GetSpacing())
    affine[:3, 3] = image.GetOrigin()
    return MetaTensor(torch.from_numpy(np.ascontiguousarray(arr))[None], affine=torch.as_tensor(_LPS_TO_RAS @ affine))


class HeadBox:
    """``select_fn`` of MONAI's ``CropForegroundd``: a fixed sub-box of the head's bounding box, from the CT alone.

    The head is every voxel above :data:`HEAD_HU`; its bounding box (array axes, RAS after
    ``Orientationd``) is cut to ``box = [[x0, y0, z0], [x1, y1, z1]]`` (fractions of its
    extent). ``CropForegroundd`` then crops to that box with its margin, so the crop and its
    affine stay MONAI's own (``explain.inverse`` maps back through it).

    Why a fixed head-relative box and not a first low-resolution pass that predicts one: the
    sinuses sit at a near-constant place in the head (their extent varies by a few percent of
    it), so a box a little larger than their span on training anatomy covers them at the same
    grid cost, with nothing learned that could fail silently on a new patient; the coverage
    is checked per patient, not assumed (``jobs.mtlnet_evaluation``: share of sinus voxels
    inside the box).
    """

    def __init__(self, box: list[list[float]] | tuple[tuple[float, ...], ...]) -> None:
        lo, hi = (np.asarray(b, dtype=float) for b in box)
        if lo.shape != (3,) or hi.shape != (3,) or not ((0 <= lo) & (lo < hi) & (hi <= 1)).all():
            raise ValueError(f"head box must be [[x0, y0, z0], [x1, y1, z1]] with 0 <= lower < upper <= 1; got {box}")
        self.lo, self.hi = lo, hi

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        head = torch.as_tensor(image) > HEAD_HU
        spatial = head.any(dim=0)
        if not bool(spatial.any()):
            raise ValueError(f"no voxel above {HEAD_HU:g} HU: no head to place the sinus box in (is this a CT in Hounsfield units?)")
        starts, stops = [], []
        for axis in range(3):
            present = torch.nonzero(spatial.any(dim=tuple(a for a in range(3) if a != axis))).flatten()
            first, extent = int(present[0]), int(present[-1]) + 1 - int(present[0])
            starts.append(first + int(np.floor(self.lo[axis] * extent)))
            stops.append(max(first + int(np.ceil(self.hi[axis] * extent)), starts[-1] + 1))
        out = torch.zeros_like(head)
        out[:, starts[0]:stops[0], starts[1]:stops[1], starts[2]:stops[2]] = True
        return out


def pipeline(p: PreprocessSettings, mask_keys: tuple[str, ...]) -> Compose:
    """The MONAI transforms of the module docstring, for ``image`` and the mask keys (invertible: see ``explain.inverse``)."""
    keys = ("image",) + mask_keys
    modes = ("bilinear",) + ("nearest",) * len(mask_keys)
    margin = [int(np.ceil(p.margin_mm / s)) for s in p.spacing_mm]
    source = p.crop_to if p.crop_to in mask_keys else "image"
    if p.crop_to == "head_box":
        assert p.head_box is not None  # the schema requires it with crop_to: head_box
        select: Callable[[Any], Any] = HeadBox(p.head_box)
    else:
        select = (lambda x: x > 0.5) if source != "image" else (lambda x: x > HEAD_HU)
    return Compose(
        [
            Orientationd(keys=keys, axcodes="RAS", labels=(("L", "R"), ("P", "A"), ("I", "S"))),
            Spacingd(keys=keys, pixdim=p.spacing_mm, mode=modes, padding_mode="border", dtype=np.float32),
            CropForegroundd(keys=keys, source_key=source, select_fn=select, margin=margin, allow_smaller=True),
            ScaleIntensityRanged(keys="image", a_min=p.hu_window[0], a_max=p.hu_window[1], b_min=0.0, b_max=1.0, clip=True),
            Resized(keys=keys, spatial_size=p.input_size, mode=("trilinear",) + ("nearest",) * len(mask_keys)),
        ]
    )


def preprocess_patient(image_path: str | os.PathLike[str], masks: Mapping[str, str | os.PathLike[str]], params: PreprocessSettings,
                       *, segments: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """Preprocess one CT and its masks.

    A mask saved as a Slicer segmentation, DICOM-SEG or RTSTRUCT is placed on the CT's grid first
    (the segment named in ``segments``), so it enters the pipeline exactly as a NIfTI mask would.

    Returns ``image`` (float32, 1×X×Y×Z in [0, 1]), one uint8 mask per key of ``masks`` and
    ``spacing_mm`` (the voxel size of the resized grid, RAS x, y, z).
    """
    ct = read_image(image_path)
    data = {"image": to_metatensor(ct)}
    for key, path in masks.items():
        data[key] = to_metatensor(load_mask(path, reference=Geometry.of(ct), segment=(segments or {}).get(key)))
    out = pipeline(params, tuple(masks))(data)
    result = {"image": np.asarray(out["image"], dtype=np.float32)}
    for key in masks:
        result[key] = (np.asarray(out[key]) > 0.5).astype(np.uint8)
    # Resizing a crop changes the voxel size, patient by patient: surface distances (HD95) need it in mm.
    result["spacing_mm"] = np.asarray(out["image"].pixdim, dtype=np.float32)
    return result


def _cache_key(image: str, masks: dict[str, str], params: PreprocessSettings, segments: dict[str, str] | None = None) -> str:
    chosen = {k: v for k, v in sorted((segments or {}).items()) if k in masks}
    return hash_params(PREPROCESS_VERSION, params.model_dump(mode="json", exclude_none=True), sha256_path(image), {k: sha256_path(v) for k, v in sorted(masks.items())}, *([chosen] if chosen else []), length=24)


def preprocess_cohort(table: pd.DataFrame, *, mask_columns: tuple[str, ...], params: PreprocessSettings, cache_dir: str | os.PathLike[str], n_jobs: int = 2,
                      segments: dict[str, str] | None = None) -> pd.DataFrame:
    """Preprocess every patient of a cohort table, reusing cached results.

    Returns
    -------
    DataFrame
        ``patient_id``, ``label``, ``path`` (the cached ``.npz``) and ``cached``
        (True when the file already existed).
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)

    def one(row: pd.Series) -> tuple[str, bool]:
        masks = {c: str(row[c]) for c in mask_columns}
        target = cache / f"{_cache_key(str(row['image']), masks, params, segments)}.npz"
        if target.exists():
            return str(target), True
        arrays = preprocess_patient(row["image"], masks, params, segments=segments)
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds against its allow_pickle: bool keyword
        return str(target), False

    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # the threads run patients in parallel; training afterwards gets every core back
    try:
        with ThreadPoolExecutor(max_workers=max(n_jobs, 1)) as pool:
            results = list(pool.map(one, (r for _, r in table.iterrows())))
    finally:
        torch.set_num_threads(previous)
    return pd.DataFrame({"patient_id": table["patient_id"].to_numpy(), "label": table["label"].to_numpy(), "path": [r[0] for r in results], "cached": [r[1] for r in results]})
