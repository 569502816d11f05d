"""Faithfulness: does deleting what a map points at lower the model's score more than deleting at random?

The deletion test (Petsiuk et al. 2018, RISE; Samek et al. 2017's "area over the perturbation
curve"): replace the top-k% voxels of a map on the network's input grid by a reference value,
score the model again, and compare the fall of its probability with the fall after deleting as
many voxels drawn at random, and after deleting the top of a *perfect* map (the evidence region
itself, pooled to the explained layer's grid: the positive control, :mod:`.control`).  A map
that reflects what the model uses makes it fall faster than random.  Nothing in MONAI or Captum
does this for a 3D volume with one forward pass per curve, so it is written here (a few lines
of numpy around the model call).

What a deleted voxel becomes decides what the test measures.  Air (the former fill) is not
neutral here: it turns opacified tissue into a clear sinus, which the synthetic generator makes
evidence *for* non-eCRS, while the non-eCRS evidence (clear sinuses) is already air, so deleting
it changes nothing; the two explained classes then move in opposite directions.  A blur of the
input is not neutral either: it keeps a region's mean intensity, and opacified-versus-aerated
*is* the evidence, so a blurred sinus still argues for the same class.  Deleted voxels therefore
take the **training-set mean input** at that voxel (:func:`training_mean`): what the average
training patient, both classes pooled at the training prevalence, has there, so a deletion
removes the patient's own evidence in either direction and adds no class's evidence; it uses
training patients only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from os import PathLike

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["deletion_order", "delete_top", "deletion_curve", "training_mean", "summarise_deletion", "DEFAULT_FRACTIONS", "ORDERS", "CLASS_NAMES", "POOLED"]

DEFAULT_FRACTIONS = (0.02, 0.05, 0.1, 0.2, 0.4)
"""Shares of the input grid deleted (five points; with the random order and the positive control, fifteen re-scorings per map)."""
ORDERS = ("map", "random", "perfect map")
"""The deletion orders: the network's map, random voxels (negative control), the evidence region's own map (positive control)."""
CLASS_NAMES = {1: "eCRS", 0: "non-eCRS"}
"""The explained class (the class the operating point predicts) by index."""
POOLED = "both classes"
"""The ``explained class`` of rows pooled over the two classes."""


def training_mean(paths: Iterable[str | PathLike[str]]) -> NDArray[np.float32]:
    """Mean model input (X, Y, Z) over cached training inputs (``preprocessed.csv`` paths): the deletion fill.

    Raises a ValueError naming the file whose input grid differs from the first one's, and when there is none.
    """
    total: NDArray[np.float64] | None = None
    first, n = "", 0
    for p in paths:
        with np.load(p) as z:  # the image only: the cached masks are not decompressed
            image = np.asarray(z["image"], dtype=np.float64)
        image = image.reshape(image.shape[-3:])
        if total is None:
            total, first = np.zeros_like(image), str(p)
        elif image.shape != total.shape:
            raise ValueError(f"cached input {p} has grid {image.shape}, {first} has {total.shape}: re-run the preprocess stage")
        total += image
        n += 1
    if total is None:
        raise ValueError("no training inputs to average for the deletion fill: the training set of the split is empty")
    return (total / n).astype(np.float32)


def deletion_order(cam: NDArray, *, seed: int) -> NDArray[np.intp]:
    """Voxel indices (of the flattened map) from the highest value down; ties in a seeded random order."""
    c = np.asarray(cam, dtype=np.float64).ravel()
    tie = np.random.default_rng(seed).random(c.size)
    return np.lexsort((tie, -c))


def delete_top(volume: NDArray, order: NDArray[np.intp], fraction: float, *, fill: float | NDArray) -> NDArray[np.float32]:
    """A copy of ``volume`` with its first ``round(fraction * size)`` voxels of ``order`` set to ``fill``.

    ``fill``: one value, or a volume of the same shape whose values at those voxels are taken
    (:func:`training_mean`); no other voxel changes.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"a deleted share must lie in [0, 1], got {fraction}")
    out = np.array(volume, dtype=np.float32, copy=True)
    flat = out.reshape(-1)
    idx = order[: int(round(fraction * flat.size))]
    if np.ndim(fill) == 0:
        flat[idx] = float(fill)
    else:
        if np.shape(fill) != out.shape:
            raise ValueError(f"fill {np.shape(fill)} and volume {out.shape} differ in shape")
        flat[idx] = np.asarray(fill, dtype=np.float32).reshape(-1)[idx]
    return out


