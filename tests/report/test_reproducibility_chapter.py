"""The appendix's tables say what a run record holds: the run, its jobs and package versions."""

import pytest

from ecrs_analysis.report import reproducibility_chapter as R


def _record(dirty=False, cuda=None):
    jobs = [
        {"job": "cohort", "status": "re-executed", "run": "r2", "seconds": 1.5, "commit": "0123456789abcdef", "dirty": dirty, "code": "c1", "params": {}},
        {"job": "chapter-01", "status": "reused", "run": "r1", "seconds": 2.0, "commit": None, "dirty": None, "code": "c2", "params": {}},
    ]
    return {
        "profile": "smoke", "git": {"commit": "0123456789abcdef", "dirty": dirty}, "python": "3.11.7",
        "device": {"cuda": cuda, "cpu_count": 2, "platform": "Linux"}, "run": "r2", "started": "2026-12-01T13:00:00",
        "overrides": [], "jobs": jobs, "packages": {"pandas": "2.2.0", "torch": None},
    }


def test_run_table_counts_re_executed_jobs_and_flags_a_dirty_checkout():
    t = R.run_table(_record(dirty=True, cuda="H200"))["value"]
    assert t["jobs"] == "2, of which 1 re-executed in this run"
    assert t["code version (git commit)"].endswith("(with uncommitted changes)") and t["device"].startswith("H200 (2 cores")
    clean = R.run_table(_record())["value"]
    assert "uncommitted" not in clean["code version (git commit)"] and clean["device"].startswith("CPU") and clean["overrides"] == "none"


def test_jobs_table_shortens_the_commit_and_marks_dirty_jobs():
    t = R.jobs_table(_record(dirty=True))
    assert list(t.columns) == ["status", "run", "seconds", "commit", "code"] and list(t.index) == ["cohort", "chapter-01"]
    assert t.loc["cohort", "commit"] == "0123456789 (dirty)" and t.loc["chapter-01", "commit"] == ""


def test_jobs_table_of_an_old_record_is_a_clear_error():
    record = _record()
    record["jobs"] = [{k: v for k, v in j.items() if k != "code"} for j in record["jobs"]]
    with pytest.raises(ValueError, match=r"no \['code'\].*ecrs run"):
        R.jobs_table(record)


def test_packages_table_lists_every_package_missing_ones_included():
    t = R.packages_table(_record())
    assert t.loc["pandas", "version"] == "2.2.0" and t.loc["torch", "version"] is None and t.index.name == "package"


def test_run_table_names_the_cpu_and_whether_its_kernels_were_pinned():
    old = R.run_table(_record())["value"]["CPU model and kernels"]
    assert old == "not recorded; kernels not recorded"
    record = _record()
    record["device"].update(cpu_model="AMD EPYC", cpu_capability="AVX2",
                            cpu_kernels={"ECRS_CPU_KERNELS": "", "ATEN_CPU_CAPABILITY": "avx2", "DNNL_MAX_CPU_ISA": "AVX2"})
    pinned = R.run_table(record)["value"]["CPU model and kernels"]
    assert pinned == "AMD EPYC; ATen dispatch AVX2; pinned: ATEN_CPU_CAPABILITY=avx2, DNNL_MAX_CPU_ISA=AVX2"
    record["device"].update(cpu_capability="AVX512", cpu_kernels={"ECRS_CPU_KERNELS": "native"})
    assert R.run_table(record)["value"]["CPU model and kernels"].endswith("ATen dispatch AVX512; the machine's own (not pinned)")
