"""The one input check of every public statistics function."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["check_scores"]


def check_scores(y_true: ArrayLike, *scores: ArrayLike, name: str = "data") -> tuple[NDArray[np.int8], list[NDArray[np.float64]]]:
    """Validate labels and one or more score vectors.

    Labels must be 1-D, in {0, 1}, with both classes present; scores 1-D, finite and of
    the same length.  ``name`` (e.g. the set) is quoted in every error.
    """
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise ValueError(f"{name}: labels must be 1-D, got shape {y.shape}")
    try:
        yf = y.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: labels must be 0/1, got values like {y[:3].tolist()}") from None
    bad = ~np.isin(yf, (0.0, 1.0))
    if bad.any():
        raise ValueError(f"{name}: labels must be 0 or 1; found {np.unique(yf[bad])[:5].tolist()}")
    n1 = int(yf.sum())
    if n1 == 0 or n1 == len(yf):
        only = "1 (cases)" if n1 else "0 (controls)"
        raise ValueError(f"{name}: only one class present (all {len(yf)} labels are {only}); an AUC needs cases and controls")
    out = []
    for i, s in enumerate(scores):
        a = np.asarray(s, dtype=float)
        if a.ndim != 1 or a.shape[0] != yf.shape[0]:
            raise ValueError(f"{name}: scores #{i + 1} have shape {a.shape}, labels have shape {yf.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name}: scores #{i + 1} contain {int((~np.isfinite(a)).sum())} NaN or infinite value(s)")
        out.append(a)
    return yf.astype(np.int8), out
