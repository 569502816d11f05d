"""The two studies' designs: sample size, hospitals, scan dates, the splits each supports.

Kept apart from the generator (``data.synth.cohort``) so that the parameter schema and the
workflow read the designs without importing the imaging and modelling stack.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CenterDesign", "Design", "DESIGNS"]


@dataclass(frozen=True)
class CenterDesign:
    """One hospital of a design."""

    name: str
    scanner: str
    fraction: float
    latent_mean: float
    first_date: str
    last_date: str


@dataclass(frozen=True)
class Design:
    """A study design: sample size, hospitals, scan dates."""

    name: str
    n_patients: int
    centers: tuple[CenterDesign, ...]
    all_polyps: bool
    id_prefix: str
    temporal_cutoff: str | None = None
    """Scans on or after this date form the temporal external set (MTLNet)."""
    n_after_cutoff: int = 0
    split_modes: tuple[str, ...] = ("random",)
    """The cohort splits the design supports (``split.mode`` in the parameters)."""


DESIGNS = {
    # Li et al. 2025: 1098 patients, two hospitals; hospital A -> training + internal test, B -> external.
    "li2025": Design(
        name="li2025",
        n_patients=1098,
        centers=(
            CenterDesign("hospital_A", "hospital_A", 0.71, 0.0, "2015-01-01", "2022-12-31"),
            CenterDesign("hospital_B", "hospital_B", 0.29, -0.1, "2016-06-01", "2022-12-31"),
        ),
        all_polyps=False,
        id_prefix="LI",
        split_modes=("center", "random"),
    ),
    # MTLNet: 257 CRSwNP patients, one hospital, 2020-01-01..2024-11-30; the 44 scanned from 2024-05-01 on
    # are the temporal external set, the 213 before it were split 172/41 into training and validation.
    "mtlnet2025": Design(
        name="mtlnet2025",
        n_patients=257,
        centers=(CenterDesign("hospital_C", "hospital_A", 1.0, 0.0, "2020-01-01", "2024-11-30"),),
        all_polyps=True,
        id_prefix="MT",
        temporal_cutoff="2024-05-01",
        n_after_cutoff=44,
        split_modes=("temporal", "random"),
    ),
}
