"""Entry point of every workflow job: ``python -m ecrs_analysis.book.stages STAGE ...``.

A thin dispatcher (the work is in the stage modules): it reads the parameters the rule
declared (and only those), runs the stage with the threads Snakemake gave it, and writes
the job's provenance file. Errors end the job with one readable message and exit code 1;
Snakemake then removes the job's outputs, so no half-written artefact is left behind.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ecrs_analysis.book.provenance import write_provenance
from ecrs_analysis.data import study as S

__all__ = ["main", "STAGES"]


def _cohort(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    S.prepare_cohort({**cfg, "n_jobs": a.threads}, a.study, paths)


def _split(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    S.prepare_split(cfg, a.study, S.load_cohort(paths, a.study), paths)


def _preprocess(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    S.prepare_inputs({**cfg, "n_jobs": a.threads}, a.study, S.load_cohort(paths, a.study), paths)


def _folds(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    from ecrs_analysis.atomic import write_csv
    from ecrs_analysis.training.folds import assign_folds

    study = S.load_study(cfg, a.study, paths)
    write_csv(assign_folds(study.table, folds=int(cfg["deep"]["folds"]), seed=int(cfg["seed"])), paths.study(a.study) / "folds.csv")


def _train(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    import pandas as pd
    import torch

    from ecrs_analysis.training.folds import DeepSpec, fold_dir, train_fold

    from ecrs_analysis.training.distributed import init_distributed, is_distributed_launch

    torch.set_num_threads(max(1, a.threads))
    device = str(init_distributed()[2]) if is_distributed_launch() else None
    folds = pd.read_csv(paths.study(a.study) / "folds.csv", dtype={"patient_id": str})
    index = pd.read_csv(paths.preprocessed_index(a.study), dtype={"patient_id": str})
    spec = DeepSpec.from_dict({**cfg["deep"], "models": (a.model,)})
    train_fold(folds, index, model=a.model, fold=a.fold, spec=spec, seed=int(cfg["seed"]), out_dir=fold_dir(paths.deep(a.study), a.model, a.fold), device=device)


def _deep_scores(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    import pandas as pd

    from ecrs_analysis.atomic import write_csv
    from ecrs_analysis.training.folds import collect_deep_scores, fold_dir

    deep = cfg["deep"]
    folds = pd.read_csv(paths.study(a.study) / "folds.csv", dtype={"patient_id": str})
    dirs = {(m, k): fold_dir(paths.deep(a.study), m, k) for m in deep["models"] for k in range(int(deep["folds"]))}
    scores, histories = collect_deep_scores(folds, dirs, test_scoring=deep.get("test_scoring", "single"))
    write_csv(scores, paths.study(a.study) / "scores_deep.csv")
    write_csv(histories, paths.study(a.study) / "histories_deep.csv")


def _mtlnet(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    import pandas as pd
    import torch

    from ecrs_analysis.book.workflow import MTLNET_JOBS
    from ecrs_analysis.training.mtl import fit_mtlnet, job_folder

    variant = next(v for v, folder in MTLNET_JOBS.items() if folder == a.model)
    torch.set_num_threads(max(1, a.threads))
    study = S.load_study(cfg, a.study, paths)
    index = pd.read_csv(paths.preprocessed_index(a.study), dtype={"patient_id": str})
    fit_mtlnet(study.table, index, settings=cfg["mtlnet"], seed=int(cfg["seed"]), out_dir=job_folder(paths.study(a.study), variant), variant=variant)


def _explain(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    import torch

    from ecrs_analysis.explain.run import explain_network

    torch.set_num_threads(max(1, a.threads))
    explain_network(cfg, paths, a.study, a.model)


def _explain_summaries(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    from ecrs_analysis.explain.summaries import write_image_summaries

    write_image_summaries(cfg, paths, a.study)


def _chapter(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    from ecrs_analysis.book.chapters import execute_chapter
    from ecrs_analysis.book.claims import claims_path, write_claims

    execute_chapter(a.chapter, root=a.root, paths=paths, profile=a.profile, config=cfg)
    claims = claims_path(paths, a.chapter)
    if str(claims) in a.outputs and not claims.exists():  # a chapter skipped for lack of data reproduces no claim
        write_claims(paths, a.chapter, [])


def _appendix(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    from ecrs_analysis.book.chapters import build_run_record, execute_chapter

    build_run_record(paths, root=a.root, chapters=a.chapter_names)
    execute_chapter(a.chapter, root=a.root, paths=paths, profile=a.profile, config=cfg)


def _book(a: argparse.Namespace, cfg: dict[str, Any], paths: S.ResultPaths) -> None:
    from ecrs_analysis.book.publish import build_book

    build_book(root=a.root, paths=paths, chapters=[*a.chapter_names, a.appendix])


STAGES: dict[str, Callable[[argparse.Namespace, dict[str, Any], S.ResultPaths], None]] = {
    "cohort": _cohort, "split": _split, "preprocess": _preprocess, "folds": _folds, "train": _train,
    "deep_scores": _deep_scores, "mtlnet": _mtlnet, "explain": _explain, "explain_summaries": _explain_summaries, "chapter": _chapter, "appendix": _appendix, "book": _book,
}


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m ecrs_analysis.book.stages", description="Run one stage of the ecrs-book workflow (called by Snakemake).")
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
    return ap


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    started = dt.datetime.now(dt.timezone.utc)
    wf = yaml.safe_load(Path(a.config).read_text(encoding="utf-8"))
    from ecrs_analysis.book.workflow import load_chapters

    chapters, appendix = load_chapters(Path(wf["root"]) / "workflow" / "chapters.yaml")
    a.root, a.profile, a.chapter_names, a.appendix = Path(wf["root"]), wf["profile"], [c.name for c in chapters], appendix
    cfg = json.loads(a.params)
    paths = S.ResultPaths(Path(wf["results"]))
    job = Path(a.prov).stem
    print(f"[ecrs] {job}: started with {a.threads} thread(s); parameters {a.params}", flush=True)
    try:
        STAGES[a.stage](a, cfg, paths)
    except Exception as exc:  # the job's log and Snakemake show this line; the traceback stays in the log
        import traceback

        traceback.print_exc()
        print(f"[ecrs] {job} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, one process writes the provenance
        return 0
    outputs = [o for o in a.outputs if o != a.prov]
    write_provenance(a.prov, stage=job, params=cfg, code=a.code, inputs=a.inputs, outputs=outputs, started=started, root=a.root)
    print(f"[ecrs] {job}: done", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
