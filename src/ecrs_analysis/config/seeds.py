"""The two seeds of a run: ``seed`` makes the data, ``seed`` and ``training_seed`` the training.

``seed`` drives everything random about the *data*: the synthetic cohort, the split, the
synthetic proteomics, the bootstrap resamples and which patients an explanation shows.
``training_seed`` (an offset, 0 by default) moves only the randomness of *training*: the CNN
folds of the training set, each fold's early-stopping share, weight initialisation, batch order,
augmentation, and the integrated SVM's cross-validation shuffles (the jobs ``folds``, ``train``, ``mtlnet``
and ``integrated``; the held-out threshold check of ``integrated_evaluation``, which refits the SVM
without each fold, keeps ``seed``, as do the bootstrap CIs). ``ecrs spread`` trains the
networks under offsets 0, 1, ..., k-1 on the same cohort and split, and so measures how much a
headline metric moves with the training randomness alone.
"""

from __future__ import annotations

__all__ = ["TRAINING_SEED_STRIDE", "MAX_TRAINING_SEED", "training_seed"]

TRAINING_SEED_STRIDE = 1_000_000
"""Offsets step the seed by this much: more than the spread of the per-(model, fold) seeds that
``training.folds.fold_seed`` derives from one seed (``seed + 1000 * (crc32 % 997) + fold`` < ``seed + 10**6``),
so no (model, fold) job of one offset trains with the seed of a job of another offset."""

MAX_TRAINING_SEED = 999
"""The largest offset: keeps a profile's seed plus the offsets below 2**32 (NumPy's and MONAI's seed limit) for seeds under 3 * 10**9."""


def training_seed(seed: int, offset: int) -> int:
    """The seed the training jobs use: ``seed`` itself at offset 0 (the book's own numbers), else ``seed + offset * TRAINING_SEED_STRIDE``.

    Parameters
    ----------
    seed : int
        The profile's ``seed`` (which also makes the data).
    offset : int
        The profile's ``training_seed``, 0 ... :data:`MAX_TRAINING_SEED`.

    Examples
    --------
    >>> training_seed(20250317, 0), training_seed(20250317, 2)
    (20250317, 22250317)
    """
    if not 0 <= int(offset) <= MAX_TRAINING_SEED:
        raise ValueError(f"training_seed must be 0 ... {MAX_TRAINING_SEED}; got {offset!r}")
    return int(seed) + TRAINING_SEED_STRIDE * int(offset)
