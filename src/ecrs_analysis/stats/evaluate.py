"""Model evaluation tables over sets: AUC with DeLong and bootstrap CIs, paired and unpaired tests, operating points,
segmentation metrics, and a long table of the headline numbers.

Input everywhere is a *score table*: one row per patient with ``set``, ``label`` and one
column per model (higher = more likely eCRS).  The threshold of each model is chosen on
``threshold_set`` (the training set) and applied unchanged to the other sets; published
scores can also be read at their published cut-off (``operating_table(..., fixed=...)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

import numpy as np

from statsmodels.stats.multitest import multipletests

from ecrs_analysis.stats.bootstrap import bootstrap_auc_ci, bootstrap_auc_samples, bootstrap_summary
from ecrs_analysis.stats.delong import delong_ci, delong_test, delong_test_unpaired
from ecrs_analysis.stats.segmentation import SEGMENTATION_METRICS
from ecrs_analysis.stats.threshold import choose_threshold, operating_point

__all__ = [
    "auc_table", "paired_delong_table", "adjust_p", "ceiling_table", "CEILING_COLUMNS", "score_origin", "unpaired_delong_table", "operating_table",
    "segmentation_table", "headline_metrics",
]


def _sets(scores: pd.DataFrame, sets: Sequence[str] | None) -> list[str]:
    return list(sets) if sets is not None else list(dict.fromkeys(scores["set"]))


def auc_table(scores: pd.DataFrame, models: Sequence[str], *, sets: Sequence[str] | None = None, n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """AUC, DeLong 95% CI and stratified-bootstrap 95% CI of every model on every set."""
    rows = []
    for s in _sets(scores, sets):
        part = scores[scores["set"] == s]
        for m in models:
            d = delong_ci(part["label"], part[m], name=f"{m} on {s}")
            b = bootstrap_auc_ci(part["label"], part[m], n_resamples=n_resamples, seed=seed, name=f"{m} on {s}")
            rows.append({"set": s, "model": m, "n": len(part), "AUC": d.auc, "DeLong low": d.ci_low, "DeLong high": d.ci_high, "bootstrap low": b.ci_low, "bootstrap high": b.ci_high})
    return pd.DataFrame(rows).set_index(["set", "model"])


def paired_delong_table(scores: pd.DataFrame, reference: str, others: Sequence[str], *, sets: Sequence[str] | None = None) -> pd.DataFrame:
    """Paired DeLong test of ``reference`` against each other model, per set: ΔAUC = AUC(reference) − AUC(other), its DeLong 95% CI, Z and p."""
    rows = []
    for s in _sets(scores, sets):
        part = scores[scores["set"] == s]
        for m in others:
            t = delong_test(part["label"], part[reference], part[m], name=f"{reference} vs {m} on {s}")
            rows.append({"set": s, "comparison": f"{reference} vs {m}", "ΔAUC": t.difference, "CI low": t.ci_low, "CI high": t.ci_high, "Z": t.statistic, "p": t.p_value})
    return pd.DataFrame(rows).set_index(["set", "comparison"])


def adjust_p(table: pd.DataFrame, *, column: str = "p") -> pd.DataFrame:
    """``table`` with the p-values of ``column`` adjusted for the number of tests in it: ``p (Holm)``, ``p (Bonferroni)``.

    Every row of the table counts as one test (statsmodels ``multipletests``); the count is in
    ``attrs["tests"]``. A table of tests that a chapter reports together is one family.
    """
    out = table.copy()
    p = out[column].to_numpy(dtype=float)
    out["p (Holm)"] = multipletests(p, method="holm")[1] if len(p) else p
    out["p (Bonferroni)"] = multipletests(p, method="bonferroni")[1] if len(p) else p
    out.attrs["tests"] = len(p)
    return out


CEILING_COLUMNS = (
    "n", "AUC", "ceiling AUC", "ΔAUC (model − ceiling)", "ΔAUC low", "ΔAUC high", "p (DeLong)",
    "share of ceiling above chance", "share low", "share high", "AUC above ceiling",
)
"""Columns of :func:`ceiling_table`."""


def ceiling_table(
    scores: pd.DataFrame, models: Sequence[str], *, ceiling: str, sets: Sequence[str] | None = None, n_resamples: int = 2000, seed: int = 0,
) -> pd.DataFrame:
    """Each model against a ceiling score on the same patients, per set: a paired comparison, not a bound.

    A ceiling (e.g. the synthetic cohort's P(label | what the CT shows)) is a *population*
    bound: on a finite set its AUC is an estimate with its own error, and a model's AUC can
    exceed it by chance. So each row gives

    - ``ΔAUC (model − ceiling)`` with its paired DeLong 95% CI (``ΔAUC low``, ``ΔAUC high``) and
      two-sided ``p (DeLong)``;
    - ``share of ceiling above chance`` = (AUC − 0.5) / (ceiling AUC − 0.5), the part of the
      ceiling's discrimination above chance that the model reaches, with a paired stratified
      bootstrap percentile 95% CI (``share low``, ``share high``; model and ceiling on the same
      resamples; resamples whose ceiling AUC is ≤ 0.5 are left out, and NaN when the ceiling
      itself is ≤ 0.5);
    - ``AUC above ceiling``: True when the point estimate exceeds the ceiling's on this set.

    Returns
    -------
    DataFrame indexed by (set, model) with :data:`CEILING_COLUMNS`.
    """
    rows = []
    for s in _sets(scores, sets):
        part = scores[scores["set"] == s]
        y, c = part["label"], part[ceiling]
        for k, m in enumerate(models):
            t = delong_test(y, part[m], c, name=f"{m} vs {ceiling} on {s}")
            boot = bootstrap_auc_samples(y, part[m], c, n_resamples=n_resamples, seed=seed + k, name=f"{m} vs {ceiling} on {s}")
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(boot[:, 1] > 0.5, (boot[:, 0] - 0.5) / (boot[:, 1] - 0.5), np.nan)
            ok = share[np.isfinite(share)]
            point = (t.auc1 - 0.5) / (t.auc2 - 0.5) if t.auc2 > 0.5 else float("nan")
            lo, hi = (np.quantile(ok, [0.025, 0.975]) if ok.size and point == point else (float("nan"), float("nan")))
            rows.append({
                "set": s, "model": m, "n": len(part), "AUC": t.auc1, "ceiling AUC": t.auc2, "ΔAUC (model − ceiling)": t.difference,
                "ΔAUC low": t.ci_low, "ΔAUC high": t.ci_high, "p (DeLong)": t.p_value,
                "share of ceiling above chance": point, "share low": float(lo), "share high": float(hi), "AUC above ceiling": bool(t.auc1 > t.auc2),
            })
    out = pd.DataFrame(rows, columns=["set", "model", *CEILING_COLUMNS]).set_index(["set", "model"])
    out.attrs["ceiling"] = ceiling
    return out


def score_origin(table: pd.DataFrame, *, train_set: str, in_sample: Sequence[str] = (), level: str = "model") -> pd.Series:
    """What each row's scores are: ``in-sample`` (a model scoring the training patients it was fitted on),
    ``out-of-fold`` (training patients scored by a model fitted without them) or ``held-out`` (test sets).

    ``table`` is indexed by (set, model) or (model, set); ``in_sample`` lists the models whose
    training-set scores are in-sample (the clinical signature and the integrated SVM); every other
    model's training scores are taken to be out-of-fold (the CNNs' k-fold scores).
    """
    sets = table.index.get_level_values("set")
    models = table.index.get_level_values(level)
    values = ["held-out" if s != train_set else ("in-sample" if m in in_sample else "out-of-fold") for s, m in zip(sets, models)]
    return pd.Series(values, index=table.index, name="scores")


def operating_table(
    scores: pd.DataFrame,
    models: Sequence[str],
    *,
    threshold_set: str,
    sets: Sequence[str] | None = None,
    rule: str = "youden",
    target: float | None = None,
    fixed: Mapping[str, float] | None = None,
    threshold_scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Sensitivity, specificity, accuracy, PPV, NPV (Wilson CIs) at the training-set threshold.

    Parameters
    ----------
    models : sequence of str
        Score columns; each gets the threshold ``rule`` chooses on ``threshold_set``.
    fixed : mapping of str to float, optional
        Score columns also reported at a published cut-off, chosen on no set, e.g.
        ``{"jesrec": clinical.JESREC_CUTOFF}``; their rows are labelled ``"jesrec ≥ 11"``.
    threshold_scores : DataFrame, optional
        Held-out training scores to choose the thresholds on instead of ``scores``'s
        ``threshold_set`` rows: ``label`` and, for every model it has a column for, that model's
        *out-of-fold* score of each training patient (from a model fitted without that patient).
        A threshold chosen on in-sample scores is tuned to patients the model has seen; one
        chosen on out-of-fold scores is the threshold a new patient meets. Its rows' ``rule``
        reads ``"<rule> on <threshold_set> (out-of-fold)"``.

    Returns
    -------
    DataFrame indexed by (model, set), with the ``threshold`` and how it was set (``rule``).
    """
    unknown = [c for c in (fixed or {}) if c not in scores]
    if unknown:
        raise ValueError(f"fixed thresholds for unknown score column(s) {unknown}; columns: {list(scores.columns)}")
    train = scores[scores["set"] == threshold_set]
    plans = []
    for m in models:
        oof = threshold_scores is not None and m in threshold_scores
        source = threshold_scores if oof else train
        assert source is not None
        thr = choose_threshold(source["label"], source[m], rule=rule, target=target, name=f"{m} on {threshold_set}{' (out-of-fold)' if oof else ''}")
        plans.append((m, m, thr, f"{rule} on {threshold_set}{' (out-of-fold)' if oof else ''}"))
    plans += [(f"{c} ≥ {t:g}", c, float(t), "published cut-off") for c, t in (fixed or {}).items()]
    rows = []
    for label, column, thr, how in plans:
        for s in _sets(scores, sets):
            part = scores[scores["set"] == s]
            op = operating_point(part["label"], part[column], threshold=thr, name=f"{column} on {s}")
            row = {"model": label, "set": s, "rule": how, "threshold": thr, "TP": op.tp, "FP": op.fp, "TN": op.tn, "FN": op.fn}
            for k in ("sensitivity", "specificity", "accuracy", "ppv", "npv"):
                met = getattr(op, k)
                row[k] = met.value
                row[f"{k} low"], row[f"{k} high"] = met.ci_low, met.ci_high
                row[f"{k} CI"] = f"{met.ci_low:.3f}–{met.ci_high:.3f}"
            rows.append(row)
    return pd.DataFrame(rows).set_index(["model", "set"])


