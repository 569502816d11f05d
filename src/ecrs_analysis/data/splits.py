"""Patient-level cohort splits: stratified random, by centre, temporal; saved once and reused.

The split file (JSON) maps set names to patient ids, like nnU-Net's ``splits_final.json``.
A patient is in exactly one set.  Users may supply their own split file.  The set that trains
is the one named ``train`` (:data:`TRAIN`), never the one that happens to come first.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ecrs_analysis.atomic import write_json

__all__ = ["TRAIN", "VALIDATION", "INTERNAL_TEST", "EXTERNAL_TEST", "EXTERNAL", "Split", "SplitError", "stratified_random_split", "center_split", "temporal_split", "make_split", "load_split", "split_summary"]


# The one place the set names are written (the claims registry quotes the papers' sets by these names).
TRAIN = "train"
"""Name of the set every model is fitted on; every other set is a test set."""
VALIDATION = "validation"
"""The held-out share of the training centres that chooses a network's epoch (MTLNet's 8:2 split)."""
INTERNAL_TEST = "internal_test"
"""The held-out share of the training centres in a centre split (or a random split with ``internal_fraction``)."""
EXTERNAL_TEST = "external_test"
"""The other centres of a centre split."""
EXTERNAL = "external"
"""The scans on or after the cut-off of a temporal split."""


class SplitError(ValueError):
    """A split that cannot be made or a split file that does not fit the cohort."""


@dataclass(frozen=True)
class Split:
    """Set name -> patient ids, in a fixed set order."""

    sets: Mapping[str, tuple[str, ...]]
    mode: str

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for name, ids in self.sets.items():
            for pid in ids:
                if pid in seen:
                    raise SplitError(f"patient {pid} is in both '{seen[pid]}' and '{name}'")
                seen[pid] = name

    @property
    def names(self) -> tuple[str, ...]:
        """Set names, ``train`` first, then the others in the order given."""
        return tuple(sorted(self.sets, key=lambda name: name != TRAIN))

    @property
    def train_name(self) -> str:
        """The name of the training set (``train``); a split without one is refused."""
        if TRAIN not in self.sets:
            raise SplitError(f"the split has no set named '{TRAIN}' (sets: {', '.join(self.sets)}); the set that trains must be called '{TRAIN}'")
        return TRAIN

    @property
    def validation_name(self) -> str:
        """The name of the set that chooses a network's epoch (``validation``); a split without one is refused."""
        if VALIDATION not in self.sets:
            raise SplitError(f"the split has no set named '{VALIDATION}' (sets: {', '.join(self.sets)}); MTLNet chooses its epoch on it: use a temporal split or a random one with validation_fraction")
        return VALIDATION

    @property
    def train(self) -> tuple[str, ...]:
        """Patient ids of the training set."""
        return tuple(self.sets[self.train_name])

    @property
    def test_names(self) -> tuple[str, ...]:
        """Every set but ``train``, in the order given."""
        return tuple(n for n in self.sets if n != TRAIN)

    def set_of(self, table: pd.DataFrame) -> pd.Series:
        """The set name of every row of a cohort table (by ``patient_id``)."""
        lookup = {pid: name for name, ids in self.sets.items() for pid in ids}
        return table["patient_id"].map(lookup)

    def save(self, path: str | os.PathLike[str]) -> Path:
        return write_json({"mode": self.mode, "sets": {k: list(v) for k, v in self.sets.items()}}, path)


def _stratified(ids: pd.Series, labels: pd.Series, test_fraction: float, seed: int, names: tuple[str, str]) -> dict[str, tuple[str, ...]]:
    if not 0.0 < test_fraction < 1.0:
        raise SplitError(f"split fraction must be between 0 and 1, got {test_fraction}")
    counts = labels.value_counts()
    stratify = labels if (len(counts) == 2 and counts.min() >= 2) else None
    from sklearn.model_selection import train_test_split  # lazy: scikit-learn takes ~0.8 s to import; only the split job draws a split

    a, b = train_test_split(ids.to_numpy(), test_size=test_fraction, random_state=seed, stratify=stratify)
    return {names[0]: tuple(sorted(a)), names[1]: tuple(sorted(b))}


def stratified_random_split(table: pd.DataFrame, *, test_fraction: float, seed: int, names: tuple[str, str] = (TRAIN, VALIDATION)) -> Split:
    """Random split stratified by label (e.g. MTLNet's 8:2 train/validation)."""
    return Split(_stratified(table["patient_id"], table["label"], test_fraction, seed, names), "stratified_random")


