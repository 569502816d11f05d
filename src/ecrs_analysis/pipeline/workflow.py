"""What the Snakefile needs to declare the stages: configuration, parameter subsets, fingerprints.

The rules in ``workflow/rules/*.smk`` call these functions so that each rule declares only
the parameters its stage uses (:data:`STAGE_PARAMS`), a fingerprint of the package code it
runs, and the same thin command line (:func:`stage_command`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ecrs_analysis.config.declared import fingerprint, parse_declared
from ecrs_analysis.pipeline.fingerprint import _source, code_fingerprint, module_closure, notebook_modules, software_versions
from ecrs_analysis.training.mtl_settings import CLASSIFICATION, MULTITASK, VARIANT_FOLDERS  # noqa: F401 (CLASSIFICATION: for the rules)
from ecrs_analysis.jobs import explain_rules as XJ
from ecrs_analysis.jobs.claims_chapters import CLAIMS_JOBS, MTLNET_CLAIMS_CHAPTER
from ecrs_analysis.paths import OMICS_COMPARISONS

__all__ = [
    "STAGE_PARAMS", "Chapter", "WorkflowConfig", "job_keys", "params_for", "params_json", "job_params", "code", "model_code", "notebook_code",
    "software", "stage_command", "training_priority", "TRAINING_PRIORITY", "manifest_inputs", "book_sources", "load_chapters", "claims_inputs", "kept_artefacts",
    "seed_spread_inputs",
]

# The one place that says which parameters each stage reads ({s} = the study). The training jobs
# (folds, train, mtlnet, integrated) also read ``training_seed``: their seed is ``config.seeds.training_seed``.
STAGE_PARAMS: dict[str, tuple[str, ...]] = {
    "cohort": ("seed", "studies.{s}.manifest", "studies.{s}.dictionary", "studies.{s}.synthetic", "studies.{s}.masks", "studies.{s}.centers"),
    "split": ("seed", "studies.{s}.split", "studies.{s}.split_file"),
    "preprocess": ("studies.{s}.preprocess", "studies.{s}.masks"),
    "folds": ("seed", "training_seed", "deep.folds"),
    "train": ("seed", "training_seed", "deep.width", "deep.folds", "deep.epochs", "deep.batch_size", "deep.lr", "deep.weight_decay", "deep.patience", "deep.validation_fraction"),
    "deep_scores": ("deep.models", "deep.folds", "deep.test_scoring"),
    "mtlnet": ("seed", "training_seed", "mtlnet"),
    "table1": (),
    "clinical": ("seed", "stats.alpha", "stats.n_resamples", "stats.threshold_rule", "stats.threshold_target"),
    "integrated": ("seed", "training_seed", "deep.models", "deep.svm_folds"),
    "integrated_evaluation": ("seed", "deep.models", "deep.svm_folds", "stats.n_resamples", "stats.threshold_rule", "stats.threshold_target"),
    "proteomics": ("seed", "omics", "stats.threshold_rule", "stats.threshold_target"),
    "claims-01_cohort": (),
    "claims-04_integrated_model": (),
    "claims-07_proteomics": ("omics.fdr",),
    "deep_evaluation": ("seed", "deep.models", "deep.width", "stats.n_resamples", "studies.{s}.preprocess.input_size"),
    # exhibits the chapters used to compute (workflow/rules/exhibits.smk)
    "clinical_exhibits": ("seed", "stats.roc_band_resamples"),
    "integrated_roc": ("seed", "deep.models", "stats.roc_band_resamples"),
    "mtlnet_roc": ("seed", "stats.roc_band_resamples"),
    "subgroups": (),
    "phantom_anatomies": ("seed",),
    "hu_tissues": (),
    "segmentation_examples": (),
    # what report.explain_chapter.load_explanation reads (the networks, the explanation settings, each study's input grid and masks)
    "explain_views": ("deep.models", "explain", "studies.li2025.preprocess", "studies.li2025.masks", "studies.mtlnet2025.preprocess", "studies.mtlnet2025.masks"),
    "mtlnet_evaluation": ("seed", "mtlnet.ablation", "mtlnet.width", "mtlnet.mask", "mtlnet.surface_tolerance_mm", "stats.n_resamples", "stats.threshold_rule",
                          "stats.threshold_target", "studies.mtlnet2025.preprocess", "studies.mtlnet2025.masks"),  # one study only: MTLNet's
}

APPENDIX_PARAMS: tuple[str, ...] = ()
"""The appendix (run record) reads no parameter: it shows the provenance files."""

# Output folders of the MTLNet jobs, from the one table that names them (no torch import).
MTLNET_JOBS = VARIANT_FOLDERS


def mtlnet_jobs(params: Mapping[str, Any]) -> list[str]:
    """The MTLNet jobs a profile runs: the multitask network, and the two ablations when asked for."""
    m = params.get("mtlnet") or {}
    return list(MTLNET_JOBS.values()) if m.get("ablation") else [MTLNET_JOBS[MULTITASK]]


def expand_inputs(params: Mapping[str, Any], inputs: Sequence[str]) -> list[str]:
    """A chapter's inputs with ``{mtlnet_job}`` expanded over the MTLNet jobs the profile runs,
    ``{cnn_fold}`` over the CNN training jobs (``<model>/fold<k>``) and ``{explain_outputs}`` over the explanation jobs' tables."""
    out: list[str] = []
    folds = [f"{m}/fold{k}" for m in params["deep"]["models"] for k in range(int(params["deep"]["folds"]))]
    for item in inputs:
        if item == "{explain_outputs}":  # every table of the explanation jobs (ecrs_analysis.jobs.explain_rules)

            out.extend(XJ.chapter_inputs(params))
        elif "{mtlnet_job}" in item:
            out.extend(item.format(mtlnet_job=j) for j in mtlnet_jobs(params))
        elif "{cnn_fold}" in item:
            out.extend(item.format(cnn_fold=f) for f in folds)
        else:
            out.append(item)
    return out


