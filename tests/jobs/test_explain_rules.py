"""The explanation's workflow jobs: one per (study, network), declared outputs the chapter reads, a dispatcher entry."""

from pathlib import Path

from ecrs_analysis.config.params import load_params
from ecrs_analysis.pipeline.stages import STAGES
from ecrs_analysis.pipeline.workflow import expand_inputs, load_chapters
from ecrs_analysis.jobs.explain_rules import SUMMARY_TABLES, TABLES, chapter_inputs, explain_jobs, job_inputs, job_params

ROOT = Path(__file__).resolve().parents[2]


def test_one_job_per_study_and_network():
    cfg = load_params("smoke")
    assert explain_jobs(cfg) == [("li2025", m) for m in cfg["deep"]["models"]] + [("mtlnet2025", "mtlnet")]
    # a CNN job declares every fold checkpoint it loads and the fold of each patient
    ins = job_inputs(cfg, "li2025", "hrnet3d")
    assert "li2025/folds.csv" in ins and all(f"li2025/deep/hrnet3d/fold{k}/best.pt" in ins for k in range(cfg["deep"]["folds"]))
    assert {"mtlnet2025/mtlnet/scores.csv", "mtlnet2025/mtlnet/best.pt"} <= set(job_inputs(cfg, "mtlnet2025", "mtlnet"))
    assert "mtlnet" in job_params("mtlnet2025") and "deep" in job_params("li2025") and "explain" in job_params("li2025")


def test_chapter_06_reads_every_table_the_jobs_write():
    cfg = load_params("smoke")
    chapters, _ = load_chapters(ROOT / "workflow" / "chapters.yaml")
    ch = next(c for c in chapters if c.name == "06_explanation")
    inputs = expand_inputs(cfg, ch.inputs)
    assert set(chapter_inputs(cfg)) <= set(inputs)
    for study, model in explain_jobs(cfg):
        assert all(f"{study}/explain/{model}/{t}" in inputs for t in TABLES)
        assert f"{study}/explain/{model}/maps" in inputs  # the maps the chapter draws
    assert all(f"li2025/explain/{t}" in inputs for t in SUMMARY_TABLES)
    assert {"explain", "explain_summaries"} <= set(STAGES)
    rule = (ROOT / "workflow" / "rules" / "explain.smk").read_text()
    assert "rule explain:" in rule and "rule explain_summaries:" in rule
    assert 'include: "rules/explain.smk"' in (ROOT / "workflow" / "Snakefile").read_text()


def test_the_explanation_notebook_only_reads():
    import json

    nb = json.loads((ROOT / "notebooks" / "06_explanation.ipynb").read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    for forbidden in ("to_csv", "write_", ".fit(", "save", "explain_network", "explain_job", "CamExplainer"):
        assert forbidden not in code, forbidden
