"""Sentences built from the tables they cite, and the guard that a chapter's prose does not contradict its table.

Every function here takes an artefact table (read by the chapter from the job that wrote it) and
returns markdown whose numbers and comparisons come from that table alone; chapters 00, 03 and 04
show these sentences instead of hand-written claims. :func:`bound_contradictions` is the test
guard: a sentence that calls a ceiling a bound ("cannot exceed", "best any model", "upper bound")
is flagged when a row of the cited table lies above its ceiling.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from ecrs_analysis.report.format import fmt_ci, fmt_num, fmt_p, label

__all__ = [
    "BOUND_WORDING", "bound_contradictions", "ceiling_prose", "versus_prose", "threshold_prose", "calibration_prose", "in_sample_prose",
    "learning_prose", "landing_prose",
]

BOUND_WORDING = re.compile(
    r"cannot (?:exceed|be exceeded|do better|beat|reach)|can ?not exceed|can never exceed|no (?:[\w-]+ ){0,3}(?:model|network)s? (?:can|could) (?:exceed|do better|beat)"
    r"|best any model|could reach at best|the most (?:that )?(?:any |a )?[\w -]{0,30}could reach|upper bound|\bbound\b|unbeatable|at most the ceiling",
    re.IGNORECASE,
)
"""Wording that presents a ceiling as a bound no model's AUC can pass."""


