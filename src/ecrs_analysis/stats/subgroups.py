"""AUC with DeLong 95% CI within subgroups (sex, centre, age band) on each set: TRIPOD+AI's fairness item.

A subgroup with fewer than two cases or two controls has no DeLong CI; it is reported with
its counts and a note instead of being dropped, so the reader sees every group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ecrs_analysis.stats.delong import delong_ci

__all__ = ["age_bands", "subgroup_columns", "subgroup_auc_table"]


def age_bands(age: pd.Series, *, edges: Sequence[float] = (40, 60)) -> pd.Series:
    """Age in bands: ``<40``, ``40–59``, ``≥60`` for the default edges (missing age stays missing).

    >>> age_bands(pd.Series([25, 40, 59.5, 60, None])).tolist()
    ['<40', '40–59', '40–59', '≥60', nan]
    """
    e = sorted(float(x) for x in edges)
    if not e:
        raise ValueError("age_bands needs at least one edge")
    names = [f"<{e[0]:g}"] + [f"{a:g}–{b - 1:g}" for a, b in zip(e[:-1], e[1:])] + [f"≥{e[-1]:g}"]
    codes = np.searchsorted(e, age.to_numpy(dtype=float), side="right")
    out = pd.Series([names[c] for c in codes], index=age.index, dtype=object)
    return out.where(age.notna())


def subgroup_columns(cohort: pd.DataFrame, *, age_edges: Sequence[float] = (40, 60)) -> pd.DataFrame:
    """The subgroups a cohort table defines: ``sex`` (from ``sex_male``), ``centre``, ``age band``.

    Columns the cohort lacks are left out; returns ``patient_id`` plus one column per subgroup.
    """
    out = pd.DataFrame({"patient_id": cohort["patient_id"].astype(str)})
    if "sex_male" in cohort:
        out["sex"] = cohort["sex_male"].map({1: "male", 0: "female"})
    if "center" in cohort:
        out["centre"] = cohort["center"].astype(str)
    if "age" in cohort:
        out["age band"] = age_bands(cohort["age"], edges=age_edges)
    return out


def subgroup_auc_table(
    scores: pd.DataFrame,
    groups: pd.DataFrame,
    *,
    score: str,
    sets: Sequence[str] | None = None,
    level: float = 0.95,
    order: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """AUC of ``score`` in every subgroup of every set, with DeLong CI.

    Parameters
    ----------
    scores : DataFrame
        One row per patient: ``patient_id``, ``set``, ``label`` and the ``score`` column.
    groups : DataFrame
        ``patient_id`` and one column per grouping (:func:`subgroup_columns`).
    score : str
        The score column to evaluate.
    sets : sequence of str, optional
        Sets in the order shown (default: as they appear).
    order : mapping, optional
        Order of the levels of a grouping; default sorted.

    Returns
    -------
    DataFrame indexed by (set, subgroup, level) with ``n``, ``cases``, ``controls``, ``AUC``,
    ``CI low``, ``CI high`` and ``note``; the level ``all`` of subgroup ``all`` is the whole set.
    Patients without a value for a grouping are counted under the level ``missing``.
    """
    if score not in scores:
        raise ValueError(f"score column {score!r} not in the score table; columns: {list(scores.columns)}")
    merged = scores[["patient_id", "set", "label", score]].astype({"patient_id": str}).merge(groups.astype({"patient_id": str}), on="patient_id", how="left", validate="one_to_one")
    names = [c for c in groups.columns if c != "patient_id"]
    rows = []
    for s in list(sets) if sets is not None else list(dict.fromkeys(merged["set"])):
        part = merged[merged["set"] == s]
        blocks = [("all", "all", part)]
        for g in names:
            lv = part[g].fillna("missing")
            levels = list((order or {}).get(g, sorted(lv.unique(), key=str)))
            blocks += [(g, level_, part[lv == level_]) for level_ in levels if (lv == level_).any()]
        for g, level_, sub in blocks:
            y = sub["label"].to_numpy()
            cases, controls = int((y == 1).sum()), int((y == 0).sum())
            row = {"set": s, "subgroup": g, "level": level_, "n": len(sub), "cases": cases, "controls": controls,
                   "AUC": np.nan, "CI low": np.nan, "CI high": np.nan, "note": ""}
            if cases < 2 or controls < 2:
                row["note"] = f"too few cases or controls ({cases}/{controls}) for an AUC with CI"
            else:
                d = delong_ci(y, sub[score].to_numpy(dtype=float), level=level, name=f"{score} on {s}, {g} {level_}")
                row.update({"AUC": d.auc, "CI low": d.ci_low, "CI high": d.ci_high})
            rows.append(row)
    return pd.DataFrame(rows).set_index(["set", "subgroup", "level"])
