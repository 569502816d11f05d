"""The evidence label maps: exported beside the masks, without changing a byte of the images, masks or manifest."""

import filecmp

import numpy as np
import pandas as pd
import SimpleITK as sitk

from ecrs_analysis.data.synth.anatomy import AERATED_OFFSET, EVIDENCE_LABELS, OPACIFIED_LABELS
from ecrs_analysis.data.synth.cohort import generate_cohort


def test_export_leaves_images_and_labels_byte_identical(tmp_path, tiny_cohort):
    without = generate_cohort(tmp_path / "without", design="li2025", seed=11, n_patients=16, spacing_scale=6.0, n_jobs=1, evidence=False)
    m = pd.read_csv(tiny_cohort / "manifest.csv")
    assert filecmp.cmp(tiny_cohort / "manifest.csv", without / "manifest.csv", shallow=False)
    for col in ("image", "roi_mask", "sinus_mask"):
        for f in m[col]:
            assert filecmp.cmp(tiny_cohort / f, without / f, shallow=False), f
    assert "evidence_mask" not in pd.read_csv(without / "truth.csv")
    assert not list((without / "masks").glob("*_evidence.nii.gz"))


def test_evidence_labels_the_lesion_roi_by_compartment(tiny_cohort):
    m = pd.read_csv(tiny_cohort / "manifest.csv")
    t = pd.read_csv(tiny_cohort / "truth.csv")
    assert "evidence_mask" not in m  # ground truth stays out of the user-style manifest
    seen = set()
    for pid, rel in zip(t["patient_id"], t["evidence_mask"]):
        ev = sitk.GetArrayFromImage(sitk.ReadImage(str(tiny_cohort / rel)))
        row = m[m["patient_id"] == pid].iloc[0]
        roi = sitk.GetArrayFromImage(sitk.ReadImage(str(tiny_cohort / row["roi_mask"])))
        assert np.array_equal(np.isin(ev, list(OPACIFIED_LABELS)), roi > 0)
        assert set(np.unique(ev)) <= {0, *EVIDENCE_LABELS}
        seen |= set(np.unique(ev)) - {0}
        # ethmoid evidence exactly when the generator measured filled ethmoid cells
        truth = t[t["patient_id"] == pid].iloc[0]
        filled = sum(truth[f"measured_opac_{side}_{part}_ethmoid"] for side in ("right", "left") for part in ("anterior", "posterior"))
        assert (ev == 1).any() == (filled > 0)
        # and aerated ethmoid exactly when some cell stayed clear (fewer filled than 4 compartments' worth)
        assert (ev == 1 + AERATED_OFFSET).any() == (filled < 4)
        sinus = sitk.GetArrayFromImage(sitk.ReadImage(str(tiny_cohort / row["sinus_mask"])))
        aer = ev > AERATED_OFFSET
        assert not (aer & (roi > 0)).any()  # an aerated voxel is never in the lesion ROI
        assert (sinus[aer & (ev != 2 + AERATED_OFFSET)] > 0).all()  # and, the cleft apart, lies in a sinus
    assert {1, 5, 11, 15} <= seen  # opacified and aerated ethmoid and maxillary occur in a 16-patient cohort


# --- the per-class definition (data.synth.evidence) -------------------------------------------

from dataclasses import replace  # noqa: E402

import pytest  # noqa: E402

from ecrs_analysis.data.synth import evidence as E  # noqa: E402
from ecrs_analysis.data.synth.patients import draw_patient  # noqa: E402

LABEL = {name: k for k, name in OPACIFIED_LABELS.items()}


@pytest.mark.parametrize("design", ["li2025", "mtlnet2025"])
def test_evidence_definition_follows_what_the_generator_makes_informative(design):
    ev = E.endotype_evidence(design)
    assert set(ev[1]).isdisjoint(ev[0])
    for name in ("ethmoid", "frontal", "sphenoid", "olfactory_cleft"):
        assert LABEL[name] in ev[1] and LABEL[name] + AERATED_OFFSET in ev[0], name
    # maxillary opacification carries (almost) no label information: neither class's evidence
    assert LABEL["maxillary"] not in ev[0] + ev[1] and LABEL["maxillary"] + AERATED_OFFSET not in ev[0] + ev[1]
    auc = E.compartment_auc(design).set_index("compartment")["auc"]
    assert abs(auc["maxillary"] - 0.5) < E.DEFAULT_MARGIN < auc["ethmoid"] - 0.5


def test_evidence_definition_is_derived_not_tabled(monkeypatch):
    """A generator where only maxillary disease carries the label: the definition turns round with it."""

    def swapped(rng, **kw):
        d = draw_patient(rng, **kw)
        o = {k: (0.9 * d.label + 0.1 * rng.random() if "maxillary" in k else 0.5) for k in d.opacification}
        return replace(d, opacification=o, olfactory_cleft=(True, True), polyps_mm=(5.0, 5.0))

    E.compartment_auc.cache_clear()
    monkeypatch.setattr(E, "draw_patient", swapped)
    try:
        ev = E.endotype_evidence("li2025", n=400)
    finally:
        E.compartment_auc.cache_clear()
    assert ev == {1: (LABEL["maxillary"],), 0: (LABEL["maxillary"] + AERATED_OFFSET,)}


def test_margin_decides_what_counts():
    everything = E.endotype_evidence("li2025", margin=0.0)
    nothing = E.endotype_evidence("li2025", margin=0.5)
    assert nothing == {0: (), 1: ()}
    assert set(E.endotype_evidence("li2025")[1]) < set(everything[0] + everything[1])
