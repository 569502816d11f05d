"""Mid-face CT phantom: paranasal sinuses, nasal cavity, orbits and bone, in Hounsfield units.

The phantom is a union of ellipsoids placed in patient coordinates (millimetres,
ITK/DICOM LPS: +x patient left, +y posterior, +z superior).  Positions and sizes
follow adult sinus anatomy (maxillary sinus ~15 mL, ethmoid labyrinth of small air
cells between the orbits, frontal and sphenoid sinuses) and were checked against
the real head CT in ``shared/reference/ct`` (see the cohort chapter).

No imaging library draws anatomical phantoms, so this module is hand-written;
it only uses numpy for the geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # pandas is imported where the volume table is made, not with the geometry
    import pandas as pd

__all__ = [
    "HU", "SINUS_NAMES", "EVIDENCE_LABELS", "OPACIFIED_LABELS", "AERATED_LABELS", "AERATED_OFFSET", "Ellipsoid", "Anatomy", "sample_anatomy", "render",
    "sinus_volumes_ml", "phantom_volume_table", "TYPICAL_ADULT_ML",
]

# Tissue values in Hounsfield units (means; the scanner adds noise and blur).
HU = {
    "air": -1000.0,
    "fat": -100.0,
    "soft_tissue": 30.0,
    "brain": 35.0,
    "globe": 15.0,
    "cartilage": 250.0,
    "cortical_bone": 1350.0,  # skull vault
    "facial_bone": 1100.0,  # palate
    "thin_wall": 850.0,  # sinus and orbital walls (thin, partial-volume lowers their HU)
}

# Sinus compartments scored by Lund-Mackay, one per side.
SINUS_NAMES = ("maxillary", "anterior_ethmoid", "posterior_ethmoid", "frontal", "sphenoid")
SIDES = ("right", "left")  # LPS: right = -x, left = +x

# The evidence label map: every voxel of a compartment labelled by the compartment and by
# whether it is opacified (1-6, the lesion ROI) or aerated (11-15: the same compartment + 10, clear).
# Which of them argue for which endotype is not written here: ``explain.evidence`` derives it from
# the generator's conditional dependence (a fit on ``data.synth.evidence.simulate_burden``).
OPACIFIED_LABELS = {1: "ethmoid", 2: "olfactory_cleft", 3: "frontal", 4: "sphenoid", 5: "maxillary", 6: "nasal_polyp"}
AERATED_OFFSET = 10
AERATED_LABELS = {k + AERATED_OFFSET: f"aerated {name}" for k, name in OPACIFIED_LABELS.items() if name != "nasal_polyp"}
EVIDENCE_LABELS = {**OPACIFIED_LABELS, **AERATED_LABELS}


@dataclass(frozen=True)
class Ellipsoid:
    """An axis-aligned ellipsoid in anatomical (lr, ap, si) millimetres.

    ``ap`` grows anteriorly (towards the nose) and ``si`` superiorly.
    """

    centre: tuple[float, float, float]
    axes: tuple[float, float, float]

    def radius(self, lr: NDArray, ap: NDArray, si: NDArray) -> NDArray:
        """Normalised radius: < 1 inside, 1 on the surface."""
        c, a = self.centre, self.axes
        return np.sqrt(((lr - c[0]) / a[0]) ** 2 + ((ap - c[1]) / a[1]) ** 2 + ((si - c[2]) / a[2]) ** 2)

    def grown(self, mm: float) -> Ellipsoid:
        """The same ellipsoid with every semi-axis longer by ``mm``."""
        return Ellipsoid(self.centre, tuple(a + mm for a in self.axes))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Anatomy:
    """One patient's geometry: every structure as ellipsoids, plus a small head rotation."""

    head: Ellipsoid
    vault_outer: Ellipsoid
    vault_inner: Ellipsoid
    nasal: tuple[Ellipsoid, Ellipsoid]
    turbinates: tuple[Ellipsoid, ...]
    olfactory_cleft: tuple[Ellipsoid, Ellipsoid]
    orbits: tuple[Ellipsoid, Ellipsoid]
    globes: tuple[Ellipsoid, Ellipsoid]
    sinuses: dict[str, tuple[Ellipsoid, ...]] = field(default_factory=dict)
    """Sinus name -> ellipsoids (right side first); ethmoids hold many small air cells."""
    ethmoid_cells: dict[str, tuple[tuple[int, ...], ...]] = field(default_factory=dict)
    """Ethmoid compartment -> for each side, indices into ``sinuses[name]`` of that side's cells."""
    wall_mm: float = 1.5
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0


