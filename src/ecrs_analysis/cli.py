"""``ecrs``: command-line entry points, thin wrappers over package functions.

    ecrs run --profile {smoke,demo,full} [--set key=value ...] [--target NAME ...] [--data [STUDY=]MANIFEST]
             [--dry-run] [--cores N] [--executor slurm --jobs 30]
    ecrs train --profile full --study li2025 --model resnet3d --fold 3
    ecrs spread --profile demo --seeds 3 [--set key=value ...] [--cores N]
    ecrs synth --design li2025 --out DIR [--n 200] [--seed 1] [--spacing-scale 3]
    ecrs validate MANIFEST [--study {li2025,mtlnet2025}] [--profile P] [--set key=value ...] [--dictionary YAML]
                  [--masks roi_mask sinus_mask] [--centers A B] [--anticipated-auc 0.8]
    ecrs dictionary MANIFEST > manifest.dictionary.yaml
    ecrs manifest from-dicom EXPORT_DIR --out DIR [--center NAME | --center-map YAML] [--labels CSV] [--series P=1.3] [--pseudonymise KEY]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main"]

SHOWN_PER_STUDY = 6
"""Problem lines shown per study by ``ecrs validate`` without ``--study``."""


def _run(args: argparse.Namespace) -> int:
    from ecrs_analysis.config.params import parse_set  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.pipeline.runner import RunOptions, run_book  # lazy: `ecrs --help` and each command load only what they need

    out = run_book(
        RunOptions(
            profile=args.profile,
            overrides=parse_set(args.set or []),
            targets=tuple(args.target or ()),
            data=tuple(args.data or ()),
            results_dir=Path(args.results) if args.results else None,
            build=not args.no_build,
            dry_run=args.dry_run,
            cores=args.cores,
            executor=args.executor,
            jobs=args.jobs,
            force=tuple(args.force or ()),
            cluster_profile=Path(args.cluster_profile) if args.cluster_profile else None,
        )
    )
    if args.dry_run:
        planned = out["plan"]
        print(f"[ecrs] dry run: {sum(planned.values())} job(s) would run" + (": " + ", ".join(f"{k} ×{v}" for k, v in planned.items()) if planned else " — everything is up to date"))
        return 0
    from ecrs_analysis.pipeline.progress import summary_text  # lazy: `ecrs --help` and each command load only what they need

    print(summary_text(out))  # what ran, how long each stage took, where the book is
    return 0


def _train(args: argparse.Namespace) -> int:
    """One (study, model, fold) training job by hand, e.g. on a GPU node (the workflow runs the same)."""
    from ecrs_analysis.config.params import parse_set  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.pipeline.runner import RunOptions, run_book  # lazy: `ecrs --help` and each command load only what they need

    if args.study != "li2025":
        raise SystemExit(f"ecrs: error: per-fold training jobs exist for li2025 only (got {args.study})")
    from ecrs_analysis.paths import default_results_dir

    target = f"li2025/deep/{args.model}/fold{args.fold}/scores.csv"
    results = Path(args.results) if args.results else default_results_dir(args.profile)
    run_book(RunOptions(profile=args.profile, overrides=parse_set(args.set or []), targets=(f"file:{target}",), build=False, results_dir=results))
    print(f"[ecrs] trained {args.model} fold {args.fold}: {results / target}")  # the folder the run wrote to, --results or the profile's
    return 0


def _seeds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 2:
        raise argparse.ArgumentTypeError(f"a number of training seeds of at least 2 (a spread of one seed is no spread), e.g. 3; got {text!r}")
    return value


def _spread(args: argparse.Namespace) -> int:
    """The workflow once per training seed (same cohort and split), then each headline metric's spread over the seeds."""
    from ecrs_analysis.config.params import parse_set  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.paths import ResultPaths  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.pipeline.spread import SpreadOptions, run_spread  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.report.spread import collect_seed_spread, write_seed_spread  # lazy: `ecrs --help` and each command load only what they need

    opts = SpreadOptions(profile=args.profile, seeds=args.seeds, overrides=parse_set(args.set or []), results_dir=Path(args.results) if args.results else None, cores=args.cores)
    runs = run_spread(opts)
    table = collect_seed_spread(runs.folders)
    csv, _ = write_seed_spread(ResultPaths(runs.results), table, runs.record)
    print(table.round(3).to_string(index=False))
    print(f"[ecrs] seed spread over {len(runs.folders)} training seeds on {runs.record['cpu']}: {csv} (the next `ecrs run --profile {args.profile}` shows it in the appendix)")
    return 0


