"""Every number the two studies' abstracts state, and what this run reproduced for each.

The registry :data:`REPORTED` holds one :class:`Claim` per number (or finding) of the two
abstracts, with the sentence it comes from and the chapter that reproduces it. A chapter
writes its reproduced values with :func:`write_claims` into
``results/<profile>/claims/<chapter>.csv`` (declared among its ``outputs`` in
``workflow/chapters.yaml``); the landing page reads every such file with
:func:`collect_claims` and lays reported beside reproduced (:func:`claims_table`). A claim
whose chapter did not run shows as *not run*, never as a blank.

Reported values are only ever displayed: nothing in the analysis reads them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ecrs_analysis.stats.learning import LearningCheck

from ecrs_analysis.atomic import write_csv
from ecrs_analysis.report.paper import LI2025_PROTEOMICS, LI2025_REPORTED, MTLNET_REPORTED
from ecrs_analysis.pipeline.provenance import run_id

__all__ = [
    "Claim", "REPORTED", "CLAIM_COLUMNS", "ClaimError", "claims_path", "write_claims", "collect_claims",
    "claims_table", "verdict", "auc_claims", "operating_claims", "STUDY_TITLES", "MARKS", "claims_markdown",
    "verdict_counts", "sources_table", "cohort_claims", "integrated_claims", "proteomics_claims", "metric_claims",
]

Kind = Literal["estimate", "count", "finding"]

STUDY_TITLES = {"li2025": "Li et al. 2025 (integrated model)", "mtlnet2025": "MTLNet"}
_SHORT = {"li2025": "Li 2025", "mtlnet2025": "MTLNet"}

LI = "Li et al., Int Forum Allergy Rhinol 2025 (doi:10.1002/alr.23595), abstract"
MTL = "MTLNet study (PubMed 42270301), abstract"


@dataclass(frozen=True)
class Claim:
    """One number (or finding) an abstract states.

    Attributes
    ----------
    id : str
        ``<study>.<quantity>[.<set>]``, the key chapters write their values under.
    quantity : str
        What is measured, as a reader says it ("AUC of the integrated model").
    set : str
        The set of the split it refers to (set names as in the split), or ``"all"``.
    kind : {"estimate", "count", "finding"}
        An estimate is compared with the reproduced 95% CI; a count must match exactly;
        a finding is reproduced or not.
    reported : float or str or None
        The stated value; None when the abstract does not state it.
    reported_ci : tuple of float, optional
        The stated 95% CI.
    chapter : str
        The chapter (notebook name) that reproduces it.
    source : str
        Where the abstract says it (study and sentence, paraphrased).
    """

    id: str
    study: str
    quantity: str
    set: str
    kind: Kind
    reported: float | str | None
    chapter: str
    source: str
    reported_ci: tuple[float, float] | None = None


def _li_auc(s: str, where: str) -> Claim:
    r = LI2025_REPORTED[s]
    return Claim(f"li2025.auc.{s}", "li2025", "AUC, integrated model", s, "estimate", r["AUC"], "04_integrated_model",
                 f"{LI}, Results: AUC of the integrated model {r['AUC']} (95% CI {r['CI low']}–{r['CI high']}) in the {where} test set",
                 (r["CI low"], r["CI high"]))


def _li_unstated(metric: str, s: str) -> Claim:
    return Claim(f"li2025.{metric}.{s}", "li2025", f"{metric}, integrated model", s, "estimate", None, "04_integrated_model",
                 f"{LI}, Methods: {metric} was used to evaluate the model; the abstract states no value")


_MTL_SET = {"train": "training", "validation": "validation", "external": "temporal external test"}


def _mtl(metric: str, s: str, quantity: str) -> Claim:
    value = MTLNET_REPORTED[s][metric]
    shown = f"{value:.1%}" if metric in ("sensitivity", "specificity") else f"{value}"
    return Claim(f"mtlnet2025.{metric.lower()}.{s}", "mtlnet2025", quantity, s, "estimate", value, "05_mtlnet",
                 f"{MTL}, Results: {quantity} {shown} in the {_MTL_SET[s]} set")


REPORTED: tuple[Claim, ...] = (
    Claim("li2025.patients", "li2025", "patients", "all", "count", 1098, "01_cohort", f"{LI}, Methods: 1098 patients with sinus CT were included"),
    Claim("li2025.hospitals", "li2025", "hospitals", "all", "count", 2, "01_cohort", f"{LI}, Methods: patients came from two hospitals"),
    _li_auc("internal_test", "internal"),
    _li_auc("external_test", "external"),
    *(_li_unstated(m, s) for m in ("sensitivity", "specificity", "accuracy") for s in ("internal_test", "external_test")),
    Claim("li2025.proteomics.patients", "li2025", "patients with proteomics", "all", "count", LI2025_PROTEOMICS["patients"], "07_proteomics",
          f"{LI}, Methods: proteomic analysis was performed on {LI2025_PROTEOMICS['patients']} patients"),
    Claim("li2025.proteomics.dysregulated", "li2025", "dysregulated genes (predicted eCRS vs non-eCRS)", "all", "count", LI2025_PROTEOMICS["dysregulated"],
          "07_proteomics", f"{LI}, Results: proteomics found {LI2025_PROTEOMICS['dysregulated']} dysregulated genes"),
    Claim("li2025.proteomics.chemokine", "li2025", "chemokine signalling among the enriched pathways", "all", "finding", "enriched", "07_proteomics",
          f"{LI}, Results: {LI2025_PROTEOMICS['pathway_claim']}"),
    Claim("mtlnet2025.patients", "mtlnet2025", "patients", "all", "count", 257, "01_cohort", f"{MTL}, Results: 257 CRSwNP patients were included"),
    *(Claim(f"mtlnet2025.patients.{s}", "mtlnet2025", "patients", s, "count", n, "01_cohort", f"{MTL}, Results: {n} patients in the {_MTL_SET[s]} set")
      for s, n in (("train", 172), ("validation", 41), ("external", 44))),
    *(_mtl("Dice", s, "Dice of the sinus segmentation") for s in ("train", "validation", "external")),
    *(_mtl("AUC", s, "AUC of the endotype classification") for s in ("train", "validation", "external")),
    _mtl("sensitivity", "external", "sensitivity"),
    _mtl("specificity", "external", "specificity"),
)

_BY_ID = {c.id: c for c in REPORTED}

# Columns of results/<profile>/claims/<chapter>.csv, in order.
# by_design: 1 when the value is a parameter of the synthetic cohort (its size, set sizes, centres), not a result.
# learned: False for a claim about a model that did not learn (its value is withheld).
CLAIM_COLUMNS = ("claim", "set", "value", "ci_low", "ci_high", "ceiling", "n", "by_design", "learned", "note", "chapter", "profile", "run")


class ClaimError(ValueError):
    """A chapter wrote a claim the registry does not know, or wrote one twice."""


def claims_path(results: Any, chapter: str) -> Path:
    """``results/<profile>/claims/<chapter>.csv``."""
    return _root(results) / "claims" / f"{chapter}.csv"


def _float(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _root(results: Any) -> Path:
    """The results folder of a ``ResultPaths`` or of a path."""
    return Path(results) if isinstance(results, (str, os.PathLike)) else Path(results.root)


def write_claims(results: Any, chapter: str, rows: Iterable[Mapping[str, Any]], *, profile: str | None = None, path: str | os.PathLike[str] | None = None) -> None:
    """Write the reproduced value of each claim a chapter covers.

    Parameters
    ----------
    results : ResultPaths or path
        The run's results (``paths`` of the notebook, or its root folder).
    chapter : str
        The notebook's name, e.g. ``"04_integrated_model"``; every claim written must be one
        the registry assigns to this chapter.
    rows : iterable of mappings
        One per claim: ``claim`` (an id of :data:`REPORTED`), ``value`` and optionally
        ``ci_low``, ``ci_high`` (95% CI), ``ceiling`` (the synthetic cohort's best possible
        value), ``n`` (patients), ``by_design`` (true when the value is a parameter of the
        synthetic cohort, so it matches the paper by construction), ``learned`` (False for a
        model that failed :func:`ecrs_analysis.stats.learning.learning_check`: its value is
        then not written, only the reason, which ``note`` must give) and ``note`` (one short
        sentence). May be empty: a chapter that could compute nothing still writes its (empty) file.
    profile : str, optional
        The parameter profile of the run; default: the profile ``run.json`` of the results
        folder names, else the folder's name.

    The file (:func:`claims_path`) has the columns :data:`CLAIM_COLUMNS`; ``run`` is the
    ``ecrs run`` id. Nothing is returned, so the call shows nothing in the book.

    Raises
    ------
    ClaimError
        For an unknown claim id, a claim of another chapter, a claim written twice or a
        value that is not a number.
    """
    root = _root(results)
    if profile is None:
        info = root / "run.json"
        profile = str(json.loads(info.read_text(encoding="utf-8")).get("profile")) if info.exists() else root.name
    out, seen = [], set()
    for i, row in enumerate(rows):
        cid = row.get("claim")
        if cid not in _BY_ID:
            raise ClaimError(f"{chapter}: row {i} names claim {cid!r}, which is not in ecrs_analysis.report.claims.REPORTED; known: {sorted(_BY_ID)}")
        claim = _BY_ID[cid]
        if claim.chapter != chapter:
            raise ClaimError(f"{chapter}: claim {cid!r} belongs to chapter {claim.chapter!r} in the registry (ecrs_analysis.report.claims.REPORTED)")
        if cid in seen:
            raise ClaimError(f"{chapter}: claim {cid!r} written twice")
        seen.add(cid)
        unknown = set(row) - {"claim", "value", "ci_low", "ci_high", "ceiling", "n", "by_design", "learned", "note"}
        if unknown:
            raise ClaimError(f"{chapter}: claim {cid!r} has unknown field(s) {sorted(unknown)}")
        try:
            value = _float(row.get("value"))
            lo, hi, ceiling = (_float(row.get(k)) for k in ("ci_low", "ci_high", "ceiling"))
        except (TypeError, ValueError):
            raise ClaimError(f"{chapter}: claim {cid!r}: value, ci_low, ci_high and ceiling must be numbers, got {dict(row)}") from None
        if not (math.isnan(lo) or math.isnan(hi)) and not lo <= hi:
            raise ClaimError(f"{chapter}: claim {cid!r}: ci_low {lo} is above ci_high {hi}")
        n = row.get("n")
        learned = bool(row.get("learned", True))
        if not learned:  # a statistic of a model that learned nothing is never published
            if not row.get("note"):
                raise ClaimError(f"{chapter}: claim {cid!r} is of a model that did not learn: its note must say why")
            value, lo, hi = math.nan, math.nan, math.nan
        out.append({"claim": cid, "set": claim.set, "value": value, "ci_low": lo, "ci_high": hi, "ceiling": ceiling,
                    "n": None if n is None or pd.isna(n) else int(n), "by_design": int(bool(row.get("by_design", False))),
                    "learned": learned, "note": str(row.get("note") or ""), "chapter": chapter, "profile": profile, "run": run_id()})
    table = pd.DataFrame(out, columns=list(CLAIM_COLUMNS)).astype({"n": "Int64"})
    write_csv(table, path if path is not None else claims_path(root, chapter))


def collect_claims(results: Any) -> pd.DataFrame:
    """Every claims file of a run, one row per claim written (columns :data:`CLAIM_COLUMNS`).

    Raises
    ------
    ClaimError
        When two chapters wrote the same claim.
    """
    folder = _root(results) / "claims"
    files = sorted(folder.glob("*.csv"))
    parts = [pd.read_csv(f, dtype={"claim": str, "note": str, "chapter": str, "run": str, "profile": str, "set": str}, keep_default_na=True) for f in files]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(CLAIM_COLUMNS))
    table.attrs["chapters"] = [f.stem for f in files]  # chapters that wrote a file, even an empty one
    twice = table["claim"][table["claim"].duplicated()].tolist()
    if twice:
        raise ClaimError(f"claim(s) {twice} written by more than one chapter under {folder}")
    return table


Verdict = Literal["inside", "outside", "equal", "differs", "by design", "reproduced", "not reproduced", "no reported value", "no CI", "did not learn", "not run"]

# Marks that do not rely on colour (the landing table shows symbol and words).
MARKS: dict[str, str] = {
    "inside": "✓ inside our CI", "outside": "✗ outside our CI", "equal": "= same", "differs": "≠ differs", "by design": "◇ set by design",
    "reproduced": "✓ reproduced", "not reproduced": "✗ not reproduced", "no reported value": "– not stated",
    "no CI": "○ no CI", "did not learn": "⊘ did not learn — no value reported", "not run": "… not run",
}


def verdict(claim: Claim, row: Mapping[str, Any] | None) -> Verdict:
    """How the reproduced value of ``claim`` stands against the reported one.

    Estimates: does the reported value fall inside our 95% CI (bounds included)?
    Counts: are they equal? A count the synthetic cohort takes as a parameter (``by_design``)
    is "set by design", never "= same": only a real cohort's count is compared.
    Findings: is ``value`` 1 (reproduced) or 0?  A claim about a model that did not learn
    (``learned`` False) has no value to compare.
    """
    if row is not None and str(row.get("learned", True)).strip().lower() in ("false", "0", "0.0"):
        return "did not learn"
    if row is None or pd.isna(row.get("value")):
        return "not run"
    if claim.reported is None:
        return "no reported value"
    value = float(row["value"])
    if claim.kind == "count":
        by_design = row.get("by_design")
        if by_design is not None and not pd.isna(by_design) and bool(by_design):
            return "by design"
        return "equal" if value == float(claim.reported) else "differs"
    if claim.kind == "finding":
        return "reproduced" if value >= 0.5 else "not reproduced"
    lo, hi = row.get("ci_low"), row.get("ci_high")
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return "no CI"
    return "inside" if float(lo) <= float(claim.reported) <= float(hi) else "outside"


def claims_table(reproduced: pd.DataFrame, *, chapters_run: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per claim of :data:`REPORTED`: reported beside reproduced, with the verdict.

    Parameters
    ----------
    reproduced : DataFrame
        :func:`collect_claims`.
    chapters_run : sequence of str, optional
        Chapters that are part of this run (default: those that wrote a claims file,
        ``reproduced.attrs["chapters"]``); a claim missing from a chapter that ran is
        "not computed" (e.g. a real cohort without an external set), one whose chapter is
        not in the run is "not run".

    Returns
    -------
    DataFrame with columns ``claim, study, quantity, set, kind, reported, reported_ci_low,
    reported_ci_high, value, ci_low, ci_high, ceiling, n, verdict, mark, note, chapter,
    chapter_ran, source`` (raw numbers; :mod:`ecrs_analysis.report.format` formats them).
    """
    by_id = {r["claim"]: r for r in reproduced.to_dict(orient="records")}
    if chapters_run is None:
        chapters_run = reproduced.attrs.get("chapters", [])
    rows = []
    for c in REPORTED:
        r = by_id.get(c.id)
        v = verdict(c, r)
        ran = c.chapter in chapters_run or (r is not None)
        note = (r or {}).get("note")
        if r is None:
            note = "not computed in this run" if ran else f"chapter {c.chapter} is not part of this run"
        rows.append({
            "claim": c.id, "study": c.study, "quantity": c.quantity, "set": c.set, "kind": c.kind,
            "reported": c.reported, "reported_ci_low": c.reported_ci[0] if c.reported_ci else math.nan,
            "reported_ci_high": c.reported_ci[1] if c.reported_ci else math.nan,
            "value": (r or {}).get("value", math.nan), "ci_low": (r or {}).get("ci_low", math.nan), "ci_high": (r or {}).get("ci_high", math.nan),
            "ceiling": (r or {}).get("ceiling", math.nan), "n": (r or {}).get("n"), "verdict": v, "mark": MARKS[v],
            "note": "" if note is None or (isinstance(note, float) and math.isnan(note)) else str(note),
            "chapter": c.chapter, "chapter_ran": ran, "source": c.source,
        })
    return pd.DataFrame(rows)