def deletion_curve(
    score: Callable[[NDArray], NDArray],
    volume: NDArray,
    cam: NDArray,
    *,
    control: NDArray | None = None,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    fill: float | NDArray,
    seed: int,
) -> pd.DataFrame:
    """The model's score after deleting the top-k of a map, as many random voxels, and the top-k of a perfect map, for every k.

    Parameters
    ----------
    score : callable
        A batch of volumes (B, X, Y, Z) -> the probability of the explained class (B,). Called
        once, on the original volume and every deleted copy together.
    volume, cam : array
        The model input and its map on the same grid.
    control : array, optional
        The positive control's map on the same grid (:func:`~ecrs_analysis.explain.control.perfect_map`
        of the evidence); None: no "perfect map" order.
    fill : float or array
        What deleted voxels become: a value, or a volume of the input's shape (:func:`training_mean`).
    seed : int
        Seeds the random order and the tie-breaking of the maps' orders.

    Returns
    -------
    DataFrame
        ``order`` ("none", "map", "random", "perfect map"), ``fraction``, ``score`` and ``drop``
        (original score minus score after deletion; positive = the score fell).
    """
    v = np.asarray(volume, dtype=np.float32)
    maps = {"map": cam} if control is None else {"map": cam, "perfect map": control}
    for name, m in maps.items():
        if np.shape(m) != v.shape:
            raise ValueError(f"{name} {np.shape(m)} and volume {v.shape} differ in shape")
    orders: dict[str, NDArray[np.intp]] = {"map": deletion_order(cam, seed=seed), "random": np.random.default_rng(seed + 1).permutation(v.size)}
    if control is not None:
        orders["perfect map"] = deletion_order(control, seed=seed)
    batch = [v] + [delete_top(v, orders[o], f, fill=fill) for o in orders for f in fractions]
    s = np.asarray(score(np.stack(batch)), dtype=float).reshape(-1)
    if s.size != len(batch):
        raise ValueError(f"the score function returned {s.size} values for {len(batch)} volumes")
    base = float(s[0])
    rows = [{"order": "none", "fraction": 0.0, "score": base, "drop": 0.0}]
    i = 1
    for o in orders:
        for f in fractions:
            rows.append({"order": o, "fraction": float(f), "score": float(s[i]), "drop": base - float(s[i])})
            i += 1
    return pd.DataFrame(rows)


def _groups(d: pd.DataFrame) -> Mapping[str, pd.DataFrame]:
    """Pooled rows, then one group per explained class present (eCRS first)."""
    out = {POOLED: d}
    for name in CLASS_NAMES.values():
        if (d["explained class"] == name).any():
            out[name] = d[d["explained class"] == name]
    return out


def summarise_deletion(curves: pd.DataFrame, *, n_resamples: int, seed: int, level: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean drop per (model, explained class, order, fraction) and the area over the curve, with bootstrap CIs over patients.

    Each explained class has its own rows beside the pooled ones (``explained class`` =
    :data:`POOLED`): deletion moves the two classes' probabilities for different reasons, and
    a pooled mean can hide effects of opposite sign.

    Parameters
    ----------
    curves : DataFrame
        :func:`deletion_curve` rows with ``model``, ``patient_id`` and ``explained class``
        (:data:`CLASS_NAMES`) columns.

    Returns
    -------
    curve : DataFrame
        ``model, explained class, order, fraction, drop, low, high, patients``.
    area : DataFrame
        Per model and explained class: the area over the curve (mean drop over the fractions)
        of each order present (:data:`ORDERS`), and the paired differences ``map - random``
        (> 0: the map is faithful) and ``perfect map - random`` (> 0: the positive control
        works: deleting the evidence lowers the score more than deleting random voxels), each
        with ``low``/``high``, and ``patients``.
    """
    from ecrs_analysis.explain.metrics import mean_ci  # lazy: loads scipy, sklearn

    d = curves[curves["order"] != "none"]
    rows, area = [], []
    for model, dm in d.groupby("model", sort=False):
        for cls, g in _groups(dm).items():
            for (order, fraction), h in g.groupby(["order", "fraction"], sort=False):
                m, lo, hi, n = mean_ci(h["drop"].to_numpy(), n_resamples=n_resamples, level=level, seed=seed)
                rows.append({"model": model, "explained class": cls, "order": order, "fraction": fraction, "drop": m, "low": lo, "high": hi, "patients": n})
            aopc = g.groupby(["patient_id", "order"], sort=False)["drop"].mean().unstack("order")
            row: dict[str, object] = {"model": model, "explained class": cls}
            values = {o: aopc[o] for o in ORDERS if o in aopc}
            values.update({f"{o} - random": aopc[o] - aopc["random"] for o in ("map", "perfect map") if o in aopc})
            for name, v in values.items():
                m, lo, hi, _ = mean_ci(v.to_numpy(), n_resamples=n_resamples, level=level, seed=seed)
                row[f"AOPC {name}"], row[f"AOPC {name} low"], row[f"AOPC {name} high"] = m, lo, hi
            row["patients"] = int(len(aopc))
            area.append(row)
    return pd.DataFrame(rows), pd.DataFrame(area)