def _jitter(rng: np.random.Generator, sd: float, n: int = 3) -> NDArray:
    return rng.normal(0.0, sd, size=n)


def sample_anatomy(rng: np.random.Generator) -> Anatomy:
    """Draw one patient's mid-face anatomy: size, position, asymmetry and pose vary.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness (seeded by the caller).
    """
    scale = float(np.clip(rng.normal(1.0, 0.05), 0.85, 1.15))
    asym = float(rng.normal(0.0, 0.06))  # relative size difference left vs right

    def pair(centre: tuple[float, float, float], axes: tuple[float, float, float], sd: float = 1.2) -> tuple[Ellipsoid, Ellipsoid]:
        out = []
        for side, sign in (("right", -1.0), ("left", 1.0)):
            side_scale = scale * (1.0 + (asym / 2.0 if side == "left" else -asym / 2.0))
            c = np.array([sign * centre[0], centre[1], centre[2]]) * scale + _jitter(rng, sd)
            a = np.array(axes) * side_scale * np.exp(_jitter(rng, 0.06))
            out.append(Ellipsoid(tuple(c), tuple(a)))
        return out[0], out[1]

    head = Ellipsoid((0.0, 5.0 * scale, 10.0 * scale), (70.0 * scale, 92.0 * scale, 80.0 * scale))
    vault_outer = Ellipsoid((0.0, 0.0, 20.0 * scale), (66.0 * scale, 86.0 * scale, 74.0 * scale))
    vault_inner = vault_outer.grown(-6.0 * scale)
    nasal = pair((7.5, 48.0, 2.0), (6.5, 36.0, 22.0), sd=0.5)
    inferior_t = pair((11.0, 46.0, -10.0), (3.5, 28.0, 4.5), sd=0.4)
    middle_t = pair((10.0, 46.0, 4.0), (3.0, 22.0, 3.5), sd=0.4)
    cleft = pair((2.8, 42.0, 21.0), (2.2, 15.0, 5.0), sd=0.3)
    orbits = pair((33.0, 56.0, 30.0), (16.0, 22.0, 16.0), sd=1.0)
    globes = tuple(Ellipsoid((o.centre[0], o.centre[1] + 11.0, o.centre[2]), (11.5, 11.5, 11.5)) for o in orbits)
    maxillary = pair((27.0, 42.0, -2.0), (12.5, 17.0, 17.0), sd=1.5)
    frontal = pair((10.0, 77.0, 52.0), (8.5, 6.5, 12.0), sd=1.5)
    sphenoid = pair((7.5, 12.0, 14.0), (7.5, 11.0, 10.0), sd=1.2)

    # Ethmoid labyrinth: a block of small air cells between orbit and nasal cavity on each side.
    cells: list[Ellipsoid] = []
    anterior: list[list[int]] = [[], []]
    posterior: list[list[int]] = [[], []]
    for s, sign in enumerate((-1.0, 1.0)):
        x0 = sign * 13.5 * scale
        for i_ap, ap in enumerate(np.linspace(26.0, 64.0, 6)):
            for si in (16.0, 23.0, 30.0):
                for dx in (-3.3, 3.3):
                    centre = np.array([x0 + dx * scale, ap * scale, si * scale]) + _jitter(rng, 0.4)
                    axes = np.array([2.9, 3.0, 3.0]) * scale * np.exp(_jitter(rng, 0.08))
                    (anterior if i_ap >= 3 else posterior)[s].append(len(cells))
                    cells.append(Ellipsoid(tuple(centre), tuple(axes)))
    return Anatomy(
        head=head,
        vault_outer=vault_outer,
        vault_inner=vault_inner,
        nasal=nasal,
        turbinates=inferior_t + middle_t,
        olfactory_cleft=cleft,
        orbits=orbits,
        globes=globes,  # type: ignore[arg-type]
        sinuses={
            "maxillary": maxillary,
            "frontal": frontal,
            "sphenoid": sphenoid,
            "ethmoid": tuple(cells),
        },
        ethmoid_cells={
            "anterior_ethmoid": tuple(tuple(a) for a in anterior),
            "posterior_ethmoid": tuple(tuple(p) for p in posterior),
        },
        wall_mm=float(np.clip(rng.normal(1.6, 0.2), 1.0, 2.4)),
        yaw_deg=float(rng.normal(0.0, 2.5)),
        pitch_deg=float(rng.normal(0.0, 2.5)),
    )


