"""The evidence label maps: exported beside the masks, without changing a byte of the images, masks or manifest."""

import filecmp

import numpy as np
import pandas as pd
import SimpleITK as sitk

from ecrs_analysis.data.synth.anatomy import ENDOTYPE_EVIDENCE, EVIDENCE_LABELS
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
        assert np.array_equal(ev > 0, roi > 0)
        assert set(np.unique(ev)) <= {0, *EVIDENCE_LABELS}
        seen |= set(np.unique(ev)) - {0}
        # ethmoid evidence exactly when the generator measured filled ethmoid cells
        truth = t[t["patient_id"] == pid].iloc[0]
        filled = sum(truth[f"measured_opac_{side}_{part}_ethmoid"] for side in ("right", "left") for part in ("anterior", "posterior"))
        assert (ev == 1).any() == (filled > 0)
    assert {1, 5} <= seen  # ethmoid and maxillary disease occur in a 16-patient cohort
    assert set(ENDOTYPE_EVIDENCE[1]).isdisjoint(ENDOTYPE_EVIDENCE[0])