def auc_claims(aucs: pd.DataFrame, *, model: str, claims: Mapping[str, str], ceiling_model: str | None = None) -> list[dict[str, Any]]:
    """Claim rows from an :func:`ecrs_analysis.stats.evaluate.auc_table` (DeLong 95% CI).

    Parameters
    ----------
    aucs : DataFrame
        Indexed by (set, model) with ``n``, ``AUC``, ``DeLong low``, ``DeLong high``.
    model : str
        The model whose AUC the claims are about.
    claims : mapping of str to str
        Set name -> claim id (sets missing from ``aucs`` are skipped).
    ceiling_model : str, optional
        A model row (``true_prob``) whose AUC is the ceiling on each set.
    """
    rows = []
    for s, cid in claims.items():
        if (s, model) not in aucs.index:
            continue
        r = aucs.loc[(s, model)]
        ceiling = aucs.loc[(s, ceiling_model), "AUC"] if ceiling_model and (s, ceiling_model) in aucs.index else None
        rows.append({"claim": cid, "value": r["AUC"], "ci_low": r["DeLong low"], "ci_high": r["DeLong high"], "ceiling": ceiling, "n": r["n"], "note": "DeLong 95% CI"})
    return rows


def operating_claims(ops: pd.DataFrame, *, model: str, claims: Mapping[tuple[str, str], str]) -> list[dict[str, Any]]:
    """Claim rows from an :func:`ecrs_analysis.stats.evaluate.operating_table` (Wilson 95% CIs).

    ``claims`` maps (metric, set), e.g. ``("sensitivity", "external_test")``, to a claim id;
    pairs missing from ``ops`` are skipped.
    """
    rows = []
    for (metric, s), cid in claims.items():
        if (model, s) not in ops.index:
            continue
        r = ops.loc[(model, s)]
        rows.append({"claim": cid, "value": r[metric], "ci_low": r[f"{metric} low"], "ci_high": r[f"{metric} high"],
                     "n": int(r["TP"] + r["FP"] + r["TN"] + r["FN"]), "note": f"at the threshold chosen on the training set ({r['rule']}); Wilson 95% CI"})
    return rows


