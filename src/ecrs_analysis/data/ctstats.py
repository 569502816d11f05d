"""HU summaries of a CT by tissue class: compares the synthetic phantom with a real head CT."""

from __future__ import annotations

import numpy as np
import pandas as pd
import SimpleITK as sitk

__all__ = ["TISSUE_WINDOWS", "tissue_summary"]

# HU windows of the tissue classes (conventional CT ranges).
TISSUE_WINDOWS = {
    "air": (-1100.0, -900.0),
    "fat": (-200.0, -50.0),
    "soft tissue": (-50.0, 100.0),
    "bone": (300.0, 3100.0),
}


def tissue_summary(image: sitk.Image, *, name: str) -> pd.DataFrame:
    """Share of the volume and median / 5th-95th percentile HU of each tissue class.

    Parameters
    ----------
    image : SimpleITK.Image
        A HU-calibrated CT.
    name : str
        Label of the column group (e.g. "synthetic", "reference").
    """
    a = sitk.GetArrayViewFromImage(image)
    a = a.ravel()[:: max(a.size // 2_000_000, 1)].astype(np.float32)  # a fixed-stride sample keeps this fast
    rows = []
    for tissue, (lo, hi) in TISSUE_WINDOWS.items():
        v = a[(a >= lo) & (a < hi)]
        rows.append(
            {
                "tissue": tissue,
                "source": name,
                "volume %": round(100.0 * v.size / a.size, 1),
                "median HU": float(np.median(v)) if v.size else np.nan,
                "p5 HU": float(np.percentile(v, 5)) if v.size else np.nan,
                "p95 HU": float(np.percentile(v, 95)) if v.size else np.nan,
            }
        )
    return pd.DataFrame(rows)
