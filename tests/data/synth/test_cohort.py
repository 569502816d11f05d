import hashlib

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from ecrs_analysis.data.manifest import validate_manifest
from ecrs_analysis.data.synth.cohort import DESIGNS, generate_cohort


def _digest(folder):
    m = pd.read_csv(folder / "manifest.csv")
    h = hashlib.sha256(m.to_csv(index=False).encode())
    for f in m["image"].tolist() + m["roi_mask"].tolist():
        h.update(sitk.GetArrayFromImage(sitk.ReadImage(str(folder / f))).tobytes())
    return h.hexdigest()


def test_same_seed_same_cohort_whatever_the_worker_count(tmp_path, tiny_cohort):
    again = generate_cohort(tmp_path / "again", design="li2025", seed=11, n_patients=16, spacing_scale=6.0, n_jobs=2)
    assert _digest(again) == _digest(tiny_cohort)


def test_another_seed_gives_another_cohort(tmp_path, tiny_cohort):
    other = generate_cohort(tmp_path / "other", design="li2025", seed=12, n_patients=16, spacing_scale=6.0, n_jobs=1)
    assert _digest(other) != _digest(tiny_cohort)


def test_generated_cohort_passes_validation(tiny_cohort):
    cohort = validate_manifest(tiny_cohort / "manifest.csv", mask_columns=("roi_mask", "sinus_mask"), known_centers=("hospital_A", "hospital_B"))
    assert cohort.n == 16
    assert set(cohort.table["center"]) == {"hospital_A", "hospital_B"}
    assert cohort.truth is not None and len(cohort.truth) == 16


def test_ct_is_in_hounsfield_units_with_lesions_inside_the_head(tiny_cohort):
    m = pd.read_csv(tiny_cohort / "manifest.csv")
    ct = sitk.GetArrayFromImage(sitk.ReadImage(str(tiny_cohort / m["image"][0])))
    roi = sitk.GetArrayFromImage(sitk.ReadImage(str(tiny_cohort / m["roi_mask"][0])))
    sinus = sitk.GetArrayFromImage(sitk.ReadImage(str(tiny_cohort / m["sinus_mask"][0])))
    assert np.percentile(ct, 1) < -900 and ct.max() > 700
    lesion_hu = np.median(ct[roi == 1])
    assert -20 < lesion_hu < 80  # soft-tissue opacification, not air or bone
    assert np.median(ct[(sinus == 1) & (roi == 0)]) < -500  # clear sinus is air
    assert roi.sum() > 0


def test_two_hospitals_have_different_scanners(tiny_cohort):
    m = pd.read_csv(tiny_cohort / "manifest.csv")
    spacing = {c: sitk.ReadImage(str(tiny_cohort / m[m.center == c]["image"].iloc[0])).GetSpacing() for c in ("hospital_A", "hospital_B")}
    assert spacing["hospital_A"] != spacing["hospital_B"]


def test_temporal_design_places_the_external_share_after_the_cutoff(tmp_path):
    folder = generate_cohort(tmp_path / "mt", design="mtlnet2025", seed=3, n_patients=40, spacing_scale=8.0, n_jobs=1)
    m = pd.read_csv(folder / "manifest.csv")
    late = (pd.to_datetime(m["scan_date"]) >= DESIGNS["mtlnet2025"].temporal_cutoff).sum()
    assert late == round(44 * 40 / 257)
    assert (m["nasal_polyps"] == 1).all()  # CRSwNP-only cohort


def test_unknown_design_is_refused(tmp_path):
    with pytest.raises(ValueError, match="valid designs"):
        generate_cohort(tmp_path / "x", design="nope", seed=1)