def _sentences(prose: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", prose) if s.strip()]


def bound_contradictions(prose: str, table: pd.DataFrame, *, auc: str = "AUC", ceiling: str = "ceiling AUC") -> list[str]:
    """Sentences of ``prose`` that call the ceiling a bound although a row of ``table`` lies above it.

    Parameters
    ----------
    prose : str
        Rendered prose (markdown) of a chapter.
    table : DataFrame
        A table the prose cites, with an AUC column and a ceiling-AUC column (one row per model and set).

    Returns
    -------
    list of str
        The offending sentences; empty when no row exceeds its ceiling or the prose uses no bound wording.
    """
    if auc not in table or ceiling not in table:
        raise KeyError(f"bound_contradictions needs columns {auc!r} and {ceiling!r}; the table has {list(table.columns)}")
    above = pd.to_numeric(table[auc], errors="coerce") > pd.to_numeric(table[ceiling], errors="coerce")
    if not above.any():
        return []
    return [s for s in _sentences(prose) if BOUND_WORDING.search(s)]


def _where(index: tuple) -> str:
    s, m = index
    return f"{label(m)} on the {label(s)} set"


def ceiling_prose(table: pd.DataFrame, *, what: str = "the ceiling") -> str:
    """What a :func:`~ecrs_analysis.stats.evaluate.ceiling_table` shows, in words.

    Per row: AUC minus the ceiling's with its paired DeLong 95% CI, and the normalised share
    (AUC − 0.5)/(ceiling − 0.5) with its bootstrap CI; which rows lie above the ceiling's point
    estimate; and which differences the CI separates from zero. The ceiling is called an estimate,
    never a bound, when a row lies above it.
    """
    if table.empty:
        return f"There is no comparison with {what}: a real cohort has no known ceiling, or no model learned."
    above = [i for i, r in table.iterrows() if bool(r["AUC above ceiling"]) and str(r["AUC above ceiling"]).lower() != "false"]
    below = [i for i, r in table.iterrows() if r["ΔAUC high"] < 0]
    parts = []
    for i, r in table.iterrows():
        share = fmt_ci(r["share of ceiling above chance"], r["share low"], r["share high"])
        origin = f" ({r['scores']})" if "scores" in table and r.get("scores") == "in-sample" else ""
        parts.append(f"{_where(i)}{origin}: AUC {fmt_num(r['AUC'])} against {fmt_num(r['ceiling AUC'])}, difference "
                     f"{fmt_ci(r['ΔAUC (model − ceiling)'], r['ΔAUC low'], r['ΔAUC high'])} (paired DeLong 95% CI, p {fmt_p(r['p (DeLong)'])}), "
                     f"share above chance {share} (bootstrap 95% CI)")
    text = f"Each model against {what} on the same patients — " + "; ".join(parts) + ". "
    if above:
        in_sample = [i for i in above if "scores" in table and table.loc[i, "scores"] == "in-sample"]
        text += (f"{len(above)} of {len(table)} rows lie above the ceiling's estimate ({', '.join(_where(i) for i in above)}): "
                 "the ceiling is a property of the population, estimated on each set with its own error, and a model can sit above that estimate by chance. ")
        if in_sample:
            text += (f"{len(in_sample)} of them are in-sample ({', '.join(_where(i) for i in in_sample)}): "
                     "a model scoring the patients it was fitted on also owes its height to that fit. ")
    else:
        text += "No row lies above the ceiling's estimate. "
    if below:
        text += f"The paired CI lies wholly below zero for {', '.join(_where(i) for i in below)}: there the model is shown to fall short of {what}. "
    rest = len(table) - len(below)
    if rest:
        text += f"For the other {rest} row(s) the CI includes zero: the data do not separate the model from {what}."
    return text.strip()


def versus_prose(paired: pd.DataFrame, *, reference: str, other: str, sets: Sequence[str], family: str = "this chapter's paired tests") -> str:
    """Does ``reference`` beat ``other``? From a paired DeLong table with Holm/Bonferroni columns (``evaluate.adjust_p``), on ``sets``."""
    comparison = f"{reference} vs {other}"
    tests = int(paired["tests"].iloc[0]) if "tests" in paired and len(paired) else len(paired)
    parts: list[str] = []
    uncorrected: list[bool] = []
    corrected: list[bool] = []
    for s in sets:
        if (s, comparison) not in paired.index:
            continue
        r = paired.loc[(s, comparison)]
        parts.append(f"on the {label(s)} set ΔAUC {fmt_ci(r['ΔAUC'], r['CI low'], r['CI high'])} (paired DeLong 95% CI), p {fmt_p(r['p'])} uncorrected, "
                     f"{fmt_p(r['p (Holm)'])} Holm-adjusted")
        uncorrected.append(bool(r["CI low"] > 0))
        corrected.append(bool(r["CI low"] > 0 and r["p (Holm)"] < 0.05))
    if not parts:
        return f"No paired test of the {label(reference)} against the {label(other)} on these sets."
    head = f"Is the {label(reference)} better than the {label(other)}? AUC of the {label(reference)} minus the {label(other)}: " + "; ".join(parts) + ". "
    if all(corrected):
        verdict = f"The {label(reference)} beats the {label(other)} on every test set, and the difference survives the correction."
    elif any(uncorrected):
        verdict = (f"The uncorrected CI excludes zero on {sum(uncorrected)} of {len(uncorrected)} test set(s), but not every difference survives the Holm correction: "
                   f"the data do not show that the {label(reference)} beats the {label(other)}.")
    else:
        verdict = f"On no test set does the CI exclude zero: the data do not show that the {label(reference)} beats the {label(other)}."
    return head + verdict + (f" Multiplicity: {family} are {tests} tests; Holm and Bonferroni adjust for all {tests}; "
                             "p-values of the training-set rows are in-sample for the integrated model and the clinical signature.")


def threshold_prose(held_out: pd.DataFrame) -> str:
    """What the held-out threshold check (``fusion.held_out_operating_points``) shows: fitted against held-out sensitivity and specificity."""
    if held_out.empty:
        return "The held-out threshold check has no rows."
    parts = []
    for metric in ("sensitivity", "specificity"):
        fit, held = held_out[f"{metric} (fitted folds)"], held_out[f"{metric} (held-out fold)"]
        parts.append(f"{metric} {fmt_num(fit.mean())} on the folds it was fitted on against {fmt_num(held.mean())} on the held-out fold "
                     f"(mean over {len(held_out)} folds; held-out range {fmt_num(held.min())}–{fmt_num(held.max())})")
    gaps = {m: float((held_out[f"{m} (fitted folds)"] - held_out[f"{m} (held-out fold)"]).mean()) for m in ("sensitivity", "specificity")}
    worst = max(gaps, key=lambda m: abs(gaps[m]))
    text = "A threshold chosen on the scores of the patients the model was fitted on gives " + "; ".join(parts) + ". "
    if abs(gaps[worst]) >= 0.05:
        text += (f"The {worst} drops by {fmt_num(gaps[worst])} on average on patients the model never saw: an in-sample threshold is tuned to its own patients. "
                 "This is why every operating threshold of this chapter is chosen on out-of-fold training scores (the *rule* column of the performance table).")
    else:
        text += ("Fitted and held-out values differ by less than 0.05 on average; the operating thresholds are chosen on out-of-fold training scores all the same "
                 "(the *rule* column of the performance table).")
    return text


def calibration_prose(table: pd.DataFrame, *, model: str = "integrated") -> str:
    """Calibration of a model per set (Brier, intercept, slope), from the evaluation job's calibration table."""
    parts = [f"{label(s)} ({r['scores']}, n {int(r['n'])}): Brier {fmt_num(r['Brier'])}, intercept {fmt_num(r['calibration intercept'], 2)}, "
             f"slope {fmt_num(r['calibration slope'], 2)}" for s, r in table.iterrows()]
    over = [label(s) for s, r in table.iterrows() if r["calibration slope"] < 0.8]
    text = f"Calibration of the {label(model)}'s probability — " + "; ".join(parts) + " (intercept 0 and slope 1 are ideal)."
    if over:
        text += f" A slope below 0.8 on {', '.join(over)}: the predicted probabilities are too extreme there."
    return text


def in_sample_prose(aucs: pd.DataFrame, *, models: Sequence[str], train_set: str) -> str:
    """The in-sample training AUC of each model beside its out-of-fold one (rows ``<model>`` and ``<model> (out-of-fold)``)."""
    parts = []
    for m in models:
        a, b = (train_set, m), (train_set, f"{m} (out-of-fold)")
        if a in aucs.index and b in aucs.index:
            parts.append(f"{label(m)} {fmt_num(aucs.loc[a, 'AUC'])} in-sample against {fmt_num(aucs.loc[b, 'AUC'])} out-of-fold")
    if not parts:
        return ""
    return ("Training-set AUCs of models fitted on those patients are in-sample, marked so in the tables' *scores* column, and are not evidence about new patients: "
            + "; ".join(parts) + ".")


CONSTANT_HELD_OUT = "constant predictor's held-out log loss"


def learning_prose(learning: pd.DataFrame) -> str:
    """Which networks learned, on held-out evidence (``stats.learning.learning_table``)."""
    ok = [m for m, r in learning.iterrows() if r["learned"] == "yes"]
    failed = [m for m, r in learning.iterrows() if r["learned"] != "yes"]
    parts = []
    for m, r in learning.iterrows():
        if "held-out AUC" in learning:
            parts.append(f"{label(m)}: out-of-fold log loss {fmt_num(r['held-out log loss'])} against the constant predictor's "
                         f"{fmt_num(r[CONSTANT_HELD_OUT])}, out-of-fold AUC "
                         f"{fmt_ci(r['held-out AUC'], r['held-out AUC low (DeLong)'], r['held-out AUC high (DeLong)'])} (DeLong 95% CI)")
    text = ("On patients each fold's network never saw — " + "; ".join(parts) + ". ") if parts else ""
    if failed:
        text += f"**Did not learn — no AUC reported:** {', '.join(label(m) for m in failed)}."
    else:
        text += f"Every network learned ({', '.join(label(m) for m in ok)}): training loss below the constant predictor's and better than chance on held-out patients."
    return text


def landing_prose(paired: pd.DataFrame, *, sets: Sequence[str]) -> str:
    """The landing page's one paragraph on the integrated model against the clinical signature (from chapter 04's paired table)."""
    return versus_prose(paired, reference="integrated", other="clinical_signature", sets=sets, family="chapter 04's paired tests")
