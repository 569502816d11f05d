"""Shared fixtures: a tiny synthetic cohort written once per session, and the shared reference data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from ecrs_analysis.data.synth.cohort import generate_cohort

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


def reference_missing(reason: str) -> None:
    """Skip a test whose reference data (``../shared/reference``) is absent, or fail it where the data
    must be there: CI sets ``ECRS_REQUIRE_REFERENCE=1``, so a moved or renamed reference file fails
    the run instead of silently skipping the checks against it."""
    if os.environ.get("ECRS_REQUIRE_REFERENCE") == "1":
        pytest.fail(f"{reason} (ECRS_REQUIRE_REFERENCE=1: the reference data must be present)", pytrace=False)
    pytest.skip(reason)


CHECKOUT = Path(__file__).resolve().parents[1]


def _copy_book_sources(dst: Path) -> Path:
    """Copy the book's sources (configuration, notebooks, workflow, profiles, prose) into ``dst``: a run
    there (cwd = ``dst``) leaves the checkout's own results and _build untouched."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(CHECKOUT / name, dst / name)  # with its time: a copy newer than the build would re-run every chapter
    for folder in ("notebooks", "workflow", "params", "book"):
        shutil.copytree(CHECKOUT / folder, dst / folder, ignore=shutil.ignore_patterns("executed", "_build"))
    return dst


@pytest.fixture(scope="session")
def copy_book_sources():
    """:func:`_copy_book_sources`, for tests that run the workflow in a folder of their own."""
    return _copy_book_sources


@pytest.fixture(scope="session")
def tiny_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16-patient li2025 cohort at coarse resolution (folder with manifest.csv)."""
    return generate_cohort(tmp_path_factory.mktemp("cohort") / "li", design="li2025", seed=11, n_patients=16, spacing_scale=6.0, n_jobs=1)


@pytest.fixture(name="reference_missing", scope="session")
def _reference_missing_fixture():
    """:func:`reference_missing`, for conftest files below this one."""
    return reference_missing


@pytest.fixture(scope="session")
def reference_ct() -> Path:
    p = SHARED / "ct" / "invesalius_0051_headCT.nii.gz"
    if not p.exists():
        reference_missing(f"shared reference data not found at {p}")
    return p


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    if not SHARED.exists():
        reference_missing(f"shared reference data not found at {SHARED}")
    return SHARED


def _write_dicom_series(arr: np.ndarray, folder: Path, *, spacing: tuple[float, float, float], skip: tuple[int, ...] = ()) -> Path:
    """Write a (z, y, x) int16 volume as one CT DICOM series, one file per slice (slices in ``skip`` left out)."""
    image = sitk.GetImageFromArray(arr)
    image.SetSpacing(spacing)
    folder.mkdir(parents=True, exist_ok=True)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    uid = "1.2.826.0.1.3680043.2.1125.1"
    for k in range(arr.shape[0]):
        if k in skip:
            continue
        sl = image[:, :, k]
        for tag, value in {
            "0008|0060": "CT",
            "0020|000d": uid + ".1",
            "0020|000e": uid + ".2",
            "0020|0032": "\\".join(map(str, image.TransformIndexToPhysicalPoint((0, 0, k)))),
            "0020|0037": "1\\0\\0\\0\\1\\0",
            "0020|0013": str(k + 1),
            "0028|0030": f"{spacing[0]}\\{spacing[1]}",
        }.items():
            sl.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"{k:03d}.dcm"))
        writer.Execute(sl)
    return folder


@pytest.fixture
def write_dicom_series():
    """The DICOM series writer of the tests (a function, see :func:`_write_dicom_series`)."""
    return _write_dicom_series


# What a run writes into rather than replacing: copied, not linked (a link would carry the write back to the build it came from).
_WRITTEN_IN_PLACE = (".snakemake", "logs")


def _linked_copy(results: Path, dst: Path) -> Path:
    """A results folder whose artefacts are hard links to ``results``' (every job replaces a file by a rename, never
    writes into one), Snakemake's state and the job logs copied, and no run lock."""
    shutil.copytree(results, dst, symlinks=True, copy_function=os.link, ignore=shutil.ignore_patterns(*_WRITTEN_IN_PLACE, ".ecrs-run.lock"))
    for name in _WRITTEN_IN_PLACE:
        if (results / name).exists():
            shutil.copytree(results / name, dst / name, symlinks=True)
    return dst


