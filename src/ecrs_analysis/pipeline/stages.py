"""Entry point of every workflow job: ``python -m ecrs_analysis.pipeline.stages STAGE ...``.

A thin dispatcher (the work is in the stage modules): it parses the parameters the rule
declared into the schema's models (:func:`ecrs_analysis.pipeline.workflow.job_params`: only
those keys, so reading any other raises), runs the stage with the threads Snakemake gave it,
and writes the job's provenance file. Errors end the job with one readable message and exit code 1;
Snakemake then removes the job's outputs, so no half-written artefact is left behind.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ecrs_analysis.config.declared import parse_declared
from ecrs_analysis.config.seeds import training_seed
from ecrs_analysis.paths import OMICS_COMPARISONS, ResultPaths
from ecrs_analysis.pipeline.progress import job_logging
from ecrs_analysis.pipeline.provenance import run_id, write_provenance
from ecrs_analysis.pipeline.workflow import APPENDIX_PARAMS, job_keys, load_chapters

if TYPE_CHECKING:
    from ecrs_analysis.data.study import LoadedStudy

# Every stage imports the modules it computes with inside its own function ("lazy: this stage's
# modules"): a job is one process, a build starts ~60 of them, and importing every stage's modules
# (scikit-learn, SciPy, statsmodels, papermill, ...) cost each job 1-3 s before it did anything.
# tests/pipeline/test_stage_imports.py checks that the entry point alone loads none of them.

__all__ = ["main", "STAGES"]

# ``cfg`` of every stage: the schema's models of exactly the keys its rule declared
# (``ecrs_analysis.config.declared``); ``cfg.deep.lr`` raises AttributeError unless declared.
Cfg = Any


def _study(cfg: Cfg, study: str) -> Any:
    """The declared part of ``studies.<study>``."""
    return getattr(cfg.studies, study)


def _training_seed(cfg: Cfg) -> int:
    """The seed of a training job: ``seed`` moved by the ``training_seed`` offset (``config.seeds``; the data keep ``seed``)."""
    return training_seed(cfg.seed, cfg.training_seed)


def _cohort(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.data import study as S  # lazy: this stage's modules

    S.prepare_cohort(_study(cfg, a.study), a.study, paths, seed=cfg.seed, n_jobs=a.threads)


def _split(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.data import study as S  # lazy: this stage's modules

    S.prepare_split(_study(cfg, a.study), a.study, S.load_cohort(paths, a.study), paths, seed=cfg.seed)


def _preprocess(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.data import study as S  # lazy: this stage's modules

    S.prepare_inputs(_study(cfg, a.study), a.study, S.load_cohort(paths, a.study), paths, n_jobs=a.threads)


def _folds(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.atomic import write_csv  # lazy: this stage's modules
    from ecrs_analysis.training.fold_assignment import assign_folds  # lazy: this stage's modules (no torch)

    study = _loaded(paths, a.study)
    write_csv(assign_folds(study.table, folds=cfg.deep.folds, seed=_training_seed(cfg), train_set=study.split.train_name), paths.folds(a.study))


def _train(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    import pandas as pd
    import torch

    from ecrs_analysis.data.splits import TRAIN  # lazy: this stage's modules
    from ecrs_analysis.training.fold_assignment import fold_dir  # lazy: this stage's modules
    from ecrs_analysis.training.folds import train_fold  # lazy: loads monai, torch

    torch.set_num_threads(max(1, a.threads))
    folds = pd.read_csv(paths.folds(a.study), dtype={"patient_id": str})
    index = pd.read_csv(paths.preprocessed_index(a.study), dtype={"patient_id": str})
    train_fold(folds, index, model=a.model, fold=a.fold, spec=cfg.deep, seed=_training_seed(cfg), out_dir=fold_dir(paths.deep(a.study), a.model, a.fold), train_set=TRAIN)


def _deep_scores(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    import pandas as pd

    from ecrs_analysis.atomic import write_csv  # lazy: this stage's modules
    from ecrs_analysis.training.fold_assignment import collect_deep_scores, fold_dir  # lazy: this stage's modules (no torch)

    deep = cfg.deep
    folds = pd.read_csv(paths.folds(a.study), dtype={"patient_id": str})
    dirs = {(m, k): fold_dir(paths.deep(a.study), m, k) for m in deep.models for k in range(deep.folds)}
    scores, histories = collect_deep_scores(folds, dirs, test_scoring=deep.test_scoring)
    write_csv(scores, paths.scores(a.study, "deep"))
    write_csv(histories, paths.histories(a.study))


def _mtlnet(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    import pandas as pd
    import torch

    from ecrs_analysis.training.mtl import fit_mtlnet, job_folder, variant_of_folder  # lazy: loads monai, torch

    variant = variant_of_folder(a.model)
    torch.set_num_threads(max(1, a.threads))
    study = _loaded(paths, a.study)
    index = pd.read_csv(paths.preprocessed_index(a.study), dtype={"patient_id": str})
    fit_mtlnet(study.table, index, settings=cfg.mtlnet, seed=_training_seed(cfg), out_dir=job_folder(paths.study(a.study), variant), variant=variant,
               train_set=study.split.train_name, validation_set=study.split.validation_name)


def _loaded(paths: ResultPaths, study: str) -> LoadedStudy:
    """A study's cohort and split as its workflow jobs wrote them (never made here)."""
    from ecrs_analysis.data import study as S  # lazy: this stage's modules

    cohort = S.load_cohort(paths, study)
    return S.LoadedStudy(study, cohort, S.load_split(paths.split(study), cohort.table))