def _synth(args: argparse.Namespace) -> int:
    import time

    from ecrs_analysis.data.synth.cohort import generate_cohort  # lazy: `ecrs --help` and each command load only what they need

    t0 = time.perf_counter()
    out = generate_cohort(args.out, design=args.design, seed=args.seed, n_patients=args.n, spacing_scale=args.spacing_scale, n_jobs=args.jobs)
    print(f"wrote {out}/manifest.csv in {time.perf_counter() - t0:.1f} s")
    return 0


def _segments(items: list[str] | None) -> dict[str, str]:
    """``--mask roi_mask=Segment_1`` -> {"roi_mask": "Segment_1"}."""
    out = {}
    for item in items or ():
        column, sep, name = item.partition("=")
        if not sep or column not in ("roi_mask", "sinus_mask") or not name:
            raise SystemExit(f"ecrs: error: --mask {item}: write roi_mask=SEGMENT or sinus_mask=SEGMENT (the segment's name in the Slicer, DICOM-SEG or RTSTRUCT files)")
        out[column] = name
    return out


def _validate(args: argparse.Namespace) -> int:
    """Check a manifest (and, with --study, everything that study and profile need; without, whether each study could run); writes nothing."""
    from ecrs_analysis.config.params import ParamsError, load_params, params_dir, params_model, parse_set  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.data.manifest import format_problems, validate_manifest  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.pipeline.preflight import StudyCheck, StudyCheckError, check_every_study, check_study  # lazy: `ecrs --help` and each command load only what they need

    segments = _segments(args.mask)
    try:
        params_dir()
        found_params = True
    except ParamsError:
        if args.study or args.set:
            raise
        found_params = False  # outside a checkout the table and files can still be checked; the studies' parameters cannot
    params = load_params(args.profile, parse_set(args.set or [])) if found_params else None
    if args.study:
        assert params is not None  # --study re-raised the ParamsError above
        s = params["studies"][args.study]
        if args.centers:
            s["centers"] = list(args.centers)
        if args.masks:
            s["masks"] = list(args.masks)
        check = check_study(params_model(params), args.study, manifest=args.manifest, dictionary=args.dictionary, segments=segments)
        cohort, notes = check.cohort, check.notes
        sets = ", ".join(f"{name} {len(check.split.sets[name])}" for name in check.split.names)
        what = f"ready for study {args.study} with profile {args.profile} (sets: {sets})"
        studies: list[str] = []
        ready = [args.study]
    else:
        cohort = validate_manifest(
            args.manifest, mask_columns=tuple(args.masks or ()), known_centers=tuple(args.centers) if args.centers else None, dictionary=args.dictionary,
            segments=segments,
        )
        notes = cohort.notes
        if params is None:
            print(f"{args.manifest}: {cohort.n} patients ({int(cohort.table['label'].sum())} eosinophilic), the table and its files are valid.")
            for note in (*notes, "no ecrs-book checkout here: run inside the checkout (or set ECRS_PARAMS_DIR) to learn which study a run would start for"):
                print(f"  note: {note}")
            return 0
        found = check_every_study(params_model(params), manifest=args.manifest, dictionary=args.dictionary, segments=segments)
        ready = [name for name, r in found.items() if isinstance(r, StudyCheck)]
        what = "the table and its files are valid; " + (
            f"a run with profile {args.profile} would start for {' and '.join(ready)}" if ready else f"a run with profile {args.profile} would start for no study (see below)"
        )
        if ready and len(ready) < len(found):
            notes = (f"ecrs run --data {ready[0]}={args.manifest} runs {ready[0]} only; --data {args.manifest} gives the manifest to every study, and the run would stop",) + tuple(notes)
        studies = []
        for name, r in found.items():
            if isinstance(r, StudyCheck):
                sets = ", ".join(f"{n} {len(r.split.sets[n])}" for n in r.split.names)
                studies.append(f"  {name}: a run would start (sets: {sets})")
            else:
                lines = format_problems(r.problems)
                studies.append(f"  {name}: a run would not start ({len(r.problems)} problem(s)):")
                studies += ["  " + line for line in lines[:SHOWN_PER_STUDY]]
                if len(lines) > SHOWN_PER_STUDY:
                    studies.append(f"    - ... and more: ecrs validate {args.manifest} --study {name} --profile {args.profile} lists them all")
        studies.append("  (--study NAME checks one study in full; --profile and --set change the parameters, e.g. the folds)")
    n1 = int(cohort.table["label"].sum())
    print(f"{args.manifest}: {cohort.n} patients ({n1} eosinophilic), {what}.")
    print(f"clinical columns ({len(cohort.clinical_columns)}): {', '.join(cohort.clinical_columns) or 'none'}")
    if studies:
        print(f"studies (profile {args.profile}):")
        print("\n".join(studies))
    for note in notes:
        print(f"  note: {note}")
    if args.study:
        _print_precision(check.cohort.table, check.split.sets, check.split.test_names, c_statistic=args.anticipated_auc)
    if not args.study and not ready:  # a cohort that no run would accept is not "valid": say so in the exit code too
        raise StudyCheckError({name: r for name, r in found.items() if not isinstance(r, StudyCheck)})
    return 0


