"""The TRIPOD+AI checklist, answered from the run where the run knows the answer.

TRIPOD+AI (Collins et al., BMJ 2024;385:e078378) lists what a report of a prediction-model
study must say. :func:`tripod_ai_items` answers each item that applies to this book: with
facts of the run (:func:`run_facts`: sample sizes, events, centres, dates, missing
values, the chosen model, the CI methods) and a link to the section of the book that shows
it, or says why the book cannot answer it (a synthetic cohort needs no ethics approval;
patient involvement does not apply). Links are MyST roles, checked by the book build.

An answer links a section (``{ref}`label```) only where the book declares that label
(:func:`declared_labels`: the ``(label)=`` targets of the executed chapters and of ``book/*.md``);
an item whose exhibit the book does not hold says "not reported" instead (e.g. calibration
curves, until a chapter shows them under ``integrated-calibration`` / ``mtlnet-calibration``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ecrs_analysis.report.format import label
from ecrs_analysis.data import study as S
from ecrs_analysis.data.splits import TRAIN
from ecrs_analysis.stats.samplesize import ANTICIPATED_C, precision_table

__all__ = ["StudyFacts", "run_facts", "tripod_ai_items", "as_markdown", "integrated_model_path", "declared_labels", "crop_text",
           "CALIBRATION_LABELS", "BOOK_PAGES"]

BOOK_PAGES = Path(__file__).resolve().parents[3] / "book"  # the checkout's hand-written pages (intro, data format)
# Labels of the calibration exhibits (plot, slope, intercept, Brier; decision curves) of chapters 04 and 05.
CALIBRATION_LABELS = {"integrated-calibration": "integrated model", "mtlnet-calibration": "MTLNet"}
_LABEL = re.compile(r"^\(([\w-]+)\)=", flags=re.M)


def declared_labels(notebooks: Iterable[str | os.PathLike[str]], *, pages: str | os.PathLike[str] | None = BOOK_PAGES) -> set[str]:
    """The MyST labels (``(label)=`` at the start of a line) of notebooks' markdown cells and of the ``*.md`` pages in ``pages``.

    These are the targets a ``{ref}`` of the book can reach; a missing notebook is skipped.
    """
    labels: set[str] = set()
    for nb in notebooks:
        path = Path(nb)
        if not path.exists():
            continue
        for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
            if cell.get("cell_type") == "markdown":
                labels |= set(_LABEL.findall("".join(cell.get("source", ""))))
    if pages is not None and Path(pages).is_dir():
        for md in Path(pages).glob("*.md"):
            labels |= set(_LABEL.findall(md.read_text(encoding="utf-8")))
    return labels


def crop_text(preprocess: Mapping[str, Any], *, masks: Iterable[str], target: str | None = None) -> str:
    """How a study's CT is cropped, worded from ``preprocess.crop_to``: a ground-truth mask crop is named as one.

    ``masks``: the study's hand-drawn masks (``studies.<s>.masks``); ``target``: the mask a network of the
    study segments (MTLNet's ``mtlnet.mask``), whose crop then uses the answer the network is asked for.
    """
    crop = preprocess.get("crop_to")
    if crop is None:
        return "not cropped (the whole head)"
    if crop in set(masks):
        text = f"cropped to the ground-truth `{crop}` (outlined by hand in a real cohort; drawn by the generator here), with a {preprocess.get('margin_mm')} mm margin"
        if target is not None and crop == target:
            text += (": the mask the network is asked to segment, so every set, the external one included, is cropped with the answer "
                     "(an oracle crop: a deployed model would not have this mask)")
        return text
    if crop == "head_box":
        return (f"cropped to a fixed sub-box of the head's bounding box (`head_box` {preprocess.get('head_box')}, fractions chosen on training anatomy only), "
                "found from the image alone: no mask shapes the input")
    return f"cropped by `{crop}` (from the image alone)"



@dataclass(frozen=True)
class StudyFacts:
    """What the run knows about one study's cohort."""

    name: str
    synthetic: bool
    n: int
    per_set: pd.DataFrame  # index set: patients, cases
    centres: pd.Series  # patients per centre
    first_scan: str | None
    last_scan: str | None
    clinical_columns: tuple[str, ...]
    missing: pd.Series  # missing values per clinical column (columns with any)
    split_mode: str


def integrated_model_path(paths: S.ResultPaths) -> Any:
    """``li2025/integrated_model.json``: the integrated SVM's chosen settings (written by the workflow's integrated job)."""
    return paths.study("li2025") / "integrated_model.json"


def _study_facts(params: Mapping[str, Any], name: str, paths: S.ResultPaths) -> StudyFacts:
    st = S.load_study(dict(params), name, paths)
    t = st.table
    per_set = t.groupby("set", sort=False)["label"].agg(patients="size", cases="sum").reindex(list(st.split.names))
    # months only: the exact first or last scan date is a patient's scan date (an identifier)
    dates = pd.to_datetime(t["scan_date"], errors="coerce") if "scan_date" in t else pd.Series(dtype="datetime64[ns]")
    missing = t[list(st.cohort.clinical_columns)].isna().sum()
    return StudyFacts(
        name=name, synthetic=st.cohort.truth is not None, n=st.cohort.n, per_set=per_set,
        centres=t["center"].value_counts().sort_index() if "center" in t else pd.Series(dtype=int),
        first_scan=None if dates.dropna().empty else f"{dates.min():%Y-%m}", last_scan=None if dates.dropna().empty else f"{dates.max():%Y-%m}",
        clinical_columns=tuple(st.cohort.clinical_columns), missing=missing[missing > 0], split_mode=st.split.mode,
    )


NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"


def run_facts(params: Mapping[str, Any], paths: S.ResultPaths, *, own: str | None = None) -> dict[str, Any]:
    """Facts of the run for the checklist: each study's cohort, the chosen integrated model, the parameters,
    and the labels the executed chapters declare (``results/<profile>/executed/*.ipynb``, what the book shows)
    with those of the running chapter ``own`` (``notebooks/<own>.ipynb``, not executed yet)."""
    studies = {name: _study_facts(params, name, paths) for name in params["studies"] if paths.cohort_meta(name).exists()}
    model_file = integrated_model_path(paths)
    integrated = json.loads(model_file.read_text(encoding="utf-8")) if model_file.exists() else None
    labels = declared_labels([*sorted(Path(paths.executed).glob("*.ipynb")), *([NOTEBOOKS / f"{own}.ipynb"] if own else [])])
    return {"studies": studies, "integrated": integrated, "params": params, "labels": labels}


def linker(facts: Mapping[str, Any]) -> Any:
    """``ref(label)``: the MyST link to a label, checked against the labels the book declares (``facts["labels"]``).

    A label the book does not declare is an error naming it (the build would fail on the dangling link);
    without ``facts["labels"]`` (facts built by hand) links are not checked.
    """
    labels = facts.get("labels")

    def ref(label: str) -> str:
        if labels is not None and label not in labels:
            raise ValueError(f"the checklist links `{label}`, but no executed chapter or book page declares `({label})=`; "
                             f"restore the label or change the answer")
        return f"{{ref}}`{label}`"

    return ref


def calibration_answer(facts: Mapping[str, Any]) -> tuple[str, str]:
    """(answer, links) for calibration and decision curves: linked where a chapter declares a calibration label, else "not reported"."""
    labels = facts.get("labels") or set()
    shown = {label: model for label, model in CALIBRATION_LABELS.items() if label in labels}
    missing = [model for label, model in CALIBRATION_LABELS.items() if label not in labels]
    parts = []
    if shown:
        parts.append("calibration (plot, slope, intercept, Brier score) and decision curves of the " + " and ".join(shown.values()))
    if missing:
        parts.append("calibration and decision curves of the " + " and ".join(missing) + ": not reported")
    return "; ".join(parts), "; ".join(f"{{ref}}`{label}`" for label in shown)


def _sets(f: StudyFacts) -> str:
    return "; ".join(f"{label(s)} {int(r.patients)} ({int(r.cases)} eCRS)" for s, r in f.per_set.iterrows())


def _missing(f: StudyFacts) -> str:
    if f.missing.empty:
        return "none missing"
    top = ", ".join(f"{c} {int(n)}" for c, n in f.missing.sort_values(ascending=False).head(4).items())
    return f"{int(f.missing.sum())} values missing in {len(f.missing)} of {len(f.clinical_columns)} clinical columns (most: {top})"


def _precision(f: StudyFacts) -> str:
    """What the evaluation sets can measure: expected 95% CI widths (Riley et al. 2021) and the size a set would need."""
    sets = {s: (int(r.patients), int(r.cases)) for s, r in f.per_set.iterrows() if s != TRAIN}
    if not sets:
        return ""
    parts = []
    for s, r in precision_table(sets, c_statistic=ANTICIPATED_C).iterrows():
        if r.note:
            parts.append(f"{label(s)}: {r.note}")
        else:
            parts.append(f"{label(s)}: expected 95% CI width {r.auc_ci_width:.2f} for the AUC and {r.slope_ci_width:.2f} for the calibration slope "
                         f"(widths 0.1 and 0.2 need {r.n_for_auc:,} and {r.n_for_slope:,} patients at its prevalence)")
    return (f"Precision these sizes give (Riley et al., Stat Med 2021; anticipated AUC {ANTICIPATED_C:.2f}, calibration slope 1): "
            + "; ".join(parts) + ".")


def tripod_ai_items(facts: Mapping[str, Any]) -> pd.DataFrame:
    """One row per TRIPOD+AI item that applies: ``item``, ``topic``, ``answer`` (from the run where it can be) and ``where``.

    ``where`` is a MyST link (``{doc}``/``{ref}``) relative to a page in ``book/executed/``,
    or an empty string when the book cannot answer the item.
    """
    st = facts["studies"]
    p = facts["params"]
    li, mt = st.get("li2025"), st.get("mtlnet2025")
    stats = p.get("stats", {})
    deep = p.get("deep", {})
    svm = facts.get("integrated")
    rows: list[tuple[str, str, str, str]] = []
    ref = linker(facts)

    def add(item: str, topic: str, answer: str, where: str = "") -> None:
        rows.append((item, topic, answer, where))

    for f in (li, mt):
        if f is None:
            continue
        tag = "Li 2025" if f.name == "li2025" else "MTLNet"
        source = "generated by `ecrs_analysis.data.synth` from the seed" if f.synthetic else "from a hospital's manifest"
        add("5a", f"Source of data ({tag})", f"{'Synthetic' if f.synthetic else 'Real'} cohort of {f.n} patients, {source}.", "{doc}`01_cohort`")
        add("5b", f"Dates ({tag})", f"CT scans dated {f.first_scan} to {f.last_scan}." if f.first_scan else "No scan dates in the cohort.", "{doc}`01_cohort`")
        add("6a", f"Setting, centres ({tag})", "; ".join(f"{c}: {int(n)} patients" for c, n in f.centres.items()) + ".", "{doc}`01_cohort`")
        add("10", f"Sample size ({tag})", f"{_sets(f)}. No sample-size calculation chose these sizes: the design copies the study's set sizes (smaller in the smoke profile). {_precision(f)}", "{doc}`01_cohort`")
        add("11", f"Missing data ({tag})", f"{_missing(f)}.", ref("clinical-missing") if f.name == "li2025" else "{doc}`01_cohort`")
    add("6b", "Eligibility criteria", "Synthetic: every generated patient is eligible. Real cohorts: the hospital's criteria; the book validates each file ({doc}`../data_format`) but cannot check eligibility.", "{doc}`../data_format`")
    add("6c", "Treatments", "Not applicable: a diagnostic model on preoperative CT.")
    preparation = []
    for name, tag in (("li2025", "Li 2025"), ("mtlnet2025", "MTLNet")):
        sp = p.get("studies", {}).get(name)
        if sp is None:
            continue
        pp = sp.get("preprocess", {})
        target = p.get("mtlnet", {}).get("mask", "sinus_mask") if name == "mtlnet2025" else None
        preparation.append(f"{tag}: CT reoriented, resampled to {pp.get('spacing_mm')} mm, HU window {pp.get('hu_window')}, "
                           f"{crop_text(pp, masks=sp.get('masks', []), target=target)}, and resized to {pp.get('input_size')} (MONAI)")
    add("7", "Data preparation", "; ".join(preparation) + ".", ref("cohort-preprocessing"))
    add("8a", "Outcome", "eCRS by histology (tissue eosinophils). Synthetic: the label is drawn from a latent type-2 inflammation the generator knows, so the ceiling AUC is known.", ref("cohort-ceiling"))
    add("8b", "Outcome assessors", "Synthetic: no assessor; the generator draws the label. Real cohorts: the pathologists who count tissue eosinophils, not known to the book.")
    add("8c", "Blinded outcome assessment", "Synthetic: the label is generated before, and independently of, any model. Real cohorts: not known to the book.")
    add("9a", "Choice of predictors", f"CT region of interest (three 3D CNNs) and {len(li.clinical_columns) if li else 0} clinical columns, from which the clinical signature selects variables on the training set.", ref("clinical-signature"))
    add("9c", "Predictor assessors", "The lesion ROI of the first study and the sinus mask of the second are outlined by hand in the studies (a radiologist); synthetic: the generator's masks. Real cohorts: the readers' qualifications are not known to the book.", "{doc}`../data_format`")
    add("12a", "How the data were used", f"Split ({li.split_mode if li else '–'}): the model is developed on the training set only; internal and external test sets are used once, for evaluation.", "{doc}`01_cohort`")
    add("12b", "Predictor handling", "IgE and blood eosinophils enter as natural logs; missing values filled from the training set; SVM features standardised.", ref("clinical-missing"))
    svm_text = f"integrated SVM chosen by {deep.get('svm_folds')}-fold CV on the training set: {svm['best_params']} (CV AUC {svm['cv_auc']:.3f})" if svm else "integrated SVM: chapter 04 did not run"
    add("12c", "Model type, building, hyperparameter tuning", f"3D CNNs {', '.join(deep.get('models', []))}: {deep.get('folds')}-fold out-of-fold training, up to {deep.get('epochs')} epochs with early stopping on a validation share; {svm_text}.", ref("integrated-model"))
    add("12d", "Heterogeneity across centres", "The external test set comes from another centre; AUC by centre, sex and age band below.", ref("checklist-subgroups"))
    calibration, calibration_links = calibration_answer(facts)
    add("12e", "Performance measures", f"AUC with DeLong 95% CI and stratified bootstrap 95% CI ({stats.get('n_resamples')} resamples); sensitivity, specificity, accuracy at the threshold chosen on held-out scores ({stats.get('threshold_rule')}: the out-of-fold training scores of the CNNs, the clinical signature and the integrated SVM; MTLNet's validation set) with Wilson 95% CIs; paired DeLong tests; {calibration}.",
        "; ".join(x for x in (ref("integrated-performance"), calibration_links) if x))
    add("12f", "Model updating", "None: the model is fitted once and applied unchanged.")
    add("12g", "How predictions were calculated in evaluation",
        "Training patients: only the CNN scores are out-of-fold (each from the fold model that did not train on the patient); the SVM's, the clinical signature's "
        "and MTLNet's training predictions are in-sample (the model was fitted to those same patients), so their training rows are not a held-out estimate. "
        f"Test patients: the fitted SVM on their CNN scores ({'each from the one fold model the patient is assigned to' if deep.get('test_scoring', 'single') == 'single' else 'the mean of the fold models'}) "
        "and clinical signature; MTLNet's fitted network.", "{doc}`03_deep_models`")
    if li is not None:
        add("13", "Class imbalance", "eCRS share per set: " + "; ".join(f"{label(s)} {100 * r.cases / r.patients:.0f}%" for s, r in li.per_set.iterrows()) + ". The CNNs and MTLNet train with class-balanced loss weights (scikit-learn 'balanced'); no resampling, and no recalibration for it beyond the SVM's Platt scaling.", "{doc}`01_cohort`")
    add("14", "Fairness", "AUC of the integrated model by sex, centre and age band, with DeLong 95% CIs.", ref("checklist-subgroups"))
    add("15", "Model output", f"A probability of eCRS (Platt scaling) and a call at the training-set threshold ({stats.get('threshold_rule')}).", ref("integrated-threshold"))
    add("16", "Training versus evaluation data", "Baseline characteristics by set (Table 1 by set); the external set differs in centre and scanner.", ref("cohort-li2025-table1"))
    add("17", "Ethical approval", "Synthetic cohort: no patients, no ethics approval needed. Real cohorts: the data owner's approval, not known to the book.")
    add("18c", "Protocol", "No protocol was prepared: a reproduction of two published studies; the parameters of this run are its plan.", "{doc}`99_reproducibility`")
    add("18d", "Registration", "Not registered (a methods reproduction).")
    add("18e", "Data sharing", "The synthetic cohort is regenerated from the seed in the run record; a real cohort stays with its owner and no identifier enters the book.", "{doc}`99_reproducibility`")
    add("18f", "Code sharing", "This repository; the commit and every job's parameters and input hashes are in the run record.", "{doc}`99_reproducibility`")
    add("19", "Patient and public involvement", "Not applicable to a methods reproduction on synthetic data.")
    if li is not None:
        add("20a", "Flow of participants", f"Li 2025: {_sets(li)}" + (f"; MTLNet: {_sets(mt)}" if mt is not None else "") + ".", "{doc}`01_cohort`")
    add("20b", "Participants' characteristics", "Table 1 by set and by endotype, for both studies.", ref("cohort-li2025-table1"))
    if li is not None:
        train = li.per_set.iloc[0]
        add("21", "Participants and events in each analysis", f"Model development: {int(train.patients)} patients, {int(train.cases)} with eCRS; evaluation sets as in item 10.", ref("integrated-model"))
    add("22", "Model specification", "The clinical signature's coefficients; the SVM's kernel and settings (item 12c).", ref("clinical-signature"))
    add("23a", "Performance with CIs, also in subgroups", "Every claim of both studies, reported against reproduced, on the first page; the full table in chapter 04; AUC by sex, centre and age band below.",
        "{doc}`00_claims`; " + ref("integrated-performance") + "; " + ref("checklist-subgroups"))
    add("23b", "Heterogeneity across clusters (centres)", "AUC of the integrated model per centre, with DeLong 95% CIs, below.", ref("checklist-subgroups"))
    add("25–26", "Interpretation and limitations", "What a synthetic cohort can and cannot show.", ref("synthetic-limits"))
    add("27a", "Poor-quality or missing input data", "Each input file is validated before any job runs (ecrs validate): a bad value is refused with the file, row and column named; missing clinical values are filled from the training set.", "{doc}`../data_format`")
    add("27b", "User interaction and expertise", "Cannot be answered: the book reproduces methods; it is not a clinical tool.")
    add("27c", "Next steps", "Validation on real cohorts through a manifest (same code path); see the limits of a synthetic reproduction.", ref("synthetic-limits"))
    table = pd.DataFrame(rows, columns=["item", "topic", "answer", "where"])
    order = table["item"].str.extract(r"^(\d+)([a-z]?)")
    table["_n"], table["_l"] = order[0].astype(int), order[1]
    return table.sort_values(["_n", "_l"], kind="stable").drop(columns=["_n", "_l"]).reset_index(drop=True)


def as_markdown(items: pd.DataFrame, *, key: str = "item") -> str:
    """The checklist as a MyST pipe table (links stay roles, resolved by the build); ``key``: the first column (``item`` or ``section``)."""
    def cell(x: Any) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = [f"| {key} | topic | answer from this run | where in the book |", "|---|---|---|---|"]
    lines += [f"| {cell(getattr(r, key))} | {cell(r.topic)} | {cell(r.answer)} | {cell(r.where) or '–'} |" for r in items.itertuples()]
    return "\n".join(lines)