def anatomical_grid(
    shape_zyx: tuple[int, int, int], spacing_xyz: tuple[float, float, float], origin_xyz: tuple[float, float, float], anatomy: Anatomy
) -> tuple[NDArray, NDArray, NDArray]:
    """(lr, ap, si) millimetre coordinates of every voxel of an LPS image, head pose applied.

    Arrays come back in numpy's (z, y, x) order, as SimpleITK stores images.
    """
    nz, ny, nx = shape_zyx
    x = origin_xyz[0] + spacing_xyz[0] * np.arange(nx, dtype=np.float32)
    y = origin_xyz[1] + spacing_xyz[1] * np.arange(ny, dtype=np.float32)
    z = origin_xyz[2] + spacing_xyz[2] * np.arange(nz, dtype=np.float32)
    zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
    lr, ap, si = xx, -yy, zz
    yaw, pitch = np.deg2rad(anatomy.yaw_deg), np.deg2rad(anatomy.pitch_deg)
    lr, ap = np.cos(yaw) * lr - np.sin(yaw) * ap, np.sin(yaw) * lr + np.cos(yaw) * ap
    ap, si = np.cos(pitch) * ap - np.sin(pitch) * si, np.sin(pitch) * ap + np.cos(pitch) * si
    return lr.astype(np.float32), ap.astype(np.float32), si.astype(np.float32)


class _EllipsoidGrid:
    """Normalised radii of ellipsoids on a coordinate grid, computed only inside each ellipsoid's index box.

    The grid of :func:`anatomical_grid` is an affine function of the voxel index, so an
    ellipsoid maps to an ellipsoid in index space whose bounding box is exact; outside it the
    radius is ``inf`` (every caller only asks ``< 1`` or ``>= 1``).  Inside the box the values
    are computed by :meth:`Ellipsoid.radius` on the same voxels' coordinates, so they are the
    full-grid values bit for bit; most sinus cells cover well under 1% of the volume.  (No
    library evaluates implicit shapes on a sub-box; written here.)
    """

    def __init__(self, lr: NDArray, ap: NDArray, si: NDArray, *, boxed: bool = True) -> None:
        self.lr, self.ap, self.si, self.boxed = lr, ap, si, boxed
        self.shape = lr.shape
        coords = np.stack([lr, ap, si])
        self.origin = coords[:, 0, 0, 0].astype(np.float64)
        steps = [coords[(slice(None), *(1 if d == k else 0 for d in range(3)))].astype(np.float64) - self.origin for k in range(3)]
        self.to_index = np.linalg.inv(np.stack(steps, axis=1))  # mm offset -> (z, y, x) index

    def _box(self, e: Ellipsoid) -> tuple[slice, ...]:
        centre = self.to_index @ (np.asarray(e.centre, dtype=np.float64) - self.origin)
        half = np.sqrt(((self.to_index * np.asarray(e.axes, dtype=np.float64)) ** 2).sum(axis=1))
        lo = np.clip(np.floor(centre - half).astype(int) - 2, 0, self.shape)
        hi = np.clip(np.ceil(centre + half).astype(int) + 3, 0, self.shape)
        return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))

    def radius(self, e: Ellipsoid) -> NDArray:
        if not self.boxed:
            return e.radius(self.lr, self.ap, self.si)
        box = self._box(e)
        inner = e.radius(self.lr[box], self.ap[box], self.si[box])
        out = np.full(self.shape, np.inf, dtype=inner.dtype)  # the dtype the full-grid computation has
        out[box] = inner
        return out

    def inside(self, e: Ellipsoid) -> NDArray[np.bool_]:
        """``radius(e) < 1`` without the full-grid radius: only the box is evaluated, the rest is False
        (a boolean grid is an eighth of a float one to allocate and compare; most shapes need only this)."""
        if not self.boxed:
            return e.radius(self.lr, self.ap, self.si) < 1.0
        box = self._box(e)
        out = np.zeros(self.shape, dtype=bool)
        out[box] = e.radius(self.lr[box], self.ap[box], self.si[box]) < 1.0
        return out


