"""The workflow keeps its contract on one shared smoke build (the ``smoke_results`` fixture).

* every job wrote the outputs its rule declared, and nothing else lies in the results folder
  besides the documented side files;
* deleting a declared artefact makes the dry run plan exactly the job that makes it and the
  jobs downstream of it (the reference: the provenance files, which record each job's inputs);
* every chapter opened in JupyterLab (working folder ``notebooks/``, no papermill, no injected
  parameters) reads what the build gave it, and one runs there in a kernel to its end;
* every chapter of the build ran to its end and shows its figures;
* the built pages load plotly.js only where a plotly figure is drawn.
"""

from __future__ import annotations

import ast
import collections
import fnmatch
import json
import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

# Files a run writes besides the jobs' declared outputs, and why they are not declared.
SIDE_FILES = {
    "provenance/*": "each job's provenance (declared as its `prov` output)",
    ".ecrs-run.lock": "the lock of the run that holds the results folder (owner PID, host, start, profile)",
    ".snakemake/*": "Snakemake's own state (metadata, locks) of this results folder",
    "logs/*": "each job's log (the rule's `log`)",
    "cache/preprocessed/*": "the content-keyed volume cache behind preprocessed.csv",
    "cohorts/*": "the generated synthetic cohort that cohort.json points to",
    "downloads/*": "the exhibits' PNG and CSV downloads beside each page",
    "book/*": "the staged html (a declared directory output)",
    "*/truth.csv": "the generator's ground truth (synthetic cohorts only), beside cohort.json",
    "*/identifiers.json": "patient identifiers for the privacy check, beside cohort.json",
    "*/inputs.json": "sha256 of the study's input files, beside cohort.json",
    "li2025/deep/*/fold*/last.pt": "the last epoch's checkpoint: a killed training job resumes from it",
    "li2025/omics/synthetic/*": "the synthetic proteomics (a declared directory output)",
    "run.json": "the run's parameters, written by `ecrs run`",
    "workflow_config.yaml": "the workflow's config file, written by `ecrs run`",
    "failed/*": "a failed chapter kept for inspection",
    "spread/*": "`ecrs spread`'s runs, one results folder per training seed (pipeline.spread)",
    "tables/seed_spread.*": "`ecrs spread`'s table and record: an optional input of the appendix, made by no rule (report.spread)",
}


def _provenance(results: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (results / "provenance").glob("*.json")}


def test_every_job_wrote_its_declared_outputs_and_nothing_undeclared_lies_around(smoke_results):
    prov = _provenance(smoke_results)
    declared = {Path(o) for rec in prov.values() for o in rec["outputs"]}
    assert declared, "no provenance: the smoke build did not run"
    missing = sorted(str(p) for p in declared if not p.exists())
    assert missing == [], f"declared but not written: {missing}"
    undeclared = []
    for f in smoke_results.rglob("*"):
        if not f.is_file() or f in declared or any(d in f.parents for d in declared):
            continue
        rel = f.relative_to(smoke_results).as_posix()
        if not any(fnmatch.fnmatch(rel, pattern) for pattern in SIDE_FILES):
            undeclared.append(rel)
    assert undeclared == [], f"written by no rule's declared outputs: {undeclared}"


def test_every_declared_output_is_read_by_a_job_or_requested_by_the_book(smoke_results):
    """Snakemake re-makes a missing output only when a job's input or the target requests it: an
    output nobody reads would stay deleted (or a hidden input would be read stale)."""
    prov = _provenance(smoke_results)
    final = prov["book"]
    made = {o: job for job, rec in prov.items() if job != "book" for o in rec["outputs"]}
    read = {i for rec in prov.values() for i in rec["inputs"]}
    assert set(final["outputs"]) == {str(smoke_results / "book" / "html")}  # the final target: nothing reads the book
    unread = sorted(f"{Path(o).relative_to(smoke_results).as_posix()} ({job})" for o, job in made.items() if o not in read)
    assert unread == [], f"declared outputs no job reads and the book does not request: {unread}"