@pytest.fixture(scope="session")
def linked_copy():
    """:func:`_linked_copy`, for tests that run the workflow on, or open chapters of, a copy of a build."""
    return _linked_copy


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that reads the shared smoke build (the ``smoke_results`` fixture, directly or through another fixture)
    is marked ``smoke_build``: ``make test-on-smoke`` runs them after ``make smoke``, ``make test-builds`` the others."""
    for item in items:
        if "smoke_results" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.smoke_build)


@pytest.fixture(scope="session")
def smoke_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One smoke build shared by every workflow test of the session.

    ``ECRS_SMOKE_RESULTS`` (``make test-workflow`` sets it to ``results/smoke``, which
    ``make smoke`` built) is brought up to date, which runs nothing when it is; without it
    the build is made once in a temporary folder. Tests read it and never write to it (a test that
    changes a build works on a :func:`_linked_copy`): ``make test-on-smoke`` runs two sessions on it
    side by side. They bring it up to date one after the other: each holds an ``flock`` on the folder
    meanwhile (a second ``ecrs run`` on a folder is refused, not queued).
    """
    import fcntl

    from ecrs_analysis.pipeline.runner import RunOptions, run_book

    env = os.environ.get("ECRS_SMOKE_RESULTS")
    target = Path(env) if env else tmp_path_factory.mktemp("smoke") / "smoke"
    target.mkdir(parents=True, exist_ok=True)
    here = Path.cwd()
    folder = os.open(target, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        os.chdir(Path(__file__).resolve().parents[1])
        run_book(RunOptions(profile="smoke", results_dir=target, build=False))
    finally:
        os.chdir(here)
        os.close(folder)  # frees the flock
    return target


def _write_headline_tables(root: Path) -> Path:
    """The five evaluation tables ``report.summary.evidence_summary`` reads, as a finished build writes them (one CNN, the integrated model, MTLNet)."""
    import pandas as pd

    tables = root / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    auc = lambda rows: pd.DataFrame(rows, columns=["set", "model", "n", "AUC", "DeLong low", "DeLong high"])  # noqa: E731
    pd.DataFrame({"model": ["resnet3d"], "learned": ["yes"]}).to_csv(tables / "li2025_deep_learning.csv", index=False)
    auc([("internal_test", "resnet3d", 50, 0.77, 0.66, 0.88), ("internal_test", "image_prob", 50, 0.88, 0.8, 0.95)]).to_csv(tables / "li2025_deep_auc.csv", index=False)
    auc([("internal_test", "integrated", 50, 0.86, 0.8, 0.92), ("internal_test", "true_prob", 50, 0.92, 0.85, 0.97)]).to_csv(tables / "li2025_integrated_auc.csv", index=False)
    pd.DataFrame({"set": ["external"] * 2, "metric": ["AUC", "Dice"], "reproduced": [0.75, 0.81], "95% CI": ["0.600–0.880", "0.800–0.820"], "image ceiling": [0.86, None]}).to_csv(
        tables / "mtlnet2025_mtlnet_reported_vs_reproduced.csv", index=False)
    pd.DataFrame({"learned": [True]}).to_csv(tables / "mtlnet2025_mtlnet_learning.csv", index=False)
    return root


@pytest.fixture
def write_headline_tables():
    """Writes a finished build's headline tables into a folder (a function, see :func:`_write_headline_tables`)."""
    return _write_headline_tables