def _reported_text(c: Mapping[str, Any]) -> str:
    from ecrs_analysis.report.format import fmt_count

    r = c["reported"]
    if r is None or (isinstance(r, float) and math.isnan(r)):
        return "not stated"
    if c["kind"] == "count":
        return fmt_count(r)
    if c["kind"] == "finding":
        return str(r)
    text = f"{float(r):g}"
    return f"{text} ({c['reported_ci_low']:g}–{c['reported_ci_high']:g})" if not math.isnan(c["reported_ci_low"]) else text


def _reproduced_text(c: Mapping[str, Any]) -> str:
    from ecrs_analysis.report.format import fmt_ci, fmt_count

    if c.get("verdict") == "did not learn":
        return "did not learn"
    if pd.isna(c["value"]):
        return "not run"
    if c["kind"] == "count":
        return fmt_count(c["value"])
    if c["kind"] == "finding":
        return "yes" if float(c["value"]) >= 0.5 else "no"
    return fmt_ci(c["value"], c["ci_low"], c["ci_high"])


def claims_markdown(table: pd.DataFrame) -> str:
    """The landing table as MyST: one row per claim, chapters linked (``{doc}``) when they ran.

    Wrapped in a ``claims-table`` container so the page's table can be found (and its rows
    counted) by the browser test.
    """
    from ecrs_analysis.report.format import fmt_num, label

    lines = ["```{container} claims-table", "| claim | set | reported | reproduced (95% CI) | ceiling | reported inside our CI? | chapter |", "|---|---|---|---|---|---|---|"]
    for c in table.to_dict(orient="records"):
        number = c["chapter"].split("_")[0]
        chapter = f"{{doc}}`ch. {number} <{c['chapter']}>`" if c["chapter_ran"] else f"ch. {number} (not in this run)"
        study = _SHORT.get(c["study"], c["study"])
        cells = [f"**{study}** {c['quantity']}", label(c["set"]), _reported_text(c), _reproduced_text(c), fmt_num(c["ceiling"]), c["mark"], chapter]
        lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |")
    lines.append("```")
    return "\n".join(lines)


