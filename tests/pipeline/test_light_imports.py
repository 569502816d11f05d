"""``ecrs run`` reads its parameters and parses the workflow without the imaging and deep-learning stack.

A no-op ``ecrs run --dry-run`` should take seconds: importing torch, MONAI (and through it
jsonschema's grammars), scikit-learn or nbformat while validating parameters or parsing the
Snakefile cost most of its time. The jobs import what they compute with.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("torch", "monai", "SimpleITK", "sklearn", "nbformat", "jsonschema")


def test_the_runner_the_parameters_and_the_rules_imports_need_no_heavy_package():
    code = (
        "import sys\n"
        "from ecrs_analysis.pipeline import runner, workflow\n"
        "from ecrs_analysis.config.params import load_params\n"
        "import ecrs_analysis.jobs.analysis, ecrs_analysis.jobs.mtlnet_evaluation, ecrs_analysis.jobs.explain_rules\n"
        "params = load_params('smoke')\n"
        "workflow.notebook_code('notebooks/04_integrated_model.ipynb')\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
