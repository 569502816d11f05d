"""Numbers and tables formatted for reading: ``0.875 (0.831–0.919)``, ``<0.001``, fixed decimals.

The analysis tables (:mod:`ecrs_analysis.stats.evaluate`) keep raw numbers and are written
as CSV; these functions turn them into the narrower tables the book shows, one string
per cell, so a row never runs off the page.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ecrs_analysis.data.splits import EXTERNAL, EXTERNAL_TEST, INTERNAL_TEST, TRAIN, VALIDATION

__all__ = [
    "CI_DASH", "markdown_table", "LABELS", "label", "fmt_num", "fmt_ci", "fmt_p", "fmt_pct", "fmt_count",
    "auc_display", "operating_display", "performance_display", "delong_display", "ceiling_display", "calibration_display", "frame_display", "subgroup_display",
]

# Display names of models, sets and score columns.
LABELS: dict[str, str] = {
    "integrated": "integrated model", "clinical_signature": "clinical signature", "resnet3d": "3D-ResNet",
    "xception3d": "3D-Xception", "hrnet3d": "3D-HRNet", "true_prob": "latent ceiling (true probability)", "image_prob": "image-only ceiling (what the CT shows)",
    "integrated_held_out": "integrated model", "clinical_signature_held_out": "clinical signature",
    "integrated (out-of-fold)": "integrated model (out-of-fold)", "clinical_signature (out-of-fold)": "clinical signature (out-of-fold)",
    "jesrec": "JESREC score", "em_ratio": "E/M ratio", "blood_eos_pct": "blood eosinophils %",
    TRAIN: "training", INTERNAL_TEST: "internal test", EXTERNAL_TEST: "external test",
    VALIDATION: "validation", EXTERNAL: "temporal external", "all": "all",
}


def label(name: Any) -> str:
    """Display name of a model, set or score column (unknown names unchanged)."""
    return LABELS.get(str(name), str(name))


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA or x is pd.NaT


def fmt_num(x: Any, digits: int = 3) -> str:
    """``0.875``; a missing value is an en dash."""
    return "–" if _missing(x) else f"{float(x):.{digits}f}"


# A word joiner after the en dash: a narrow column wraps "0.875 (0.831–0.919)" before the
# bracket, never inside the interval (browsers may break after a dash).
CI_DASH = "–\u2060"


def fmt_ci(value: Any, low: Any, high: Any, digits: int = 3) -> str:
    """``0.875 (0.831–0.919)``; without bounds only the value.

    >>> fmt_ci(0.87512, 0.8306, 0.919).replace(CI_DASH, "–")
    '0.875 (0.831–0.919)'
    """
    if _missing(value):
        return "–"
    if _missing(low) or _missing(high):
        return fmt_num(value, digits)
    return f"{float(value):.{digits}f} ({float(low):.{digits}f}{CI_DASH}{float(high):.{digits}f})"


def fmt_p(p: Any) -> str:
    """p-value with three decimals, ``<0.001`` below that.

    >>> fmt_p(0.0031), fmt_p(0.00002), fmt_p(0.5)
    ('0.003', '<0.001', '0.500')
    """
    if _missing(p):
        return "–"
    p = float(p)
    return "<0.001" if p < 0.0005 else f"{p:.3f}"


def fmt_pct(x: Any, digits: int = 1) -> str:
    """``72.7%`` from a proportion 0.727."""
    return "–" if _missing(x) else f"{100 * float(x):.{digits}f}%"


def fmt_count(x: Any) -> str:
    return "–" if _missing(x) else f"{int(round(float(x))):,}"


def _relabel_index(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    if isinstance(out.index, pd.MultiIndex):
        out.index = pd.MultiIndex.from_tuples([tuple(label(v) for v in t) for t in out.index], names=out.index.names)
    else:
        out.index = pd.Index([label(v) for v in out.index], name=out.index.name)
    return out


def auc_display(aucs: pd.DataFrame, *, bootstrap: bool = True, digits: int = 3) -> pd.DataFrame:
    """An :func:`~ecrs_analysis.stats.evaluate.auc_table` for reading: AUC with DeLong CI (and bootstrap CI)."""
    out = pd.DataFrame(index=aucs.index)
    out["n"] = aucs["n"].map(fmt_count)
    out["AUC (DeLong 95% CI)"] = [fmt_ci(a, lo, hi, digits) for a, lo, hi in zip(aucs["AUC"], aucs["DeLong low"], aucs["DeLong high"])]
    if bootstrap:
        out["stratified bootstrap 95% CI"] = [f"{fmt_num(lo, digits)}{CI_DASH}{fmt_num(hi, digits)}" for lo, hi in zip(aucs["bootstrap low"], aucs["bootstrap high"])]
    if "scores" in aucs:  # in-sample training rows are marked: they are not evidence of performance on new patients
        out["scores"] = aucs["scores"]
    return _relabel_index(out)


def operating_display(ops: pd.DataFrame, *, metrics: Sequence[str] = ("sensitivity", "specificity", "accuracy"), digits: int = 3, threshold: bool = True) -> pd.DataFrame:
    """An :func:`~ecrs_analysis.stats.evaluate.operating_table` for reading: each metric with its 95% CI."""
    out = pd.DataFrame(index=ops.index)
    if threshold:
        out["threshold"] = ops["threshold"].map(lambda t: fmt_num(t, digits))
    for m in metrics:
        out[f"{m} (Wilson 95% CI)"] = [fmt_ci(v, lo, hi, digits) for v, lo, hi in zip(ops[m], ops[f"{m} low"], ops[f"{m} high"])]
    if threshold and "rule" in ops:
        out["threshold chosen by"] = ops["rule"]
    if "scores" in ops:
        out["scores"] = ops["scores"]
    return _relabel_index(out)


def performance_display(aucs: pd.DataFrame, ops: pd.DataFrame, *, metrics: Sequence[str] = ("sensitivity", "specificity", "accuracy"), digits: int = 3) -> pd.DataFrame:
    """AUC beside the operating-point metrics, one row per (set, model); models without a threshold show dashes."""
    left = auc_display(aucs, bootstrap=False, digits=digits)
    right = operating_display(ops.swaplevel().sort_index().drop(columns=["scores"], errors="ignore"), metrics=metrics, digits=digits, threshold=False)
    out = left.join(right, how="left")
    return out.fillna("–")


def delong_display(paired: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """A :func:`~ecrs_analysis.stats.evaluate.paired_delong_table` for reading: ΔAUC (95% CI) and p."""
    out = pd.DataFrame(index=paired.index)
    out["ΔAUC (95% CI)"] = [fmt_ci(d, lo, hi, digits) for d, lo, hi in zip(paired["ΔAUC"], paired["CI low"], paired["CI high"])]
    out["Z"] = paired["Z"].map(lambda z: fmt_num(z, 2))
    out["p"] = paired["p"].map(fmt_p)
    for c in ("p (Holm)", "p (Bonferroni)", "scores"):
        if c in paired:
            out[c] = paired[c].map(fmt_p) if c.startswith("p ") else paired[c]
    out.index = pd.MultiIndex.from_tuples(
        [(label(s), " vs ".join(label(x) for x in c.split(" vs "))) for s, c in paired.index], names=paired.index.names
    )
    return out


def ceiling_display(table: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """An :func:`~ecrs_analysis.stats.evaluate.ceiling_table` for reading: AUC, ceiling, paired DeLong ΔAUC (95% CI, p),
    the normalised share (bootstrap 95% CI) and whether the point estimate is above the ceiling."""
    out = pd.DataFrame(index=table.index)
    if "ceiling" in table:
        out["ceiling"] = table["ceiling"].map(label)
    out["AUC"] = table["AUC"].map(lambda x: fmt_num(x, digits))
    out["ceiling AUC"] = table["ceiling AUC"].map(lambda x: fmt_num(x, digits))
    out["AUC − ceiling (paired DeLong 95% CI)"] = [fmt_ci(d, lo, hi, digits) for d, lo, hi in zip(table["ΔAUC (model − ceiling)"], table["ΔAUC low"], table["ΔAUC high"])]
    out["p (DeLong)"] = table["p (DeLong)"].map(fmt_p)
    out["(AUC − 0.5) / (ceiling − 0.5) (bootstrap 95% CI)"] = [
        fmt_ci(v, lo, hi, digits) for v, lo, hi in zip(table["share of ceiling above chance"], table["share low"], table["share high"])]
    out["above the ceiling?"] = table["AUC above ceiling"].map(lambda b: "yes" if str(b).lower() in ("true", "1") else "no")
    if "scores" in table:
        out["scores"] = table["scores"]
    return _relabel_index(out)


def calibration_display(table: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """A calibration table (Brier, intercept, slope, Hosmer-Lemeshow per set) for reading."""
    out = frame_display(table, digits=digits, p_columns=["Hosmer-Lemeshow p"])
    out.index = [label(s) for s in table.index]
    return out


def frame_display(
    df: pd.DataFrame, *, digits: int | Mapping[str, int] = 3, p_columns: Iterable[str] = (), pct_columns: Iterable[str] = (),
    count_columns: Iterable[str] = (), list_columns: Iterable[str] = (),
) -> pd.DataFrame:
    """Any table of numbers with fixed decimals (per column if a mapping), p-values and percentages formatted.

    ``list_columns`` hold ``;``-separated lists (gene symbols): shown with a space after
    each separator, so a long list wraps instead of widening the table.
    """
    p_columns, pct_columns, count_columns, list_columns = set(p_columns), set(pct_columns), set(count_columns), set(list_columns)
    out = df.copy().astype(object)
    for c in df.columns:
        col = df[c]
        if c in list_columns:
            out[c] = col.astype(str).str.replace(r";\s*", "; ", regex=True)
        elif c in p_columns:
            out[c] = col.map(fmt_p)
        elif c in pct_columns:
            out[c] = col.map(fmt_pct)
        elif c in count_columns:
            out[c] = col.map(fmt_count)
        elif pd.api.types.is_bool_dtype(col):
            out[c] = col.map({True: "yes", False: "no"})
        elif pd.api.types.is_integer_dtype(col):
            out[c] = col.map(fmt_count)
        elif pd.api.types.is_float_dtype(col):
            d = digits.get(c, 3) if isinstance(digits, Mapping) else digits
            out[c] = col.map(lambda x, d=d: fmt_num(x, d))
    return out


def subgroup_display(sub: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """A :func:`~ecrs_analysis.stats.subgroups.subgroup_auc_table` for reading."""
    out = pd.DataFrame(index=sub.index)
    out["patients (eCRS)"] = [f"{int(n)} ({int(c)})" for n, c in zip(sub["n"], sub["cases"])]
    out["AUC (DeLong 95% CI)"] = [fmt_ci(a, lo, hi, digits) for a, lo, hi in zip(sub["AUC"], sub["CI low"], sub["CI high"])]
    out["note"] = sub["note"].fillna("")
    out.index = pd.MultiIndex.from_tuples([(label(s), g, lv) for s, g, lv in sub.index], names=sub.index.names)
    return out


def markdown_table(df: pd.DataFrame, *, index: bool = True) -> str:
    """A table of text as MyST markdown: long cells wrap, nothing is cut (pandas' HTML view truncates at 50 characters)."""
    t = df.reset_index() if index else df
    def cell(x: Any) -> str:
        return "–" if _missing(x) else str(x).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(c) for c in t.columns) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in t.itertuples(index=False)]
    return "\n".join(lines)
