"""The regions a map is measured against, and the fold ensemble's map, on hand-made arrays."""

import numpy as np

from ecrs_analysis.explain.regions import ensemble_map, patient_regions


def test_regions_are_the_roi_and_the_labels_that_argue_for_the_class():
    roi = np.array([[0, 1, 2], [0, 0, 1]])
    evidence = np.array([[3, 4, 5], [0, 4, 3]])
    r = patient_regions(roi=roi, evidence=evidence, labels=(3, 5))
    assert set(r) == {"lesion ROI", "evidence"}
    np.testing.assert_array_equal(r["lesion ROI"], [[False, True, True], [False, False, True]])
    np.testing.assert_array_equal(r["evidence"], [[True, False, True], [False, False, True]])
    # a real cohort has no evidence map; without labels (no definition) there is no evidence region either
    assert set(patient_regions(roi=roi, evidence=None, labels=(3,))) == {"lesion ROI"}
    assert set(patient_regions(roi=None, evidence=evidence, labels=None)) == set()


def test_the_ensemble_map_is_the_mean_rescaled_to_one():
    a, b = np.array([0.0, 0.5, 1.0]), np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(ensemble_map([a, b]), [0.0, 1.0, 2 / 3])  # mean [0, .75, .5] / .75
    assert ensemble_map([np.zeros(3), np.zeros(3)]).max() == 0.0  # two empty maps stay empty, no division by 0