def center_split(
    table: pd.DataFrame,
    *,
    train_centers: tuple[str, ...],
    internal_fraction: float,
    seed: int,
    names: tuple[str, str, str] = (TRAIN, INTERNAL_TEST, EXTERNAL_TEST),
) -> Split:
    """Training centres -> train + internal test (stratified random); all other centres -> external test."""
    unknown = sorted(set(train_centers) - set(table["center"]))
    if unknown:
        raise SplitError(f"training centre(s) {unknown} not in the cohort; centres present: {sorted(set(table['center']))}")
    inside = table[table["center"].isin(train_centers)]
    outside = table[~table["center"].isin(train_centers)]
    if outside.empty:
        raise SplitError(f"no patient outside the training centres {list(train_centers)}: the external test set would be empty")
    sets = _stratified(inside["patient_id"], inside["label"], internal_fraction, seed, names[:2])
    sets[names[2]] = tuple(sorted(outside["patient_id"]))
    return Split(sets, "center")


def temporal_split(
    table: pd.DataFrame,
    *,
    cutoff: str,
    validation_fraction: float,
    seed: int,
    names: tuple[str, str, str] = (TRAIN, VALIDATION, EXTERNAL),
) -> Split:
    """Scans on or after ``cutoff`` -> temporal external set; earlier scans -> stratified train/validation."""
    dates = pd.to_datetime(table["scan_date"])
    late = dates >= pd.Timestamp(cutoff)
    if not late.any() or late.all():
        raise SplitError(f"cut-off {cutoff} leaves {int(late.sum())} of {len(table)} patients in the external set; choose a date inside {dates.min().date()}..{dates.max().date()}")
    early = table[~late]
    sets = _stratified(early["patient_id"], early["label"], validation_fraction, seed, names[:2])
    sets[names[2]] = tuple(sorted(table.loc[late, "patient_id"]))
    return Split(sets, "temporal")


def make_split(table: pd.DataFrame, spec: Mapping[str, object], *, seed: int) -> Split:
    """Make the split a study's parameters describe (``spec['mode']``: random, center or temporal).

    A random split holds out ``internal_fraction`` as ``internal_test`` or ``validation_fraction``
    as ``validation``, whichever the spec gives.
    """
    mode = spec.get("mode")
    if mode == "random":  # the schema (data.settings.SplitSettings) guarantees exactly one of the two fractions
        if spec.get("internal_fraction") is not None:
            return stratified_random_split(table, test_fraction=float(spec["internal_fraction"]), seed=seed, names=(TRAIN, INTERNAL_TEST))  # type: ignore[arg-type]
        return stratified_random_split(table, test_fraction=float(spec["validation_fraction"]), seed=seed)  # type: ignore[arg-type]
    if mode == "center":
        return center_split(table, train_centers=tuple(spec["train_centers"]), internal_fraction=float(spec["internal_fraction"]), seed=seed)  # type: ignore[arg-type]
    if mode == "temporal":
        return temporal_split(table, cutoff=str(spec["cutoff"]), validation_fraction=float(spec["validation_fraction"]), seed=seed)  # type: ignore[arg-type]
    raise SplitError(f"unknown split mode {mode!r}; valid modes: random, center, temporal")


def load_split(path: str | os.PathLike[str], table: pd.DataFrame) -> Split:
    """Read a split file and check it against the cohort: known patients, no overlap, nobody left out."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
        sets = {str(k): tuple(str(x) for x in v) for k, v in raw["sets"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SplitError(f"{p}: not a split file ({exc}); expected JSON {{'sets': {{name: [patient ids]}}}}") from exc
    split = Split(sets, str(raw.get("mode", "user")))
    if TRAIN not in sets:
        raise SplitError(f"{p}: no set named '{TRAIN}' (sets: {', '.join(sets)}); name the set the models are fitted on '{TRAIN}' (its position in the file does not matter)")
    cohort_ids = set(table["patient_id"])
    listed = {pid for ids in sets.values() for pid in ids}
    unknown, left_out = sorted(listed - cohort_ids), sorted(cohort_ids - listed)
    if unknown:
        raise SplitError(f"{p}: {len(unknown)} patient id(s) not in the cohort, e.g. {unknown[:3]}")
    if left_out:
        raise SplitError(f"{p}: {len(left_out)} patient(s) of the cohort are in no set, e.g. {left_out[:3]}")
    return split


def split_summary(table: pd.DataFrame, split: Split) -> pd.DataFrame:
    """Patients and eosinophilic share per set."""
    sets = split.set_of(table)
    g = table.groupby(sets, sort=False)["label"]
    out = pd.DataFrame({"patients": g.size(), "eosinophilic": g.sum(), "eosinophilic_%": (100 * g.mean()).round(1)})
    return out.reindex(list(split.names)).rename_axis("set")