@dataclass(frozen=True)
class Rendered:
    """Noise-free HU volume and label volumes for one patient, in (z, y, x) order."""

    hu: NDArray[np.float32]
    sinus_mask: NDArray[np.uint8]
    roi_mask: NDArray[np.uint8]
    opacified_fraction: dict[str, float]
    """Measured opacified volume fraction per ``<side>_<sinus>`` compartment."""
    evidence: NDArray[np.uint8]
    """Every lesion-ROI voxel labelled by its compartment (:data:`OPACIFIED_LABELS`), every clear voxel of a
    sinus or olfactory cleft by its compartment + :data:`AERATED_OFFSET` (:data:`AERATED_LABELS`); 0 elsewhere."""


def render(
    anatomy: Anatomy,
    opacification: dict[str, float],
    *,
    olfactory_cleft: tuple[bool, bool],
    polyps: tuple[float, float],
    mucosa_hu: float,
    grid: tuple[NDArray, NDArray, NDArray],
    boxed: bool = True,
) -> Rendered:
    """Draw tissue, bone, air and disease on a coordinate grid.

    Parameters
    ----------
    anatomy : Anatomy
        The patient's geometry.
    opacification : dict
        ``<side>_<sinus>`` -> fraction of that sinus's volume filled by soft tissue (0..1).
        Mucosal thickening grows from the wall inwards; in the ethmoids whole cells fill.
    olfactory_cleft : (bool, bool)
        Right / left olfactory cleft opacified.
    polyps : (float, float)
        Right / left nasal polyp radius in mm (0 = none), in the middle meatus.
    mucosa_hu : float
        HU of inflamed mucosa and polyps (+10...+50).
    grid : tuple of arrays
        Output of :func:`anatomical_grid`.
    boxed : bool
        Evaluate each ellipsoid only inside its index box (the same volumes, much faster);
        False evaluates every ellipsoid on the whole grid (the reference the tests compare with).
    """
    lr, ap, si = grid
    shapes = _EllipsoidGrid(lr, ap, si, boxed=boxed)
    rad, ins = shapes.radius, shapes.inside
    hu = np.full(lr.shape, HU["air"], dtype=np.float32)
    sinus = np.zeros(lr.shape, dtype=bool)
    roi = np.zeros(lr.shape, dtype=bool)
    # Opacified labels are written wherever ``roi`` is, by the same masks; aerated labels only where no
    # label is yet (so opacified voxels keep theirs, and later opacification overwrites aerated).  It
    # never changes ``hu``, ``sinus`` or ``roi``.
    evidence = np.zeros(lr.shape, dtype=np.uint8)
    label_of = {name: k for k, name in OPACIFIED_LABELS.items()}

    def aerated(where: NDArray, name: str) -> None:
        evidence[where & (evidence == 0)] = label_of[name] + AERATED_OFFSET

    inside_head = ins(anatomy.head)
    hu[inside_head] = HU["soft_tissue"]
    vault = ins(anatomy.vault_outer) & ((si > 38.0) | (ap < 18.0))
    brain = ins(anatomy.vault_inner) & ((si > 38.0) | (ap < 18.0))
    hu[vault] = HU["cortical_bone"]
    hu[brain] = HU["brain"]
    # Hard palate under the nasal cavity and maxillary sinuses.
    palate = (np.abs(lr) < 30.0) & (ap > 18.0) & (ap < 78.0) & (si > -25.0) & (si < -20.5)
    hu[palate] = HU["facial_bone"]

    def carve(e: Ellipsoid, fill: float, wall: bool = True, inside: NDArray | None = None) -> NDArray:
        """Fill ``e`` (its inside mask, if already known) and draw its wall; returns the inside mask."""
        inside = ins(e) if inside is None else inside
        if wall:
            hu[ins(e.grown(anatomy.wall_mm)) & ~inside] = HU["thin_wall"]
        hu[inside] = fill
        return inside

    for orbit, globe in zip(anatomy.orbits, anatomy.globes):
        carve(orbit, HU["fat"])
        hu[ins(globe)] = HU["globe"]
    for nasal in anatomy.nasal:
        carve(nasal, HU["air"])
    # Septum: a thin midline plate of bone and cartilage inside the nasal cavity.
    nasal_any = np.zeros(lr.shape, dtype=bool)
    for nasal in anatomy.nasal:
        nasal_any |= ins(nasal.grown(anatomy.wall_mm + 1.0))
    hu[nasal_any & (np.abs(lr) < 1.2)] = HU["cartilage"]
    for t in anatomy.turbinates:
        hu[ins(t)] = HU["soft_tissue"]

    fractions: dict[str, float] = {}
    for name in ("maxillary", "frontal", "sphenoid"):
        for side, e in zip(SIDES, anatomy.sinuses[name]):
            r = rad(e)
            inside = carve(e, HU["air"], inside=r < 1.0)
            f = float(np.clip(opacification.get(f"{side}_{name}", 0.0), 0.0, 1.0))
            rim = inside & (r > (1.0 - f) ** (1.0 / 3.0))
            hu[rim] = mucosa_hu
            sinus |= inside
            roi |= rim
            evidence[rim] = label_of[name]
            aerated(inside & ~rim, name)
            fractions[f"{side}_{name}"] = float(rim.sum() / max(inside.sum(), 1))

    cells = anatomy.sinuses["ethmoid"]
    for e in cells:
        carve(e, HU["air"], wall=True)
    for part, per_side in anatomy.ethmoid_cells.items():
        for side, idx in zip(SIDES, per_side):
            f = float(np.clip(opacification.get(f"{side}_{part}", 0.0), 0.0, 1.0))
            n_fill = int(round(f * len(idx)))
            filled = total = 0
            for k, i in enumerate(idx):
                inside = ins(cells[i])
                sinus |= inside
                total += int(inside.sum())
                # Cells fill from the ostiomeatal side (anterior-inferior) first.
                if k < n_fill:
                    hu[inside] = mucosa_hu
                    roi |= inside
                    evidence[inside] = label_of["ethmoid"]
                    filled += int(inside.sum())
                else:
                    aerated(inside, "ethmoid")
            fractions[f"{side}_{part}"] = filled / max(total, 1)

    for _side, cleft, opaque in zip(SIDES, anatomy.olfactory_cleft, olfactory_cleft):
        inside = ins(cleft)
        hu[inside] = mucosa_hu if opaque else HU["air"]
        if opaque:
            roi |= inside
            evidence[inside] = label_of["olfactory_cleft"]
        else:
            aerated(inside, "olfactory_cleft")
    for _side, nasal, radius in zip(SIDES, anatomy.nasal, polyps):
        if radius <= 0:
            continue
        c = (nasal.centre[0] * 1.25, nasal.centre[1] - 2.0, nasal.centre[2] + 2.0)
        polyp = ins(Ellipsoid(c, (radius * 0.6, radius * 1.4, radius)))
        polyp &= ins(nasal)
        hu[polyp] = mucosa_hu
        roi |= polyp
        evidence[polyp] = label_of["nasal_polyp"]
    return Rendered(hu=hu, sinus_mask=sinus.astype(np.uint8), roi_mask=roi.astype(np.uint8), opacified_fraction=fractions, evidence=evidence)


