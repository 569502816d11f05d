"""Shared fixtures: a tiny synthetic cohort written once per session, and the shared reference data."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecrs_analysis.data.synth.cohort import generate_cohort

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.fixture(scope="session")
def tiny_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16-patient li2025 cohort at coarse resolution (folder with manifest.csv)."""
    return generate_cohort(tmp_path_factory.mktemp("cohort") / "li", design="li2025", seed=11, n_patients=16, spacing_scale=6.0, n_jobs=1)


@pytest.fixture(scope="session")
def reference_ct() -> Path:
    p = SHARED / "ct" / "invesalius_0051_headCT.nii.gz"
    if not p.exists():
        pytest.skip(f"shared reference data not found at {p}")
    return p


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    if not SHARED.exists():
        pytest.skip(f"shared reference data not found at {SHARED}")
    return SHARED
