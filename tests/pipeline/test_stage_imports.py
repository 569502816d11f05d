"""Every workflow job starts ``python -m ecrs_analysis.pipeline.stages``: the entry point must not
import the deep-learning stack, which costs ~5 CPU-seconds per job (52 jobs in the demo), when the
job is a table, a split or a claims file. The stages that need torch or MONAI import them themselves."""

import subprocess
import sys


def test_the_stage_entry_point_does_not_import_torch_or_monai():
    code = "import sys, ecrs_analysis.pipeline.stages; print(','.join(m for m in ('torch', 'monai', 'papermill', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"importing the stage entry point loaded {out}"