# Approximate adult volumes per side from CT volumetry (mL); a plausibility check, not a fit target.
TYPICAL_ADULT_ML = {"maxillary": (10.0, 20.0), "ethmoid": (3.0, 8.0), "frontal": (2.0, 8.0), "sphenoid": (3.0, 10.0)}


def sinus_volumes_ml(anatomy: Anatomy) -> dict[str, float]:
    """Air-space volume per sinus and side (mL), from the ellipsoids (4/3·π·a·b·c)."""
    vol = lambda e: 4.0 / 3.0 * np.pi * float(np.prod(e.axes)) / 1000.0  # noqa: E731
    out = {}
    for name in ("maxillary", "frontal", "sphenoid"):
        for side, e in zip(SIDES, anatomy.sinuses[name]):
            out[f"{side} {name}"] = vol(e)
    cells = anatomy.sinuses["ethmoid"]
    for s, side in enumerate(SIDES):
        idx = [i for part in anatomy.ethmoid_cells.values() for i in part[s]]
        out[f"{side} ethmoid"] = sum(vol(cells[i]) for i in idx)
    return out


def phantom_volume_table(*, n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Median and 5th-95th percentile of each sinus volume over ``n`` sampled anatomies, with typical adult ranges."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    vols = pd.DataFrame([sinus_volumes_ml(sample_anatomy(rng)) for _ in range(n)])
    rows = []
    for name, (lo, hi) in TYPICAL_ADULT_ML.items():
        v = pd.concat([vols[f"right {name}"], vols[f"left {name}"]])
        rows.append({"sinus (per side)": name, "phantom median mL": v.median(), "phantom p5–p95 mL": f"{v.quantile(0.05):.1f}–{v.quantile(0.95):.1f}", "typical adult mL": f"{lo:.0f}–{hi:.0f}"})
    return pd.DataFrame(rows).set_index("sinus (per side)").round(1)
