"""How chapters register claims: notebook call, chapters.yaml output, summary page inputs, TOC root."""

import json
import re
from pathlib import Path

import yaml

from ecrs_analysis.jobs.claims_chapters import CLAIMS_JOBS, MTLNET_CLAIMS_CHAPTER as MTLNET_CLAIMS
from ecrs_analysis.report.claims import REPORTED
from ecrs_analysis.pipeline.workflow import claims_inputs, load_chapters

ROOT = Path(__file__).resolve().parents[2]


def _source(name):
    cells = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def test_each_chapters_claims_come_from_one_place_and_cover_its_registry_claims():
    chapters, _ = load_chapters(ROOT / "workflow" / "chapters.yaml")
    names = {c.name for c in chapters}
    assert set(CLAIMS_JOBS) <= names
    for c in chapters:
        writes = re.search(rf'write_claims\(paths, "{c.name}"', _source(c.name)) is not None
        assert writes == (f"claims/{c.name}.csv" in c.outputs), c.name  # a notebook writing claims declares them
        assert not (writes and c.name in CLAIMS_JOBS), f"{c.name}: claims written by the notebook and by its claims job"
        assert set(c.claims) <= {f"claims/{c.name}.csv"}, c.name
    for claim in REPORTED:  # a chapter of the workflow covers every claim the registry gives it
        if claim.chapter in names:
            assert f"claims/{claim.chapter}.csv" in claims_inputs(chapters), claim.id


def test_the_landing_page_is_a_summary_reading_every_claims_file_and_the_books_first_page():
    chapters, _ = load_chapters(ROOT / "workflow" / "chapters.yaml")
    summaries = [c for c in chapters if c.summary]
    assert [c.name for c in summaries] == ["00_claims"]
    declared = [o for c in chapters for o in c.outputs if o.startswith("claims/")] + [f"claims/{c}.csv" for c in (*CLAIMS_JOBS, MTLNET_CLAIMS)]
    assert sorted(claims_inputs(chapters)) == sorted(declared) and "claims/00_claims.csv" not in declared
    assert len(claims_inputs(chapters)) >= 3
    assert yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["root"] == "book/executed/00_claims"
