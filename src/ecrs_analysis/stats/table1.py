"""Table 1: baseline characteristics by group with the appropriate test for each variable.

Continuous variables are shown as mean ± SD when every group passes a Shapiro-Wilk test
(alpha 0.05) and compared by Welch's t-test (two groups) or one-way ANOVA; otherwise as
median [IQR] and compared by Mann-Whitney U or Kruskal-Wallis.  Binary variables are shown
as n (%) and compared by Pearson's chi-squared test, or Fisher's exact test for a 2x2
table with an expected count below 5.  All tests come from scipy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["infer_kinds", "table_one"]


def infer_kinds(table: pd.DataFrame, columns: Sequence[str]) -> dict[str, str]:
    """'binary' for columns whose observed values are within {0, 1}, else 'continuous'."""
    kinds = {}
    for c in columns:
        values = pd.to_numeric(table[c], errors="coerce").dropna().unique()
        kinds[c] = "binary" if len(values) and set(values) <= {0, 1} else "continuous"
    return kinds


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _continuous(groups: list[np.ndarray], alpha: float) -> tuple[list[str], float, str]:
    normal = all(len(g) >= 3 and (len(g) > 5000 or stats.shapiro(g).pvalue > alpha) for g in groups)
    usable = [g for g in groups if len(g) >= 2]
    if normal:
        cells = [f"{g.mean():.1f} ± {g.std(ddof=1):.1f}" for g in groups]
        if len(usable) < 2:
            return cells, float("nan"), "—"
        if len(usable) == 2:
            return cells, float(stats.ttest_ind(*usable, equal_var=False).pvalue), "Welch t"
        return cells, float(stats.f_oneway(*usable).pvalue), "ANOVA"
    cells = [f"{np.median(g):.1f} [{np.percentile(g, 25):.1f}, {np.percentile(g, 75):.1f}]" if len(g) else "—" for g in groups]
    if len(usable) < 2:
        return cells, float("nan"), "—"
    if len(usable) == 2:
        return cells, float(stats.mannwhitneyu(*usable, alternative="two-sided").pvalue), "Mann-Whitney U"
    return cells, float(stats.kruskal(*usable).pvalue), "Kruskal-Wallis"


def _binary(groups: list[np.ndarray]) -> tuple[list[str], float, str]:
    cells = [f"{int(g.sum())} ({100 * g.mean():.1f}%)" if len(g) else "—" for g in groups]
    counts = np.array([[g.sum(), len(g) - g.sum()] for g in groups if len(g)], dtype=float)
    counts = counts[:, counts.sum(axis=0) > 0]
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return cells, float("nan"), "—"
    expected = stats.contingency.expected_freq(counts)
    if counts.shape == (2, 2) and expected.min() < 5:
        return cells, float(stats.fisher_exact(counts).pvalue), "Fisher exact"
    return cells, float(stats.chi2_contingency(counts).pvalue), "χ²"


def table_one(
    table: pd.DataFrame,
    *,
    by: str,
    variables: Sequence[str],
    kinds: dict[str, str] | None = None,
    order: Sequence[str] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Baseline characteristics of ``variables`` by the groups in column ``by``.

    Parameters
    ----------
    table : DataFrame
        One row per patient.
    by : str
        Grouping column (e.g. the set or the label).
    variables : sequence of str
        Columns to describe.
    kinds : dict, optional
        Column -> 'binary' or 'continuous'; inferred by :func:`infer_kinds` when omitted.
    order : sequence, optional
        Group order (default: sorted).
    alpha : float
        Shapiro-Wilk level used to choose mean ± SD or median [IQR].

    Returns
    -------
    DataFrame
        Index = variable, columns = groups, then ``p`` and ``test``; a first row ``n``
        and, where values are missing, a ``missing`` column.
    """
    if by not in table:
        raise KeyError(f"grouping column {by!r} not in the table")
    kinds = kinds or infer_kinds(table, variables)
    groups = list(order) if order is not None else sorted(table[by].dropna().unique())
    rows = {"n": [str(int((table[by] == g).sum())) for g in groups] + ["", "", ""]}
    for v in variables:
        values = pd.to_numeric(table[v], errors="coerce")
        data = [values[table[by] == g].dropna().to_numpy(dtype=float) for g in groups]
        if kinds[v] == "binary":
            cells, p, test = _binary(data)
            label = f"{v}, n (%)"
        else:
            cells, p, test = _continuous(data, alpha)
            label = v
        n_missing = int(values[table[by].isin(groups)].isna().sum())
        rows[label] = cells + [_fmt_p(p), test, str(n_missing) if n_missing else ""]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=[str(g) for g in groups] + ["p", "test", "missing"])
    if not (out["missing"] != "").any():
        out = out.drop(columns="missing")
    return out.rename_axis("variable")
