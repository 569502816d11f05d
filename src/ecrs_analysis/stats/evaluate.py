"""Model evaluation tables over sets: AUC with DeLong and bootstrap CIs, paired tests, operating points.

Input everywhere is a *score table*: one row per patient with ``set``, ``label`` and one
column per model (higher = more likely eCRS).  The threshold of each model is chosen on
``threshold_set`` (the training set) and applied unchanged to the other sets; published
scores can also be read at their published cut-off (``operating_table(..., fixed=...)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ecrs_analysis.stats.bootstrap import bootstrap_auc_ci
from ecrs_analysis.stats.delong import delong_ci, delong_test
from ecrs_analysis.stats.threshold import choose_threshold, operating_point

__all__ = ["auc_table", "paired_delong_table", "operating_table"]


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
    """Paired DeLong test of ``reference`` against each other model, per set."""
    rows = []
    for s in _sets(scores, sets):
        part = scores[scores["set"] == s]
        for m in others:
            t = delong_test(part["label"], part[reference], part[m], name=f"{reference} vs {m} on {s}")
            rows.append({"set": s, "comparison": f"{reference} vs {m}", "ΔAUC": t.difference, "CI low": t.ci_low, "CI high": t.ci_high, "Z": t.statistic, "p": t.p_value})
    return pd.DataFrame(rows).set_index(["set", "comparison"])


def operating_table(
    scores: pd.DataFrame,
    models: Sequence[str],
    *,
    threshold_set: str,
    sets: Sequence[str] | None = None,
    rule: str = "youden",
    target: float | None = None,
    fixed: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Sensitivity, specificity, accuracy, PPV, NPV (Wilson CIs) at the training-set threshold.

    Parameters
    ----------
    models : sequence of str
        Score columns; each gets the threshold ``rule`` chooses on ``threshold_set``.
    fixed : mapping of str to float, optional
        Score columns also reported at a published cut-off, chosen on no set, e.g.
        ``{"jesrec": clinical.JESREC_CUTOFF}``; their rows are labelled ``"jesrec ≥ 11"``.

    Returns
    -------
    DataFrame indexed by (model, set), with the ``threshold`` and how it was set (``rule``).
    """
    unknown = [c for c in (fixed or {}) if c not in scores]
    if unknown:
        raise ValueError(f"fixed thresholds for unknown score column(s) {unknown}; columns: {list(scores.columns)}")
    train = scores[scores["set"] == threshold_set]
    plans = [(m, m, choose_threshold(train["label"], train[m], rule=rule, target=target, name=f"{m} on {threshold_set}"), f"{rule} on {threshold_set}") for m in models]
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