def unpaired_delong_table(scores: pd.DataFrame, models: Sequence[str], *, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Unpaired DeLong test (Welch-type, as pROC) of each model's AUC between two sets of different patients."""
    rows = []
    for a, b in pairs:
        pa, pb = scores[scores["set"] == a], scores[scores["set"] == b]
        for m in models:
            t = delong_test_unpaired(pa["label"], pa[m], pb["label"], pb[m])
            rows.append({"model": m, "comparison": f"{a} vs {b}", f"AUC {a}": t.auc1, f"AUC {b}": t.auc2, "ΔAUC": t.difference, "CI low": t.ci_low, "CI high": t.ci_high, "D": t.statistic, "df": t.df, "p": t.p_value})
    return pd.DataFrame(rows).set_index(["model", "comparison"])


_SEG_STATISTIC = {"dice": "mean", "surface_dice": "mean", "hd95": "median"}


def segmentation_table(scores: pd.DataFrame, *, metrics: Sequence[str] = SEGMENTATION_METRICS, sets: Sequence[str] | None = None, n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per set: mean Dice and surface Dice, median HD95 (a failed, empty prediction has HD95 = inf), bootstrap 95% CIs.

    ``empty truth`` counts patients whose metric is undefined (NaN: empty ground-truth mask);
    they are reported, not averaged in.
    """
    unknown = [m for m in metrics if m not in _SEG_STATISTIC]
    if unknown:
        raise ValueError(f"unknown segmentation metric(s) {unknown}; valid: {list(_SEG_STATISTIC)}")
    rows = []
    for s in _sets(scores, sets):
        part = scores[scores["set"] == s]
        for m in metrics:
            r = bootstrap_summary(part[m].to_numpy(dtype=float), statistic=_SEG_STATISTIC[m], n_resamples=n_resamples, seed=seed)
            rows.append({"set": s, "metric": m, "statistic": r.statistic, "value": r.value, "CI low": r.ci_low, "CI high": r.ci_high, "n": r.n, "empty truth": r.undefined})
    return pd.DataFrame(rows).set_index(["set", "metric"])


def headline_metrics(
    scores: pd.DataFrame, *, prob: str = "prob", threshold_set: str, sets: Sequence[str] | None = None, n_resamples: int = 2000, seed: int = 0, rule: str = "youden", target: float | None = None
) -> pd.DataFrame:
    """A long table of a study's headline numbers per set, each with its 95% CI.

    Rows ``(set, metric)`` for metric in Dice (mean, bootstrap CI; when ``scores`` has a
    ``dice`` column with values), AUC (stratified bootstrap CI), sensitivity, specificity and
    accuracy (Wilson CIs, at the threshold chosen on ``threshold_set``); columns ``value``,
    ``CI low``, ``CI high`` and ``CI method`` (``bootstrap``, ``stratified bootstrap`` or ``Wilson``).
    """
    set_names = _sets(scores, sets)
    rows = []
    if "dice" in scores and scores["dice"].notna().any():
        seg = segmentation_table(scores, metrics=("dice",), sets=set_names, n_resamples=n_resamples, seed=seed)
        rows += [{"set": s, "metric": "Dice", "value": r["value"], "CI low": r["CI low"], "CI high": r["CI high"]} for (s, _), r in seg.iterrows()]
    if prob in scores and scores[prob].notna().any():
        aucs = auc_table(scores, [prob], sets=set_names, n_resamples=n_resamples, seed=seed)
        rows += [{"set": s, "metric": "AUC", "value": r["AUC"], "CI low": r["bootstrap low"], "CI high": r["bootstrap high"]} for (s, _), r in aucs.iterrows()]
        train = scores[scores["set"] == threshold_set]
        thr = choose_threshold(train["label"], train[prob], rule=rule, target=target, name=f"{prob} on {threshold_set}")
        for s in set_names:
            part = scores[scores["set"] == s]
            op = operating_point(part["label"], part[prob], threshold=thr, name=f"{prob} on {s}")
            for k in ("sensitivity", "specificity", "accuracy"):
                met = getattr(op, k)
                rows.append({"set": s, "metric": k, "value": met.value, "CI low": met.ci_low, "CI high": met.ci_high})
    if not rows:
        raise ValueError(f"headline_metrics: the scores have neither a {prob!r} nor a 'dice' column with values")
    order = {m: i for i, m in enumerate(["Dice", "AUC", "sensitivity", "specificity", "accuracy"])}
    out = pd.DataFrame(rows)
    out["_set"], out["_metric"] = out["set"].map({s: i for i, s in enumerate(set_names)}), out["metric"].map(order)
    out = out.sort_values(["_set", "_metric"]).drop(columns=["_set", "_metric"]).set_index(["set", "metric"]).astype(np.float64)
    # the interval of each row, named: proportions carry Wilson intervals, Dice and AUC percentile bootstrap ones
    out["CI method"] = ["stratified bootstrap" if m == "AUC" else "bootstrap" if m == "Dice" else "Wilson" for m in out.index.get_level_values("metric")]
    return out
