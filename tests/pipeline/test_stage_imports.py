"""Every workflow job starts ``python -m ecrs_analysis.pipeline.stages``: a build starts ~60 of them, so the
entry point imports only what every job needs. Each stage imports the modules it computes with: a table or
claims job pays neither for the deep-learning stack (~5 CPU-seconds per job) nor for the statistics stack
(scikit-learn, SciPy's statistics, statsmodels, limma: 1-3 s), and a job that never loaded torch does not
load it to describe its device."""

import subprocess
import sys

HEAVY = ("torch", "monai", "papermill", "matplotlib", "sklearn", "scipy.stats", "statsmodels", "pylimma", "SimpleITK")


def _loaded(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    return [m for m in out.split(",") if m]


def test_the_stage_entry_point_imports_no_stage_of_its_own():
    assert _loaded("import ecrs_analysis.pipeline.stages") == []


def test_a_job_without_torch_describes_its_device_without_loading_torch():
    code = "from ecrs_analysis.pipeline.record import device_description\nd = device_description()\nassert d['torch'] == 'not loaded by this job' and d['cuda'] is None, d"
    assert "torch" not in _loaded(code)


def test_a_job_that_used_torch_records_its_threads_and_kernels():
    code = ("import torch\ntorch.set_num_threads(1)\nfrom ecrs_analysis.pipeline.record import device_description\nd = device_description()\n"
            "assert d['torch_threads'] == 1 and d['cpu_capability'] == torch.backends.cpu.get_cpu_capability(), d")
    assert "torch" in _loaded(code)


def test_the_fold_assignment_and_score_table_jobs_load_no_torch():
    assert not {"torch", "monai"} & set(_loaded("import ecrs_analysis.training.fold_assignment"))


def test_the_statistics_and_explanation_summary_jobs_load_no_torch():
    """The evaluation jobs (clinical, integrated, deep and MTLNet evaluation, exhibits) compute with stats.evaluate and
    the explanation summaries read the preprocessing cache: neither loads torch or MONAI (stats.evaluate once did, for
    the names of the segmentation metrics: ~3.5 s in each of ~15 jobs of a smoke build)."""
    loaded = set(_loaded("import ecrs_analysis.stats.evaluate, ecrs_analysis.explain.summaries, ecrs_analysis.jobs.analysis, ecrs_analysis.jobs.exhibits"))
    assert not {"torch", "monai"} & loaded, loaded
