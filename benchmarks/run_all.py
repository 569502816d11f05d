"""Run every benchmark in this folder (each prints its own table)."""

import runpy
import sys
from pathlib import Path

for script in sorted(Path(__file__).parent.glob("bench_*.py")):
    print(f"\n== {script.name}")
    sys.argv = [str(script)]
    runpy.run_path(str(script), run_name="__main__")