def job_keys(stage: str, study: str) -> tuple[str, ...]:
    """The dotted keys one job declares: :data:`STAGE_PARAMS` of its stage for ``study``; the explanation
    jobs' from :mod:`ecrs_analysis.jobs.explain_rules` (a job of li2025 reads ``deep``, one of MTLNet ``mtlnet``)."""

    if stage == "explain":
        return XJ.job_params(study)
    if stage == "explain_summaries":
        return XJ.summary_params(study)
    return tuple(k.format(s=study) for k in STAGE_PARAMS[stage])


def kept_artefacts(params: Mapping[str, Any]) -> list[str]:
    """Declared outputs that no job reads, kept in the results folder for the reader (relative to ``results/<profile>/``).

    The book requests them, so that every declared output is some job's declared input
    (``tests/pipeline/test_workflow_contract.py`` checks this on a smoke build) and the book is
    re-made when one of them changes. (A deleted artefact is re-made because the runner passes
    every declared output of the jobs it plans as a Snakemake target: ``pipeline.snakemake._every_output``.)
    """
    kept = ["run_record.json",  # the appendix writes it and shows it
            # MTLNet's metrics and ceilings behind its reported-vs-reproduced table
            "tables/mtlnet2025_mtlnet_headline.csv", "tables/mtlnet2025_mtlnet_ceilings.csv",
            # each patient's Dice, HD95 and surface Dice on the CT's own grid, behind chapter 05's per-set tables
            "tables/mtlnet2025_mtlnet_native_scores.csv"]
    # the proteomics of the true endotype (chapter 07 shows the predicted one, and the label's DE table),
    # and the synthetic proteomics the job generated and analysed (chapter 07 names the folder)
    kept += [f"li2025/omics/{t}_{c}.csv" for c in OMICS_COMPARISONS[1:] for t in ("ora", "gsea", "running")] + ["li2025/omics/synthetic"]
    # the ablations' networks and masks: their scores are what chapter 05 and the evaluation read
    for variant, folder in MTLNET_JOBS.items():
        if variant != MULTITASK and folder in mtlnet_jobs(params):
            kept += [f"mtlnet2025/{folder}/best.pt"] + ([f"mtlnet2025/{folder}/masks.npz"] if variant != "classification" else [])
    return kept