def _rule(job: str, appendix: str = "99_reproducibility") -> str:
    """The rule behind a provenance file's job name."""
    kind, _, rest = job.partition("-")
    if job == f"chapter-{appendix}":
        return "appendix"
    if kind in ("chapter", "claims"):
        return f"{kind}_{rest}"
    if kind == "train":
        return "train_fold"
    if job == "mtlnet-mtlnet_cls":
        return "mtlnet_classification"
    return kind


def _downstream(prov: dict[str, dict], artefact: Path) -> collections.Counter:
    """The job that wrote ``artefact`` and every job that reads, directly or not, what it wrote."""
    maker = next(j for j, rec in prov.items() if str(artefact) in rec["outputs"])
    jobs, frontier = {maker}, {maker}
    while frontier:
        made = {o for j in frontier for o in prov[j]["outputs"]}
        frontier = {j for j, rec in prov.items() if j not in jobs and any(i in made or any(i.startswith(m + os.sep) for m in made) for i in rec["inputs"])}
        jobs |= frontier
    return collections.Counter(_rule(j) for j in jobs)


# One artefact of each kind of job: a checkpoint, a mask file, a fitted model, a table (each dry run takes a while).
ARTEFACTS = [
    "li2025/deep/resnet3d/fold1/best.pt",
    "mtlnet2025/mtlnet/masks.npz",
    "li2025/integrated_model.json",
    "tables/mtlnet2025_table1_by_endotype.csv",
]


def _dry_run(results: Path) -> collections.Counter:
    """Jobs per rule that ``ecrs run --dry-run`` plans, in a process of its own (Snakemake's logger is
    global: a second run in the same process may not report its plan to the runner)."""
    import re
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "ecrs_analysis.cli", "run", "--profile", "smoke", "--results", str(results), "--dry-run"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("[ecrs] dry run:"))
    return collections.Counter({rule: int(n) for rule, n in re.findall(r"([\w-]+) ×(\d+)", line)})


def test_the_shared_build_is_up_to_date(smoke_results):
    assert _dry_run(smoke_results) == collections.Counter()


# Snakemake 9 re-makes a missing output on an up-to-date build only when it is a target (DAG.update_needrun
# checks target jobs; other jobs only when something downstream runs anyway): the runner passes every declared
# output of the planned jobs as a target (pipeline.snakemake._every_output), and every reader declares its inputs.
@pytest.mark.parametrize("artefact", ARTEFACTS)
def test_deleting_an_artefact_plans_exactly_its_job_and_whats_downstream(smoke_results, artefact, monkeypatch, linked_copy, tmp_path):
    monkeypatch.chdir(ROOT)
    expected = _downstream(_provenance(smoke_results), smoke_results / artefact)
    copy = linked_copy(smoke_results, tmp_path / "smoke")  # deleted there: another session reads the shared build meanwhile
    (copy / artefact).unlink()
    assert _dry_run(copy) == expected


def _injected(executed: Path) -> dict:
    """The parameters papermill injected into an executed chapter (its ``injected-parameters`` cell)."""
    nb = json.loads(executed.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "injected-parameters" in c.get("metadata", {}).get("tags", []))
    tree = ast.parse("".join(cell["source"]))
    return {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)}


def _lab_copy(smoke_results: Path, tmp_path: Path, monkeypatch, linked_copy) -> Path:
    """The shared build, linked (the ``linked_copy`` fixture) under a folder of its own that ``ECRS_RESULTS`` names:
    a chapter opened without parameters reads it (the profile built last), and one that wrote would leave the
    shared build as it was."""
    monkeypatch.setenv("ECRS_RESULTS", str(tmp_path))
    return linked_copy(smoke_results, tmp_path / "smoke")