def verdict_counts(table: pd.DataFrame) -> str:
    """One sentence: how many claims fall in each verdict ("9 claims: 3 ✓ inside our CI, ...")."""
    counts = table["verdict"].value_counts()
    parts = [f"{int(counts[v])} {MARKS[v]}" for v in MARKS if v in counts]
    return f"{len(table)} claims: " + ", ".join(parts) + "."


def sources_table(table: pd.DataFrame) -> pd.DataFrame:
    """Claim id, the abstract's sentence it comes from, and this run's note on it."""
    return table.set_index("claim")[["source", "note"]].rename(columns={"source": "reported in", "note": "note on the reproduced value"})


def cohort_claims(studies: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Claim rows of the cohorts: patients (in all and per set) and hospitals, for each loaded study.

    ``studies`` maps a study name to its :class:`ecrs_analysis.data.study.LoadedStudy`; only
    counts the registry has a claim for are written.
    """
    rows = []
    for name, st in studies.items():
        t = st.table
        synthetic = st.cohort.truth is not None
        note = (f"synthetic cohort: set by the parameters studies.{name}.synthetic.n_patients, centers and split, "
                "chosen to match the paper; compared on a real cohort") if synthetic else "real cohort"
        counts = {f"{name}.patients": len(t)}
        if "center" in t:
            counts[f"{name}.hospitals"] = t["center"].nunique()
        counts.update({f"{name}.patients.{s}": int((t["set"] == s).sum()) for s in st.split.names})
        rows += [{"claim": cid, "value": v, "n": v, "by_design": synthetic, "note": note} for cid, v in counts.items() if cid in _BY_ID]
    return rows


def integrated_claims(aucs: pd.DataFrame, ops: pd.DataFrame, *, model: str = "integrated") -> list[dict[str, Any]]:
    """Claim rows of Li et al.'s integrated model: AUC, sensitivity, specificity, accuracy on both test sets."""
    sets = ("internal_test", "external_test")
    rows = auc_claims(aucs, model=model, claims={s: f"li2025.auc.{s}" for s in sets}, ceiling_model="true_prob")
    rows += operating_claims(ops, model=model, claims={(m, s): f"li2025.{m}.{s}" for m in ("sensitivity", "specificity", "accuracy") for s in sets})
    return rows


def proteomics_claims(*, patients: int, dysregulated: int, gsea: pd.DataFrame, pathway: str, fdr: float, synthetic: bool = False) -> list[dict[str, Any]]:
    """Claim rows of the proteomics: patients, dysregulated proteins, and whether ``pathway`` is enriched (GSEA FDR < ``fdr``).

    ``synthetic``: the proteomics were simulated for ``omics.synthetic.n_patients`` patients, so
    their number is set by design."""
    hit = gsea[gsea["term"] == pathway]
    if hit.empty:
        enriched, note = 0.0, f"{pathway}: not among the {len(gsea)} gene sets tested"
    else:
        q = float(hit["fdr"].iloc[0])
        rank = int(np.flatnonzero(gsea["term"].to_numpy() == pathway)[0]) + 1
        enriched, note = float(q < fdr), f"GSEA: {pathway} ranked {rank} of {len(gsea)}, FDR {q:.3g} (threshold {fdr:g})"
    return [
        {"claim": "li2025.proteomics.patients", "value": patients, "n": patients, "by_design": synthetic,
         **({"note": "synthetic proteomics: the parameter omics.synthetic.n_patients"} if synthetic else {})},
        {"claim": "li2025.proteomics.dysregulated", "value": dysregulated,
         "note": f"limma, FDR < {fdr:g}; the paper states no definition: chapter 07 counts every usual one; the count depends on how many proteins were quantified"},
        {"claim": "li2025.proteomics.chemokine", "value": enriched, "note": note},
    ]


def metric_claims(
    table: pd.DataFrame, *, study: str, note: str = "", auc_ceiling: Mapping[str, float] | None = None, learning: LearningCheck | None = None,
) -> list[dict[str, Any]]:
    """Claim rows from a table indexed by (set, metric) with ``value``, ``CI low``, ``CI high``.

    The claim id is ``<study>.<metric>.<set>`` (metric lower-cased: ``AUC`` -> ``auc``);
    rows the registry has no claim for are skipped, so a chapter can pass its whole
    headline table (e.g. MTLNet's Dice, AUC, sensitivity and specificity per set). An
    optional ``ceiling`` column is carried over; ``auc_ceiling`` (set -> the synthetic
    cohort's ceiling AUC, e.g. the ``ceiling AUC`` column of ``data.study.ceiling_auc``)
    fills the AUC rows' ceiling; None for a real cohort.  ``learning`` (the classifier's
    :func:`~ecrs_analysis.stats.learning.learning_check`): when it did not learn, the
    classification rows (AUC, sensitivity, specificity, ...) carry ``learned=False`` and the
    reason instead of a value; segmentation rows (Dice) are not the classifier's and stay.
    """
    rows = []
    for (s, metric), r in table.iterrows():
        cid = f"{study}.{str(metric).lower()}.{s}"
        if cid in _BY_ID:
            ceiling = r.get("ceiling")
            if auc_ceiling is not None and str(metric).lower() == "auc" and s in auc_ceiling:
                ceiling = float(auc_ceiling[s])
            row = {"claim": cid, "value": r["value"], "ci_low": r.get("CI low"), "ci_high": r.get("CI high"), "ceiling": ceiling, "note": note}
            if learning is not None and not learning.learned and str(metric).lower() in CLASSIFICATION_METRICS:
                row.update(learned=False, note=f"did not learn — no value reported: {learning.reason}")
            rows.append(row)
    return rows


CLASSIFICATION_METRICS = ("auc", "sensitivity", "specificity", "accuracy", "ppv", "npv")
"""Metrics (lower-case) that describe a classifier's scores, withheld when the classifier did not learn."""