def _print_precision(table: pd.DataFrame, sets: Mapping[str, Sequence[str]], names: Sequence[str], *, c_statistic: float) -> None:
    """What the evaluation sets of this cohort can measure (Riley et al. 2021), before any training."""
    from ecrs_analysis.stats.samplesize import precision_table  # lazy: `ecrs --help` and each command load only what they need

    labels = table.set_index("patient_id")["label"]
    counts = {n: (len(sets[n]), int(labels.loc[list(sets[n])].sum())) for n in names}
    t = precision_table(counts, c_statistic=c_statistic)
    print(f"precision of the evaluation sets (expected 95% CI widths for an AUC of {c_statistic:.2f} and a calibration slope of 1; Riley et al. 2021):")
    for name, r in t.iterrows():
        head = f"  {name}: {r.patients} patients ({r.cases} eosinophilic)"
        if r.note:
            print(f"{head}: {r.note}")
            continue
        print(f"{head}: AUC ± {r.auc_ci_width / 2:.2f} (width {r.auc_ci_width:.2f}), calibration slope ± {r.slope_ci_width / 2:.2f} (width {r.slope_ci_width:.2f}); "
              f"widths of 0.10 and 0.20 need {r.n_for_auc:,} and {r.n_for_slope:,} patients at this prevalence")


def _summary(args: argparse.Namespace) -> int:
    """The headline evidence of a finished run: learned?, AUC with CI, the ceiling it is compared with, Dice."""
    import pandas as pd

    from ecrs_analysis.report.summary import evidence_summary  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.paths import default_results_dir  # lazy: `ecrs --help` and each command load only what they need

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(evidence_summary(args.results or default_results_dir(args.profile)).to_string())
    return 0


def _dictionary(args: argparse.Namespace) -> int:
    """Print a starting data dictionary for a manifest (stdout only; writes nothing)."""
    from ecrs_analysis.data.dictionary import draft_dictionary  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.data.manifest import ManifestError, Problem  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.data.tables import TableReadError, read_table  # lazy: `ecrs --help` and each command load only what they need

    try:
        raw = read_table(args.manifest)
    except TableReadError as exc:
        raise ManifestError(Path(args.manifest), [Problem(str(exc).split(": ", 1)[-1], file=args.manifest)]) from None
    print(draft_dictionary(raw.header, {i: raw.cells[i].astype(str).tolist() for i in range(len(raw.header))}, manifest_name=Path(args.manifest).name), end="")
    return 0


