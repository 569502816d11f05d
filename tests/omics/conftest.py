"""Fixtures of the proteomics tests: the shared real MaxQuant file and reference gene sets."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def maxquant(shared_reference: Path, reference_missing) -> tuple[Path, Path]:
    folder = shared_reference / "proteomics"
    pg, meta = folder / "proteinGroups.txt.gz", folder / "metadata.csv"
    if not pg.exists() or not meta.exists():
        reference_missing(f"MaxQuant reference data not found in {folder}")
    return pg, meta


@pytest.fixture(scope="session")
def reactome_gmt(shared_reference: Path, reference_missing) -> Path:
    p = shared_reference / "genesets" / "ReactomePathways_2024-09-18.gmt"
    if not p.exists():
        reference_missing(f"Reactome release file not found at {p}")
    return p
