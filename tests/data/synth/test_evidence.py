"""The evidence label maps: exported beside the masks, without changing a byte of the images, masks or manifest."""

import filecmp

import numpy as np
import pytest
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


# --- the simulated burdens the evidence definition is fitted on (data.synth.evidence) ------------------

from ecrs_analysis.data.synth import evidence as E  # noqa: E402


def test_simulated_burdens_follow_the_generator_and_its_seed():
    burden, y = E.simulate_burden("li2025", n=300, seed=3)
    assert list(burden.columns) == ["ethmoid", "olfactory_cleft", "frontal", "sphenoid", "maxillary", "nasal_polyp"] and len(y) == 300
    assert set(np.unique(y)) == {0, 1} and ((burden >= 0) & (burden <= burden.max())).all().all()
    again, y2 = E.simulate_burden("li2025", n=300, seed=3)
    pd.testing.assert_frame_equal(burden, again)
    assert (y == y2).all()
    assert burden.loc[y == 1, "ethmoid"].mean() > burden.loc[y == 0, "ethmoid"].mean()  # the generator's ethmoid dominance in eCRS
    with pytest.raises(ValueError, match="unknown design 'x'.*li2025"):
        E.simulate_burden("x")
