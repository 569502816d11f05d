"""Pre-processing of label-free intensities as proteomics labs do it (the Perseus workflow).

1. drop MaxQuant's reverse (decoy), potential-contaminant and only-identified-by-site rows;
2. log2, with zeros treated as missing;
3. keep proteins with enough valid values per group;
4. median (centre every sample on the common median) or quantile normalisation
   (limma's ``normalizeQuantiles``, which handles missing values, through pylimma);
5. optionally impute what is still missing from a down-shifted normal distribution per
   sample (Perseus defaults: width 0.3 SD, shift 1.8 SD), seeded, recording what was imputed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pylimma import normalize_quantiles

from ecrs_analysis.omics.io import ProteomicsData

__all__ = ["PreprocessResult", "drop_flagged", "log2_intensities", "filter_valid", "normalize", "impute_downshift", "preprocess"]


def drop_flagged(data: ProteomicsData) -> ProteomicsData:
    """Remove reverse, contaminant and site-only protein groups (no-op for a plain matrix)."""
    flags = [c for c in ("reverse", "contaminant", "site_only") if c in data.proteins]
    if not flags:
        return data
    keep = ~data.proteins[flags].any(axis=1).to_numpy()
    return ProteomicsData(data.intensities[keep], data.proteins[keep], data.samples, data.source)


def log2_intensities(intensities: pd.DataFrame) -> pd.DataFrame:
    """log2 of linear intensities; 0 and NaN become NaN (missing)."""
    x = intensities.astype(float)
    return np.log2(x.where(x > 0))


def filter_valid(log2: pd.DataFrame, groups: pd.Series, *, min_fraction: float = 0.7, valid_in: str = "any") -> pd.DataFrame:
    """Keep proteins quantified in at least ``min_fraction`` of the samples of a group.

    Parameters
    ----------
    groups : Series
        Group of each sample (index = samples of ``log2``).
    valid_in : {"any", "each"}
        The rule must hold in at least one group (Perseus "in at least one group") or in
        every group.  Proteins are also required to have 2 values in each group, the
        least a two-group test needs.
    """
    if valid_in not in ("any", "each"):
        raise ValueError(f"valid_in must be 'any' or 'each', got {valid_in!r}")
    g = groups.reindex(log2.columns)
    if g.isna().any():
        raise ValueError(f"no group for sample(s) {list(g.index[g.isna()])[:5]}")
    valid = log2.notna()
    frac = valid.T.groupby(g.to_numpy()).mean().T
    count = valid.T.groupby(g.to_numpy()).sum().T
    rule = frac >= min_fraction - 1e-12
    keep = (rule.any(axis=1) if valid_in == "any" else rule.all(axis=1)) & (count >= 2).all(axis=1)
    return log2[keep.to_numpy()]


def normalize(log2: pd.DataFrame, *, method: str = "median") -> pd.DataFrame:
    """Between-sample normalisation of log2 intensities (NaN = missing).

    ``median``: subtract each sample's median and add back the median of the medians.
    ``quantile``: limma's ``normalizeQuantiles`` (pylimma port; missing values handled
    by interpolation as in R).  ``none`` returns a copy.
    """
    if method == "none":
        return log2.copy()
    if method == "median":
        med = log2.median(axis=0, skipna=True)
        return log2 - med + float(med.median())
    if method == "quantile":
        return pd.DataFrame(normalize_quantiles(log2.to_numpy(dtype=float)), index=log2.index, columns=log2.columns)
    raise ValueError(f"normalisation must be 'median', 'quantile' or 'none', got {method!r}")


def impute_downshift(log2: pd.DataFrame, *, width: float = 0.3, shift: float = 1.8, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill missing values per sample from ``N(mean - shift*sd, (width*sd)^2)`` (Perseus).

    Written here because no maintained Python library offers Perseus' rule; it is a few
    lines.  Returns the imputed matrix and a boolean mask of the imputed cells.
    """
    rng = np.random.default_rng(seed)
    out = log2.copy()
    mask = log2.isna()
    for col in log2.columns:
        obs = log2[col].dropna()
        n = int(mask[col].sum())
        if n == 0:
            continue
        if len(obs) < 2:
            raise ValueError(f"sample {col!r} has fewer than 2 values; cannot impute from its distribution")
        sd = float(obs.std(ddof=1))
        out.loc[mask[col], col] = rng.normal(float(obs.mean()) - shift * sd, width * sd, size=n)
    return out, mask


@dataclass(frozen=True)
class PreprocessResult:
    """Every stage of :func:`preprocess`, for QC figures."""

    log2_raw: pd.DataFrame
    """log2 intensities after flag removal and filtering, before normalisation."""
    normalized: pd.DataFrame
    """the matrix the tests use (normalised, and imputed if asked)."""
    imputed: pd.DataFrame
    """boolean mask of imputed cells (all False without imputation)."""
    proteins: pd.DataFrame
    steps: pd.DataFrame
    """proteins left after each step."""

    @property
    def share_imputed(self) -> float:
        return float(self.imputed.to_numpy().mean()) if self.imputed.size else 0.0


def preprocess(
    data: ProteomicsData,
    groups: pd.Series,
    *,
    min_fraction: float = 0.7,
    valid_in: str = "any",
    method: str = "median",
    impute: bool = False,
    impute_width: float = 0.3,
    impute_shift: float = 1.8,
    seed: int = 0,
) -> PreprocessResult:
    """Flags -> log2 -> valid-value filter -> normalisation -> optional imputation.

    ``groups`` (index = samples) defines the groups of the valid-value filter; samples
    without a group are dropped.
    """
    steps = [("read", data.n_proteins)]
    data = drop_flagged(data)
    steps.append(("reverse/contaminant/site-only removed", data.n_proteins))
    g = groups.dropna()
    log2 = log2_intensities(data.intensities[[c for c in data.intensities.columns if c in g.index]])
    log2 = log2[log2.notna().any(axis=1)]
    steps.append(("quantified in at least one sample", len(log2)))
    log2 = filter_valid(log2, g, min_fraction=min_fraction, valid_in=valid_in)
    steps.append((f"valid values >= {min_fraction:.0%} in {valid_in} group", len(log2)))
    if log2.empty:
        raise ValueError("no protein passes the valid-value filter; lower omics.min_valid_fraction or use valid_in='any'")
    norm = normalize(log2, method=method)
    if impute:
        norm, mask = impute_downshift(norm, width=impute_width, shift=impute_shift, seed=seed)
    else:
        mask = pd.DataFrame(False, index=norm.index, columns=norm.columns)
    table = pd.DataFrame(steps, columns=["step", "proteins"])
    return PreprocessResult(log2_raw=log2, normalized=norm, imputed=mask, proteins=data.proteins.loc[log2.index], steps=table)
