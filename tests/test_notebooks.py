"""Notebooks are thin: a tagged parameters cell, no outputs, listed in ORDER, in the book's TOC."""

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean_with_a_parameters_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert not any(c.get("outputs") or c.get("execution_count") for c in code)
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    src = "".join(params[0]["source"])
    for name in ("profile", "results_dir"):
        assert f"{name} =" in src
    assert "config =" in src or "overrides =" in src  # the injected chapter config (COMMON.md), or the older overrides


def test_order_and_toc_cover_every_notebook():
    order = [l.split("#")[0].strip() for l in (ROOT / "notebooks" / "ORDER").read_text(encoding="utf-8").splitlines()]
    order = [o for o in order if o]
    assert sorted(order) == sorted(p.stem for p in NOTEBOOKS)
    assert order[-1] == "99_reproducibility"
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for name in order:
        assert f"book/executed/{name}" in toc
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert cfg["execute"]["execute_notebooks"] == "off" and cfg["only_build_toc_files"] is True


def test_no_loops_in_notebooks():
    # Loops over epochs, patients or resamples belong in the package, where tests reach them.
    for path in NOTEBOOKS:
        for c in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if c["cell_type"] == "code":
                src = "".join(c["source"])
                assert "while " not in src, f"{path.name}: move the loop into ecrs_analysis"
