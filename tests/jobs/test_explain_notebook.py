"""Notebook 06 runs end to end on a tiny fake results folder (random tiny checkpoints in the pipeline's layout)."""

import json
import re
from pathlib import Path

import pytest

from ecrs_analysis.report.exhibits import downloads_dir, uncaptioned

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_explanation_notebook_runs_on_fake_results(fake_explained, tmp_path):
    import papermill as pm

    cfg, paths = fake_explained
    out = tmp_path / "06.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "06_explanation.ipynb"), str(out), parameters={"profile": "smoke", "results_dir": str(paths.root), "config": cfg}, kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    nb = json.loads(out.read_text(encoding="utf-8"))
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    pngs = sum("image/png" in o.get("data", {}) for o in outputs)
    assert pngs == 2 + 1 + 3 + 1 + 1  # two forest plots, deletion curves, one overlay per CNN, mean maps, 3D still
    assert uncaptioned(nb) == []  # every figure and table is a numbered exhibit
    assert not [o for o in outputs if "Plotly.newPlot" in "".join(o.get("data", {}).get("text/html", ""))]  # the 3D view is a download, not on the page
    pages = sorted(downloads_dir(paths.root, "06_explanation").glob("figure-*.html"))
    assert len(pages) == 1 and "Plotly.newPlot" in pages[0].read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", pages[0].read_text(encoding="utf-8"))  # self-contained: opens offline
    text = json.dumps(nb)
    assert "the explanation jobs of mtlnet2025 have not run" in text
    for heading in ("The evidence of each class", "positive control", "Faithfulness", "What simple image summaries predict"):
        assert heading in text
    assert len(out.read_bytes()) < 2_000_000
    for pid in json.loads(paths.inputs("li2025").read_text())["patient_ids"]:
        assert pid not in text  # no patient identifier on the page
    assert not (paths.root / "tables").exists()  # the notebook writes nothing