def _auc(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.5 < value < 1:
        raise argparse.ArgumentTypeError(f"an AUC between 0.5 and 1 (exclusive), e.g. 0.8; got {text!r}")
    return value


def _from_dicom(args: argparse.Namespace) -> int:
    """A manifest, a data-dictionary stub and the series decisions from a DICOM export."""
    from ecrs_analysis.data.dicom_export import manifest_from_dicom  # lazy: `ecrs --help` and each command load only what they need

    overrides = {}
    for item in args.series or ():
        patient, sep, key = item.partition("=")
        if not sep or not patient or not key:
            raise SystemExit(f"ecrs: error: --series {item}: write PATIENT=STUDY.SERIES, e.g. --series P0017=1.3 (keys are in series_decisions.csv)")
        overrides[patient] = key
    res = manifest_from_dicom(
        args.export, out=args.out, center=args.center, center_map=args.center_map, labels=args.labels, join=args.join,
        join_column=args.join_column, label_column=args.label_column, series=overrides, pseudonymise=args.pseudonymise, segments=_segments(args.mask),
    )
    rows = [d.row() for d in res.decisions]
    widths = [max(len(str(r[k])) for r in rows) for k in ("patient_id", "series", "decision")]
    for r in rows:
        print(f"{str(r['patient_id']).ljust(widths[0])}  {str(r['series']).ljust(widths[1])}  {str(r['decision']).ljust(widths[2])}  {r['reason']}")
    for note in res.notes:
        print(f"  note: {note}")
    print(f"wrote {res.manifest}, {res.dictionary} (a stub: check every role) and {res.report}" + (f"; the pseudonym key is {res.key_file}: keep it apart" if res.key_file else ""))
    print(f"next: ecrs validate {res.manifest}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ecrs_analysis.config.params import PROFILES  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.data.synth.designs import DESIGNS  # lazy: `ecrs --help` and each command load only what they need

    p = argparse.ArgumentParser(prog="ecrs", description="Reproducible eCRS analysis book.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="execute the notebooks with papermill and build the book")
    r.add_argument("--profile", default="demo", choices=PROFILES)
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter (dotted key), repeatable")
    r.add_argument("--target", action="append", metavar="NAME", help="run only what this chapter (e.g. 04_integrated_model) or stage (deep_scores, cohorts) needs; publishes no book")
    r.add_argument("--data", action="append", metavar="[STUDY=]MANIFEST", help="a real cohort's manifest (for every study, or STUDY=PATH)")
    r.add_argument("--results", metavar="DIR", help="results folder (default results/<profile>)")
    r.add_argument("--no-build", action="store_true", help="run the workflow but do not publish the book to _build/")
    r.add_argument("--dry-run", "-n", action="store_true", help="show which jobs would run, run nothing")
    r.add_argument("--cores", type=int, help="local cores to use (default: all; on a cluster only for the jobs run locally)")
    r.add_argument("--executor", default="local", help="Snakemake executor: local (default) or a plugin such as slurm")
    r.add_argument("--jobs", type=int, help="jobs submitted at once with a cluster executor")
    r.add_argument("--force", action="append", metavar="RULE", help="re-run every job of this rule (e.g. train_fold)")
    r.add_argument("--cluster-profile", metavar="YAML", help="a cluster's executor, jobs, resources (default and per rule), threads and plugin settings (e.g. workflow/profiles/slurm.yaml)")
    r.set_defaults(func=_run)
    t = sub.add_parser("train", help="run one (study, model, fold) training job and what it needs")
    t.add_argument("--profile", default="demo", choices=PROFILES)
    t.add_argument("--study", default="li2025")
    t.add_argument("--model", required=True)
    t.add_argument("--fold", type=int, required=True)
    t.add_argument("--set", action="append", metavar="KEY=VALUE")
    t.add_argument("--results", metavar="DIR")
    t.set_defaults(func=_train)
    sp = sub.add_parser("spread", help="train every network under k training seeds on the same cohort and split; write each headline metric's spread (tables/seed_spread.csv)")
    sp.add_argument("--profile", default="demo", choices=PROFILES)
    sp.add_argument("--seeds", type=_seeds, default=3, metavar="K", help="training seeds 0 ... K-1 (training_seed; default 3; K >= 2)")
    sp.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter (not training_seed: the spread sets it), repeatable")
    sp.add_argument("--results", metavar="DIR", help="the profile's results folder (default results/<profile>); the runs go to DIR/spread/seed-<k>/")
    sp.add_argument("--cores", type=int, help="local cores to use (default: all)")
    sp.set_defaults(func=_spread)
    s = sub.add_parser("synth", help="write a synthetic cohort (manifest + images) to a folder")
    s.add_argument("--design", required=True, choices=tuple(DESIGNS))
    s.add_argument("--out", required=True)
    s.add_argument("--n", type=int, default=None, help="patients (default: the design's)")
    s.add_argument("--seed", type=int, default=20250317)
    s.add_argument("--spacing-scale", type=float, default=1.0)
    s.add_argument("--jobs", type=int, default=None)
    s.set_defaults(func=_synth)
    v = sub.add_parser("validate", help="check a manifest and every file it names (writes nothing)")
    v.add_argument("manifest")
    v.add_argument("--study", choices=("li2025", "mtlnet2025"), help="check everything this study needs with the profile's parameters (default: say for every study whether a run would start)")
    v.add_argument("--profile", default="demo", choices=("smoke", "demo", "full"), help="parameters of the studies (default demo)")
    v.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter, repeatable")
    v.add_argument("--dictionary", metavar="YAML", help="data dictionary (default: <manifest stem>.dictionary.yaml beside the manifest)")
    v.add_argument("--masks", nargs="*", help="mask columns required of the table (default: each study's own)")
    v.add_argument("--mask", action="append", metavar="COLUMN=SEGMENT", help="the segment of Slicer/DICOM-SEG/RTSTRUCT mask files to use, e.g. roi_mask=Segment_1 (write it as segment: in the data dictionary for ecrs run)")
    v.add_argument("--centers", nargs="*", help="allowed centres (default any; with --study: the study's)")
    v.add_argument("--anticipated-auc", type=_auc, default=0.8, metavar="C", help="with --study: the AUC expected on the evaluation sets, for their precision (default 0.8)")
    v.set_defaults(func=_validate)
    m = sub.add_parser("manifest", help="make a manifest (from-dicom: from a PACS/CD export of DICOM files)")
    msub = m.add_subparsers(dest="manifest_command", required=True)
    fd = msub.add_parser("from-dicom", help="choose each patient's sinus CT series in a DICOM export and write manifest.csv")
    fd.add_argument("export", help="the export folder (any nesting; a DICOMDIR is not needed)")
    fd.add_argument("--out", required=True, help="output folder: manifest.csv, manifest.dictionary.yaml, series_decisions.csv")
    fd.add_argument("--center", help="the centre of every patient in this export")
    fd.add_argument("--center-map", metavar="YAML", help="InstitutionName -> centre, one 'Institution: centre' per line")
    fd.add_argument("--labels", metavar="CSV_OR_XLSX", help="label and clinical columns, one row per patient (or accession number)")
    fd.add_argument("--join", choices=("patient_id", "accession"), default="patient_id", help="what the label sheet's key column holds (default patient_id)")
    fd.add_argument("--join-column", metavar="NAME", help="the label sheet's key column (default: found by name, e.g. patient_id, MRN, accession)")
    fd.add_argument("--label-column", metavar="NAME", help="the label sheet's label column, written as 'label' (default: a column named label)")
    fd.add_argument("--series", action="append", metavar="PATIENT=STUDY.SERIES", help="choose this series for this patient (keys in series_decisions.csv), repeatable")
    fd.add_argument("--mask", action="append", metavar="COLUMN=SEGMENT", help="the segment of the label sheet's Slicer/DICOM-SEG/RTSTRUCT mask files, e.g. roi_mask=Segment_1 (written into the dictionary stub)")
    fd.add_argument("--pseudonymise", metavar="KEYFILE", help="write pseudonyms (R0001 ...) instead of patient ids; the key file (outside --out) is created or extended")
    fd.set_defaults(func=_from_dicom)
    d = sub.add_parser("dictionary", help="print a starting data dictionary for a manifest (to edit and save beside it)")
    d.add_argument("manifest")
    d.set_defaults(func=_dictionary)
    sm = sub.add_parser("summary", help="print the evidence of a finished run: did each model learn, its AUC beside the ceiling it could reach, Dice")
    sm.add_argument("--profile", default="demo", choices=("smoke", "demo", "full"))
    sm.add_argument("--results", help="results folder (default results/<profile>)")
    sm.set_defaults(func=_summary)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ecrs`` command; errors print one clear message and exit 2."""
    from ecrs_analysis.checkout import CheckoutError  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.config.params import ParamsError  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.data.manifest import ManifestError  # lazy: `ecrs --help` and each command load only what they need
    from ecrs_analysis.data.splits import SplitError  # lazy: `ecrs --help` and each command load only what they need

    args = build_parser().parse_args(argv)
    from ecrs_analysis.data.dicom_export import DicomExportError  # lazy: `ecrs --help` and each command load only what they need

    expected: tuple[type[Exception], ...] = (CheckoutError, ManifestError, ParamsError, SplitError, DicomExportError)
    if args.command == "summary":
        expected += (FileNotFoundError,)
    if args.command in ("run", "train", "spread"):  # the runner pulls in Snakemake, which `validate` does not need
        from ecrs_analysis.pipeline.runner import RunError  # lazy: `ecrs --help` and each command load only what they need

        expected += (RunError,)
    if args.command == "spread":  # --set training_seed=..., a run without a headline table
        expected += (ValueError, FileNotFoundError)
    try:
        return int(args.func(args))
    except expected as exc:
        print(f"ecrs: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # validate promises a message, never a traceback (ECRS_DEBUG=1 shows it)
        if args.command != "validate" or os.environ.get("ECRS_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"ecrs: unexpected error while validating ({type(exc).__name__}: {first}); nothing was written. "
              "Please report it with the command you ran (ECRS_DEBUG=1 shows the details).", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