def params_for(params: Mapping[str, Any], stage: str, study: str) -> str:
    """The parameter fingerprint of one stage of one study (a rule's ``params.cfg``): :func:`~ecrs_analysis.config.declared.fingerprint`."""
    return fingerprint(params, job_keys(stage, study))


params_json = fingerprint
"""The parameter fingerprint of a job whose keys are listed elsewhere (a chapter's ``params`` in ``workflow/chapters.yaml``)."""


def job_params(text: str, stage: str, study: str) -> Any:
    """What a job of ``stage`` receives: the JSON its rule passed, parsed into the schema's models it declared."""
    return parse_declared(text, job_keys(stage, study))


@dataclass(frozen=True)
class Chapter:
    name: str
    params: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    summary: bool = False  # runs after the other chapters and reads every claims file they write

    @property
    def claims(self) -> tuple[str, ...]:
        """The claims file(s) among the outputs (``claims/<chapter>.csv``)."""
        return tuple(o for o in self.outputs if o.startswith("claims/"))


def load_chapters(path: str | Path) -> tuple[tuple[Chapter, ...], str]:
    """Chapters of ``workflow/chapters.yaml`` in order, and the appendix's name."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    chapters = tuple(
        Chapter(name, tuple(c.get("params", [])), tuple(c.get("inputs", [])), tuple(c.get("outputs", [])), bool(c.get("summary", False)))
        for name, c in raw["chapters"].items()
    )
    return chapters, str(raw["appendix"])


def claims_inputs(chapters: tuple[Chapter, ...]) -> list[str]:
    """Every claims file of the (non-summary) chapters, written by the chapter or by its claims job: the inputs of a summary chapter."""

    names = [c.name for c in chapters if not c.summary]
    jobs = (*CLAIMS_JOBS, MTLNET_CLAIMS_CHAPTER)  # the mtlnet_evaluation job writes chapter 05's claims
    return [o for c in chapters if not c.summary for o in c.claims] + [f"claims/{c}.csv" for c in jobs if c in names]


@dataclass(frozen=True)
class WorkflowConfig:
    """The config file ``ecrs run`` writes for the workflow (``results/<profile>/workflow_config.yaml``)."""

    profile: str
    root: Path
    results: Path
    python: str
    params: dict[str, Any]
    chapters: tuple[Chapter, ...]
    appendix: str
    threads_per_training_job: int = 1
    gpus_per_training_job: int = 0  # the `gpu` resource of a training job: 1 in the full profile (one GPU per job)
    mem_mb_per_training_job: int = 8000
    threads_per_data_job: int = 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WorkflowConfig:
        if "params" not in config:
            raise ValueError("this workflow is run by `ecrs run` (it writes the config file with the validated parameters)")
        root = Path(config["root"])
        chapters, appendix = load_chapters(root / "workflow" / "chapters.yaml")
        return cls(
            profile=str(config["profile"]),
            root=root,
            results=Path(config["results"]),
            python=str(config["python"]),
            params=dict(config["params"]),
            chapters=chapters,
            appendix=appendix,
            threads_per_training_job=int(config.get("threads_per_training_job", 1)),
            gpus_per_training_job=int(config.get("gpus_per_training_job", 0)),
            mem_mb_per_training_job=int(config.get("mem_mb_per_training_job", 8000)),
            threads_per_data_job=int(config.get("threads_per_data_job", 1)),
        )

    @property
    def chapter_names(self) -> list[str]:
        return [c.name for c in self.chapters]

    @property
    def appendix_params(self) -> tuple[str, ...]:
        return APPENDIX_PARAMS


def code(*modules: str) -> str:
    """Fingerprint of the package code a stage runs (a rule's ``params.code``)."""
    return code_fingerprint(*modules)


def _network_modules() -> list[str]:
    """The modules of the individual networks behind the model registry."""
    shared = ("ecrs_analysis.models.registry", "ecrs_analysis.models.names")
    return [m for m in module_closure(["ecrs_analysis.models.registry"]) if m.startswith("ecrs_analysis.models.") and m not in shared]


# The longest training jobs start first, so that the short ones fill the last gaps instead of one
# long fold running alone at the end (longest processing time first).  Relative CPU cost per epoch
# at the demo's sizes, from its training histories: HRNet 5.5 s, Xception 3.4 s, ResNet-18 1.8 s.
# MTLNet's rule has priority 10: it is the longest job of all.
TRAINING_PRIORITY: dict[str, int] = {"hrnet3d": 3, "xception3d": 2, "resnet3d34": 2, "resnet3d": 1, "resnet3d10": 1}


def training_priority(model: str) -> int:
    """Scheduling priority of a network's fold jobs (:data:`TRAINING_PRIORITY`; 1 for a network not listed)."""
    return TRAINING_PRIORITY.get(model, 1)


def model_code(model: str) -> str:
    """Fingerprint of one network's training job: the training code and that network's module only."""
    own = f"ecrs_analysis.models.{model}"
    extra = [own] if _source(own) is not None else []
    mine = set(module_closure(extra))  # the network's module and the model modules it imports (e.g. models.depthwise)
    return code_fingerprint("ecrs_analysis.training.folds", *extra, ignore=[m for m in _network_modules() if m not in mine])


def notebook_code(path: str | Path) -> str:
    """Fingerprint of the package modules a notebook imports.

    The networks' own modules are left out: a chapter sees a network only through the
    scores its training jobs wrote, which are inputs of the chapter already.
    """
    return code_fingerprint(*notebook_modules(path), ignore=_network_modules())


def software(*names: str) -> str:
    return json.dumps(software_versions(*names), sort_keys=True)


def stage_command(stage: str, extra: str, *, outputs: Sequence[str] = (), inputs: Sequence[str] = ()) -> str:
    """The shell command of a rule: one call of ``python -m ecrs_analysis.pipeline.stages``.

    ``outputs`` / ``inputs``: names of the rule's named outputs / inputs the stage writes /
    reads, handed over as ``--out NAME=PATH`` / ``--in NAME=PATH`` (the stage builds no path
    of its own).
    """
    named = "".join(f" --out {n}={{output.{n}:q}}" for n in outputs) + "".join(f" --in {n}={{input.{n}:q}}" for n in inputs)
    extra = extra + named
    # Snakemake runs jobs in its working directory, the results folder; stages start from the checkout
    launcher = "cd {config[root]:q} && {config[python]} -m "
    return (
        launcher + "ecrs_analysis.pipeline.stages " + stage
        + " --config {config[config_file]:q} --params {params.cfg:q} --code {params.code:q} --threads {threads}"
        + " --inputs {input:q} --outputs {output:q} --prov {output.prov:q} " + extra + " > {log:q} 2>&1"
    )


def manifest_inputs(params: Mapping[str, Any]) -> Callable[[Any], list[str]]:
    """A real cohort's manifest is an input of its cohort job (editing it re-runs the study)."""

    def inputs(wildcards: Any) -> list[str]:
        m = params["studies"][wildcards.study].get("manifest")
        return [m] if m else []

    return inputs


def seed_spread_inputs(paths: Any) -> list[str]:
    """The appendix's optional inputs: ``ecrs spread``'s table and record, and the headline tables shown beside them, when the table exists as the workflow is planned.

    A file that may be absent cannot be a plain input: Snakemake would look for a rule to make it, and
    making it means training every network k times. Listed only when present, a new, re-made or removed
    spread re-runs the appendix (Snakemake's input-set and mtime triggers), and a build without one never
    waits for it (``report.spread``).
    """
    from ecrs_analysis.pipeline.spread import headline_tables  # lazy: import cycle (pipeline.spread imports this module)

    if not paths.seed_spread.exists():
        return []
    return [str(paths.seed_spread), str(paths.seed_spread_record), *(str(p) for p in headline_tables(paths))]


def book_sources(root: str | Path = ".") -> list[str]:
    """The book's own files: configuration, table of contents, prose chapters and static files."""
    r = Path(root)
    files = [str(r / "_config.yml"), str(r / "_toc.yml")] + sorted(str(p) for p in (r / "book").glob("*.md"))
    files += sorted(str(p) for p in (r / "book" / "_static").rglob("*") if p.is_file())
    return files
