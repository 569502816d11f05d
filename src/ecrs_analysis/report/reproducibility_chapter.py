"""The appendix's tables, read from a run record (``run_record.json``, :mod:`ecrs_analysis.pipeline.record`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ecrs_analysis.report import provenance_links as PL

__all__ = ["run_table", "jobs_table", "packages_table", "job_records"]


def _kernels(device: Mapping[str, Any]) -> str:
    """The CPU and the kernels its training jobs ran (``pipeline.cpu_kernels``): numbers from two machines
    are comparable only when these agree. Records written before the kernels were pinned say so."""
    cpu = device.get("cpu_model") or "not recorded"
    pins = {k: v for k, v in (device.get("cpu_kernels") or {}).items() if v and k != "ECRS_CPU_KERNELS"}
    if "cpu_capability" not in device:
        return f"{cpu}; kernels not recorded"
    how = "pinned: " + ", ".join(f"{k}={v}" for k, v in sorted(pins.items())) if pins else "the machine's own (not pinned)"
    return f"{cpu}; ATen dispatch {device['cpu_capability']}; {how}"


def run_table(record: Mapping[str, Any]) -> pd.DataFrame:
    """What was run, where and with which code: one row per item (profile, commit, Python, device, run, overrides, jobs).

    Parameters
    ----------
    record : mapping
        A run record (``run_record.json``).

    Returns
    -------
    DataFrame
        Index ``item``, one column ``value`` (text).
    """
    git, device, jobs = record["git"], record["device"], record["jobs"]
    re_executed = sum(j["status"] == "re-executed" for j in jobs)
    commit = git.get("commit") or "not a git checkout"
    rows = {
        "profile": record["profile"],
        "code version (git commit)": commit + (" (with uncommitted changes)" if git.get("dirty") else ""),
        "Python": record["python"],
        "device": f"{device.get('cuda') or 'CPU'} ({device['cpu_count']} cores, {device['platform']})",
        "CPU model and kernels": _kernels(device),
        "run": f"{record['run']} (started {record['started']} UTC)",
        "overrides": str(record["overrides"] or "none"),
        "jobs": f"{len(jobs)}, of which {re_executed} re-executed in this run",
    }
    return pd.DataFrame({"value": list(rows.values())}, index=pd.Index(list(rows), name="item"))


def jobs_table(record: Mapping[str, Any]) -> pd.DataFrame:
    """One row per job of a run record: status, the run it comes from, seconds, commit (10 digits, ``(dirty)``) and code fingerprint."""
    jobs = pd.DataFrame(list(record["jobs"]))
    missing = [c for c in ("job", "status", "run", "seconds", "commit", "dirty", "code") if c not in jobs.columns]
    if missing:
        raise ValueError(f"run_record.json: the jobs have no {missing}: rebuild the record with `ecrs run`")
    dirty = jobs["dirty"].map(lambda d: " (dirty)" if d is True else "")
    jobs = jobs.assign(commit=jobs["commit"].fillna("").astype(str).str[:10] + dirty)
    return jobs[["job", "status", "run", "seconds", "commit", "code"]].set_index("job")


def packages_table(record: Mapping[str, Any]) -> pd.DataFrame:
    """The versions of the key packages a run used (None: not installed)."""
    return pd.Series(record["packages"], name="version", dtype=object).rename_axis("package").to_frame()


def job_records(record: Mapping[str, Any], results_root: Any) -> str:
    """Every job's provenance record as MyST blocks, each under the label its exhibits' captions link (``prov-<job>``).

    Parameters
    ----------
    record : mapping
        The run record (``run_record.json``): which jobs, in which order, and their status.
    results_root : path
        ``results/<profile>``: the provenance files (``provenance/<job>.json``) add each job's outputs.
    """
    from pathlib import Path

    records = PL.read_records(Path(results_root) / "provenance")
    return PL.record_blocks(record["jobs"], records, results_root=results_root)