def _read_scores(path: Path | str) -> Any:
    import pandas as pd

    return pd.read_csv(path, dtype={"patient_id": str})


def _table1(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.analysis import table_one_job  # lazy: this stage's modules

    table_one_job(_loaded(paths, a.study), out=a.out)


def _clinical(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.analysis import clinical_job  # lazy: this stage's modules

    st = cfg.stats
    clinical_job(_loaded(paths, a.study), alpha=st.alpha, n_resamples=st.n_resamples, seed=cfg.seed, rule=st.threshold_rule, target=st.threshold_target, out=a.out,
                 folds=_read_scores(a.inputs_by["folds"]) if "folds" in a.inputs_by else None)


def _integrated(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.analysis import integrated_job  # lazy: this stage's modules

    study = _loaded(paths, a.study)
    integrated_job(
        _read_scores(a.inputs_by["clinical"]), _read_scores(a.inputs_by["deep"]), models=cfg.deep.models, train_set=study.split.train_name,
        seed=_training_seed(cfg), svm_folds=cfg.deep.svm_folds, truth=study.cohort.truth, out=a.out,
    )


def _integrated_evaluation(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.analysis import integrated_evaluation_job  # lazy: this stage's modules

    study, st = _loaded(paths, a.study), cfg.stats
    integrated_evaluation_job(
        _read_scores(a.inputs_by["scores"]), _read_scores(a.inputs_by["folds"]), models=cfg.deep.models, sets=study.split.names,
        train_set=study.split.train_name, seed=cfg.seed, svm_folds=cfg.deep.svm_folds, n_resamples=st.n_resamples,
        rule=st.threshold_rule, target=st.threshold_target, out=a.out,
    )


def _proteomics(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.analysis import proteomics_job  # lazy: this stage's modules

    st = cfg.stats
    proteomics_job(
        _loaded(paths, a.study), _read_scores(a.inputs_by["scores"]), settings=cfg.omics, seed=cfg.seed,
        rule=st.threshold_rule, target=st.threshold_target, out=a.out, comparisons=OMICS_COMPARISONS,
    )


def _deep_evaluation(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.deep_evaluation import deep_evaluation_job  # lazy: this stage's modules
    import pandas as pd

    deep_evaluation_job(
        _loaded(paths, a.study), _read_scores(a.inputs_by["scores"]), pd.read_csv(a.inputs_by["histories"]), models=cfg.deep.models,
        n_resamples=cfg.stats.n_resamples, seed=cfg.seed, width=cfg.deep.width, input_size=_study(cfg, a.study).preprocess.input_size, out=a.out,
    )


def _mtlnet_evaluation(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.mtlnet_evaluation import mtlnet_evaluation_job  # lazy: this stage's modules
    from ecrs_analysis.training.mtl import MULTITASK, load_job  # lazy: loads monai, torch

    import pandas as pd

    runs = {variant: load_job(Path(path).parent) for variant, path in sorted(a.inputs_by.items(), key=lambda kv: kv[0] != MULTITASK)}
    st, study = cfg.stats, _study(cfg, a.study)
    mtlnet_evaluation_job(
        _loaded(paths, a.study), runs, n_resamples=st.n_resamples, seed=cfg.seed, rule=st.threshold_rule, target=st.threshold_target,
        width=cfg.mtlnet.width, input_size=study.preprocess.input_size, index=pd.read_csv(paths.preprocessed_index(a.study), dtype={"patient_id": str}),
        preprocess=study.preprocess, mask_columns=tuple(study.masks), segmentation_target=cfg.mtlnet.mask, tolerance_mm=cfg.mtlnet.surface_tolerance_mm,
        n_jobs=a.threads, out=a.out, run=run_id(),
    )


def _clinical_exhibits(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.exhibits import clinical_exhibits_job

    clinical_exhibits_job(_loaded(paths, a.study), _read_scores(a.inputs_by["scores"]), n_resamples=cfg.stats.roc_band_resamples, seed=cfg.seed, out=a.out)


def _integrated_roc(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.exhibits import roc_job

    # chapter 04's figure: the integrated model, the clinical signature (both out-of-fold on training), the CNNs and the ceilings
    shown = ["integrated_held_out", "clinical_signature_held_out", *cfg.deep.models, "image_prob", "true_prob"]
    roc_job(_read_scores(a.inputs_by["scores"]), shown, sets=_loaded(paths, a.study).split.names, n_resamples=cfg.stats.roc_band_resamples, seed=cfg.seed, out=a.out)


def _mtlnet_roc(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    import pandas as pd

    from ecrs_analysis.jobs.exhibits import mtlnet_roc_job

    mtlnet_roc_job(_read_scores(a.inputs_by["scores"]), pd.read_csv(a.inputs_by["learning"]), sets=_loaded(paths, a.study).split.names,
                   n_resamples=cfg.stats.roc_band_resamples, seed=cfg.seed, out=a.out)


def _subgroups(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.exhibits import subgroups_job

    subgroups_job(_loaded(paths, a.study), _read_scores(a.inputs_by["scores"]), out=a.out)


def _phantom_anatomies(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.exhibits import phantom_anatomies_job

    phantom_anatomies_job(seed=cfg.seed, out=a.out)


def _hu_tissues(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.exhibits import hu_tissues_job
    from ecrs_analysis.paths import find_reference_ct

    hu_tissues_job(_loaded(paths, a.study), reference=find_reference_ct(), out=a.out)


def _segmentation_examples(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    import pandas as pd

    from ecrs_analysis.jobs.exhibits import segmentation_examples_job

    index = pd.read_csv(a.inputs_by["index"], dtype={"patient_id": str})
    segmentation_examples_job(Path(a.inputs_by["masks"]).parent, index, set_name=_loaded(paths, a.study).split.names[-1], out=a.out)


def _explain_views(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.explain_views import explain_views_job

    explain_views_job(cfg.model_dump(mode="json"), paths, studies=tuple(a.studies), out=a.out)  # the mapping chapter 06 receives


def _claims(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.analysis import chapter_claims  # lazy: this stage's modules
    from ecrs_analysis.report.claims import write_claims  # lazy: this stage's modules

    rows = chapter_claims(a.chapter, inputs=a.inputs_by, config=cfg, studies={s: _loaded(paths, s) for s in a.studies})
    write_claims(paths, a.chapter, rows, run=run_id(), profile=a.profile, path=a.out["claims"])


def _explain(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    import torch

    from ecrs_analysis.jobs.explain import explain_job  # lazy: loads monai, statsmodels, torch

    torch.set_num_threads(max(1, a.threads))
    explain_job(cfg, paths, a.study, a.model)


def _explain_summaries(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.jobs.explain_summaries import write_image_summaries  # lazy: this stage's modules (no torch: tests/pipeline/test_stage_imports.py)

    write_image_summaries(cfg, paths, a.study)


def _chapter(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.pipeline.chapters import execute_chapter  # lazy: this stage's modules

    execute_chapter(a.chapter, root=a.root, paths=paths, profile=a.profile, config=cfg.model_dump(mode="json"))  # papermill injects JSON
    claims = paths.claims(a.chapter)
    if str(claims) in a.outputs and not claims.exists():  # a chapter skipped for lack of data reproduces no claim
        from ecrs_analysis.report.claims import write_claims  # lazy: loads scikit-learn, which only this rare case needs

        write_claims(paths, a.chapter, [], run=run_id())


def _appendix(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.pipeline.chapters import build_run_record, execute_chapter  # lazy: this stage's modules

    build_run_record(paths, root=a.root, chapters=a.chapter_names)
    execute_chapter(a.chapter, root=a.root, paths=paths, profile=a.profile, config=cfg.model_dump(mode="json"))


def _book(a: argparse.Namespace, cfg: Cfg, paths: ResultPaths) -> None:
    from ecrs_analysis.report.publish import build_book  # lazy: this stage's modules

    build_book(root=a.root, paths=paths, chapters=[*a.chapter_names, a.appendix])


STAGES: dict[str, Callable[[argparse.Namespace, Cfg, ResultPaths], None]] = {
    "cohort": _cohort, "split": _split, "preprocess": _preprocess, "folds": _folds, "train": _train,
    "deep_scores": _deep_scores, "mtlnet": _mtlnet, "chapter": _chapter, "appendix": _appendix, "book": _book,
    "table1": _table1, "clinical": _clinical, "integrated": _integrated, "integrated_evaluation": _integrated_evaluation,
    "proteomics": _proteomics, "claims": _claims, "deep_evaluation": _deep_evaluation, "mtlnet_evaluation": _mtlnet_evaluation,
    "explain": _explain, "explain_summaries": _explain_summaries,
    "clinical_exhibits": _clinical_exhibits, "integrated_roc": _integrated_roc, "mtlnet_roc": _mtlnet_roc, "subgroups": _subgroups,
    "phantom_anatomies": _phantom_anatomies, "hu_tissues": _hu_tissues, "segmentation_examples": _segmentation_examples, "explain_views": _explain_views,
}


def _named(items: list[str], what: str) -> dict[str, Path]:
    """``["scores=/a/b.csv", ...]`` -> ``{"scores": Path("/a/b.csv")}`` (the rule's named inputs or outputs)."""
    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            raise SystemExit(f"--{what} {item!r}: expected NAME=PATH")
        out[name] = Path(path)
    return out


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m ecrs_analysis.pipeline.stages", description="Run one stage of the ecrs-book workflow (called by Snakemake).")
    ap.add_argument("stage", choices=sorted(STAGES))
    ap.add_argument("--config", required=True, help="the workflow config file that `ecrs run` wrote")
    ap.add_argument("--params", required=True, help="JSON: the parameters this stage declared")
    ap.add_argument("--code", required=True, help="fingerprint of the package code of this stage")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--inputs", nargs="*", default=[])
    ap.add_argument("--outputs", nargs="*", default=[])
    ap.add_argument("--prov", required=True)
    ap.add_argument("--study")
    ap.add_argument("--model")
    ap.add_argument("--fold", type=int)
    ap.add_argument("--chapter")
    ap.add_argument("--studies", nargs="*", default=[], help="studies whose cohort and split a claims job reads")
    ap.add_argument("--out", action="extend", nargs="+", default=[], metavar="NAME=PATH", help="the rule's named outputs: the files this stage writes")
    ap.add_argument("--in", dest="named_inputs", action="extend", nargs="+", default=[], metavar="NAME=PATH", help="the rule's named inputs the stage reads")
    return ap


def _declared_keys(a: argparse.Namespace, chapters: tuple[Any, ...]) -> tuple[str, ...]:
    """The dotted keys this job's rule declared: the same function the rule's ``params`` came from."""
    if a.stage == "chapter":
        return next(c.params for c in chapters if c.name == a.chapter)
    if a.stage == "appendix":
        return APPENDIX_PARAMS
    if a.stage == "book":
        return ()
    if a.stage == "claims":
        return job_keys(f"claims-{a.chapter}", "")
    return job_keys(a.stage, a.study or "")


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    a.out, a.inputs_by = _named(a.out, "out"), _named(a.named_inputs, "in")
    started = dt.datetime.now(dt.UTC)
    wf = yaml.safe_load(Path(a.config).read_text(encoding="utf-8"))
    chapters, appendix = load_chapters(Path(wf["root"]) / "workflow" / "chapters.yaml")
    a.root, a.profile, a.chapter_names, a.appendix = Path(wf["root"]), wf["profile"], [c.name for c in chapters], appendix
    paths = ResultPaths(Path(wf["results"]))
    job = Path(a.prov).stem
    job_logging()  # the training helper's epoch lines reach the job's log, which `ecrs run` relays
    print(f"[ecrs] {job}: started with {a.threads} thread(s); parameters {a.params}", flush=True)
    try:
        cfg = parse_declared(a.params, _declared_keys(a, chapters))
        STAGES[a.stage](a, cfg, paths)
    except Exception as exc:  # the job's log and Snakemake show this line; the traceback stays in the log
        import traceback

        traceback.print_exc()
        print(f"[ecrs] {job} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    outputs = [o for o in a.outputs if o != a.prov]
    write_provenance(a.prov, stage=job, params=cfg.model_dump(mode="json"), code=a.code, inputs=a.inputs, outputs=outputs, started=started, root=a.root)
    print(f"[ecrs] {job}: done", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
