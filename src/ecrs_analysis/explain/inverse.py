"""From the network's input grid back to the CT: MONAI inverts the preprocessing it applied.

The preprocessing (``data.preprocess``) is Orientation -> Spacing -> CropForeground ->
ScaleIntensityRange -> Resize.  The cached model inputs keep only arrays, so
:class:`InputGrid` runs the same MONAI pipeline once more on the patient's files, checks that
it reproduces the cached volume, and keeps the transform trace that ``monai.transforms.Invertd``
needs to undo resize, crop, spacing and orientation (the intensity scaling is not spatial and
is skipped).  The result lies on the CT's own voxel grid, so it can be overlaid on the CT and
compared with masks in millimetres.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import SimpleITK as sitk
import torch
from monai.data import MetaTensor
from monai.transforms import Invertd
from numpy.typing import NDArray

from ecrs_analysis.data.imageio import read_image
from ecrs_analysis.data.preprocess import PreprocessParams, pipeline, to_metatensor

__all__ = ["InputGrid", "sitk_to_xyz"]


def sitk_to_xyz(image: sitk.Image) -> NDArray:
    """SimpleITK image -> numpy array indexed (x, y, z), the order of ``to_metatensor``."""
    return sitk.GetArrayFromImage(image).transpose(2, 1, 0)


class InputGrid:
    """One patient's preprocessing, kept so that maps on the input grid can be sent back to the CT.

    Parameters
    ----------
    image : path
        The CT.
    masks : dict
        Mask column -> file, exactly the masks the study preprocesses (the crop mask among them).
    params : PreprocessParams
        The study's preprocessing parameters.
    """

    def __init__(self, image: str | os.PathLike[str], masks: Mapping[str, str | os.PathLike[str]], params: PreprocessParams) -> None:
        self.reference = read_image(image)
        data = {"image": to_metatensor(self.reference)}
        for key, path in masks.items():
            data[key] = to_metatensor(read_image(path))
        self.transform = pipeline(params, tuple(masks))
        self.out = self.transform(data)

    @property
    def image(self) -> NDArray[np.float32]:
        """The model input (X, Y, Z), as in the preprocessing cache."""
        return np.asarray(self.out["image"][0], dtype=np.float32)

    def check(self, cached: NDArray, *, patient: str) -> None:
        """Refuse to go on when the cached input was made with other files or parameters."""
        c = np.asarray(cached, dtype=np.float32).reshape(self.image.shape) if np.size(cached) == self.image.size else None
        if c is None or not np.allclose(c, self.image, atol=1e-4):
            raise ValueError(
                f"patient {patient}: the cached model input does not match the preprocessing of its files with the current "
                "parameters; run the preprocessing stage again (study.prepare_inputs) before explaining"
            )

    def to_ct(self, volume: NDArray, *, nearest: bool = False) -> sitk.Image:
        """A map (X, Y, Z) on the input grid -> an image on the CT's grid (same size, spacing, origin, direction).

        ``nearest`` for label maps; otherwise the interpolation of the forward pipeline
        (trilinear resize, linear resampling).  Outside the crop the map is 0.
        """
        arr = np.asarray(volume, dtype=np.float32)
        if arr.shape != self.image.shape:
            raise ValueError(f"map of shape {arr.shape} is not on the input grid {self.image.shape}")
        inv = Invertd(keys="map", transform=self.transform, orig_keys="image", nearest_interp=nearest)
        out = inv({"map": MetaTensor(torch.from_numpy(arr[None].copy())), "image": self.out["image"]})["map"]
        back = np.asarray(out[0], dtype=np.float32)
        if nearest:
            back = np.rint(back)
        result = sitk.GetImageFromArray(np.ascontiguousarray(back.transpose(2, 1, 0)))
        result.CopyInformation(self.reference)
        return result
