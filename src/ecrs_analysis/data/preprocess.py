"""Preprocessing of CT + masks into model inputs, with MONAI transforms, cached on disk.

Pipeline (one convention for every cohort, real or synthetic):

1. read with SimpleITK (NIfTI / NRRD / MHA / DICOM series) and convert to a MONAI
   ``MetaTensor`` with a RAS affine;
2. ``Orientationd`` to RAS; ``Spacingd`` to the target spacing (linear for CT,
   nearest for masks);
3. ``CropForegroundd`` around the crop mask (the lesion ROI or the sinus region) with a
   margin in millimetres; without a mask, around the head (HU > -500);
4. ``ScaleIntensityRanged``: clip to the HU window and scale to [0, 1];
5. ``Resized`` to the model's input size.

Each patient's result is stored as ``<key>.npz`` where the key hashes the input files'
contents, the parameters and :data:`PREPROCESS_VERSION`, so unchanged inputs are never
processed twice.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, CropForegroundd, Orientationd, Resized, ScaleIntensityRanged, Spacingd

from ecrs_analysis.atomic import atomic_path
from ecrs_analysis.hashing import hash_params, sha256_path
from ecrs_analysis.data.imageio import Geometry, read_image
from ecrs_analysis.data.masks import load_mask

if TYPE_CHECKING:  # the schema's model (its values are the profile's; this module has none of its own)
    from ecrs_analysis.config.schema import PreprocessSettings

__all__ = ["to_metatensor", "pipeline", "preprocess_patient", "preprocess_cohort", "load_preprocessed", "PREPROCESS_VERSION"]

PREPROCESS_VERSION = "2"  # 2: the voxel size of the model grid is stored ("spacing_mm")
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def to_metatensor(image: sitk.Image, *, dtype: np.dtype = np.float32) -> MetaTensor:
    """SimpleITK image -> channel-first MONAI MetaTensor (1, x, y, z) with a RAS affine."""
    arr = sitk.GetArrayFromImage(image).astype(dtype).transpose(2, 1, 0)  # (z,y,x) -> (x,y,z)
    direction = np.asarray(image.GetDirection(), dtype=float).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = direction @ np.diag(image.GetSpacing())
    affine[:3, 3] = image.GetOrigin()
    return MetaTensor(torch.from_numpy(np.ascontiguousarray(arr))[None], affine=torch.as_tensor(_LPS_TO_RAS @ affine))


def pipeline(p: PreprocessSettings, mask_keys: tuple[str, ...]) -> Compose:
    """The MONAI transforms of the module docstring, for ``image`` and the mask keys (invertible: see ``explain.inverse``)."""
    keys = ("image",) + mask_keys
    modes = ("bilinear",) + ("nearest",) * len(mask_keys)
    margin = [int(np.ceil(p.margin_mm / s)) for s in p.spacing_mm]
    source = p.crop_to if p.crop_to in mask_keys else "image"
    select = (lambda x: x > 0.5) if source != "image" else (lambda x: x > -500.0)
    return Compose(
        [
            Orientationd(keys=keys, axcodes="RAS", labels=(("L", "R"), ("P", "A"), ("I", "S"))),
            Spacingd(keys=keys, pixdim=p.spacing_mm, mode=modes, padding_mode="border", dtype=np.float32),
            CropForegroundd(keys=keys, source_key=source, select_fn=select, margin=margin, allow_smaller=True),
            ScaleIntensityRanged(keys="image", a_min=p.hu_window[0], a_max=p.hu_window[1], b_min=0.0, b_max=1.0, clip=True),
            Resized(keys=keys, spatial_size=p.input_size, mode=("trilinear",) + ("nearest",) * len(mask_keys)),
        ]
    )


def preprocess_patient(image_path: str | os.PathLike[str], masks: dict[str, str | os.PathLike[str]], params: PreprocessSettings,
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
    return hash_params(PREPROCESS_VERSION, params.model_dump(mode="json"), sha256_path(image), {k: sha256_path(v) for k, v in sorted(masks.items())}, *([chosen] if chosen else []), length=24)


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
                np.savez(f, **arrays)
        return str(target), False

    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # the threads run patients in parallel; training afterwards gets every core back
    try:
        with ThreadPoolExecutor(max_workers=max(n_jobs, 1)) as pool:
            results = list(pool.map(one, (r for _, r in table.iterrows())))
    finally:
        torch.set_num_threads(previous)
    return pd.DataFrame({"patient_id": table["patient_id"].to_numpy(), "label": table["label"].to_numpy(), "path": [r[0] for r in results], "cached": [r[1] for r in results]})


def load_preprocessed(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Arrays of one cached patient."""
    with np.load(path) as z:
        return {k: z[k] for k in z.files}