def test_every_chapter_opened_in_jupyterlab_reads_what_the_build_gave_it(smoke_results, linked_copy, tmp_path, monkeypatch):
    """A chapter opened in JupyterLab runs with its parameters cell's defaults (no papermill). Each chapter uses
    ``profile``, ``results_dir`` and ``config`` only in its ``open_chapter`` call (checked below), so when that call
    resolves the defaults to the build's profile, results folder and parameters, every later cell runs on what
    the build's own execution of the chapter ran on. The build ran each chapter to its end; one chapter runs
    here, in a kernel, from its defaults (next test). (Executing every chapter again cost ~100 CPU-seconds of CI.)"""
    from ecrs_analysis.pipeline.workflow import load_chapters
    from ecrs_analysis.report.chapter_setup import open_chapter

    lab = _lab_copy(smoke_results, tmp_path, monkeypatch, linked_copy)
    monkeypatch.chdir(ROOT / "notebooks")  # JupyterLab's working folder: the notebook's
    chapters, appendix = load_chapters(ROOT / "workflow" / "chapters.yaml")
    for name in [c.name for c in chapters] + [appendix]:
        cells = [ast.parse("".join(c["source"])) for c in json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
                 if c["cell_type"] == "code" and "parameters" not in c.get("metadata", {}).get("tags", [])]
        used = [n for tree in cells for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in ("profile", "results_dir", "config")]
        calls = [n for tree in cells for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "open_chapter"]
        assert len(calls) == 1 and sorted(map(id, used)) == sorted(id(k.value) for k in calls[0].keywords if k.arg in ("profile", "results_dir", "config")), name
        given = _injected(smoke_results / "executed" / f"{name}.ipynb")
        ch = open_chapter(name, profile=None, results_dir=None, config=None)
        assert ch.profile == given["profile"] and ch.paths.root == lab, name
        assert _restricted(ch.config, given["config"]) == given["config"], name  # every parameter the build gave it, with the same value


def _restricted(full: dict, like: dict) -> dict:
    """``full`` cut down to the keys of ``like`` (nested)."""
    return {k: _restricted(full[k], v) if isinstance(v, dict) and isinstance(full.get(k), dict) else full.get(k) for k, v in like.items()}


def test_a_chapter_runs_in_a_jupyterlab_kernel_from_its_defaults(smoke_results, linked_copy, tmp_path, monkeypatch):
    import nbclient
    import nbformat

    _lab_copy(smoke_results, tmp_path, monkeypatch, linked_copy)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(ROOT / "notebooks" / "02_clinical.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # its figures


def test_every_chapter_of_the_build_ran_to_its_end_and_shows_its_figures(smoke_results):
    """Each executed chapter of the shared build (chapter 05 on the MTLNet jobs with their ablation, as the smoke
    profile trains them): no error output, and a figure wherever the chapter draws one."""
    from ecrs_analysis.pipeline.workflow import load_chapters

    chapters, appendix = load_chapters(ROOT / "workflow" / "chapters.yaml")
    for name in [c.name for c in chapters] + [appendix]:
        nb = json.loads((smoke_results / "executed" / f"{name}.ipynb").read_text(encoding="utf-8"))
        outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
        assert not [o for o in outputs if o["output_type"] == "error"], name
        assert "Traceback" not in json.dumps(outputs), name
        draws = any(re.search(r"\bex(hibits)?\.figure\(", "".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "code")
        assert not draws or any("image/png" in o.get("data", {}) for o in outputs), name
    assert (smoke_results / "mtlnet2025" / "mtlnet_cls" / "scores.csv").exists() and (smoke_results / "mtlnet2025" / "mtlnet_seg" / "scores.csv").exists()


def test_plotly_js_is_loaded_only_by_pages_that_draw_with_it(smoke_results):
    html = smoke_results / "book" / "html"
    # the book's pages; _downloads/ holds the interactive 3D views as self-contained pages (plotly.js inline, for offline use)
    pages = [p for p in html.rglob("*.html") if "_downloads" not in p.relative_to(html).parts]
    assert pages
    downloads = list((html / "_downloads").rglob("*.html"))
    assert all("plotly.min.js" not in p.read_text(encoding="utf-8", errors="replace") for p in downloads)  # they load nothing
    loading = {p.name for p in pages if "plotly.min.js" in p.read_text(encoding="utf-8", errors="replace")}
    drawing = {p.name for p in pages if "Plotly.newPlot" in p.read_text(encoding="utf-8", errors="replace")}
    assert loading == drawing
