"""Clinical signature and clinical comparators of the first study.

- Missing values: median (continuous) / mode (binary) imputation fitted on the training set
  only, with the number of imputed values per variable.
- Univariable logistic regression of every clinical variable (statsmodels): OR, 95% CI, p.
  Variables with p < ``alpha`` enter a multivariable model (ORs, CIs, p, VIF); its linear
  predictor, fitted on the training set, is the *clinical signature* for every set.
- Rules: the JESREC score (Tokunaga et al., Allergy 2015) and the CT ethmoid/maxillary
  (E/M) ratio (Meng et al. 2016) from the manifest's columns; blood eosinophil % alone.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

from ecrs_analysis.data.splits import TRAIN

__all__ = ["Imputer", "univariable", "ClinicalSignature", "fit_signature", "jesrec_score", "JESREC_CUTOFF", "em_ratio", "LOG_COLUMNS", "signature_columns", "clinical_scores", "COMPARATORS", "unavailable_comparators", "HELD_OUT", "out_of_fold_signature"]

JESREC_CUTOFF = 11.0
"""The published JESREC cut-off: eCRS when the score is >= 11 points (Tokunaga et al., Allergy 2015)."""

LOG_COLUMNS = ("total_ige", "blood_eos_pct", "blood_eos_count")
"""Right-skewed laboratory values modelled on the natural-log scale (OR per e-fold increase)."""


@dataclass(frozen=True)
class Imputer:
    """Median / mode imputation learned on the training set."""

    values: dict[str, float]
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def fit(cls, train: pd.DataFrame, columns: Sequence[str]) -> Imputer:
        values = {}
        for c in columns:
            x = pd.to_numeric(train[c], errors="coerce").dropna()
            if x.empty:
                raise ValueError(f"column {c!r} has no observed value in the training set")
            binary = set(x.unique()) <= {0, 1}
            values[c] = float(x.mode().iloc[0]) if binary else float(x.median())
        return cls(values)

    def transform(self, table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
        """A copy with missing values filled, and the count filled per column."""
        out = table.copy()
        counts = {}
        for c, v in self.values.items():
            x = pd.to_numeric(out[c], errors="coerce")
            counts[c] = int(x.isna().sum())
            out[c] = x.fillna(v)
        return out, counts


def _design(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    x = table[list(columns)].astype(float).copy()
    for c in columns:
        if c in LOG_COLUMNS:
            x[c] = np.log(x[c].clip(lower=1e-3))
    return x


def _fit(y: np.ndarray, x: pd.DataFrame):
    return sm.Logit(y, sm.add_constant(x, has_constant="add")).fit(disp=0, maxiter=200)


def univariable(train: pd.DataFrame, columns: Sequence[str], *, label: str = "label") -> pd.DataFrame:
    """One logistic regression per variable on the training set: OR, 95% CI, p.

    Variables in :data:`LOG_COLUMNS` enter as natural logs: their OR is per e-fold increase.
    """
    y = train[label].to_numpy()
    rows = []
    for c in columns:
        x = _design(train, [c])
        if x[c].nunique() < 2:
            rows.append({"variable": c, "OR": np.nan, "CI low": np.nan, "CI high": np.nan, "p": np.nan})
            continue
        r = _fit(y, x)
        lo, hi = np.exp(r.conf_int().loc[c])
        rows.append({"variable": c, "OR": float(np.exp(r.params[c])), "CI low": float(lo), "CI high": float(hi), "p": float(r.pvalues[c])})
    return pd.DataFrame(rows).set_index("variable")


@dataclass(frozen=True)
class ClinicalSignature:
    """The multivariable model whose linear predictor is the clinical signature."""

    variables: tuple[str, ...]
    params: pd.Series
    table: pd.DataFrame
    """ORs, CIs, p and VIF of the multivariable model."""
    imputer: Imputer

    def predict(self, table: pd.DataFrame) -> np.ndarray:
        """Linear predictor (log-odds of eCRS) for any set, using the training imputation."""
        filled, _ = self.imputer.transform(table)
        x = sm.add_constant(_design(filled, self.variables), has_constant="add")
        return np.asarray(x @ self.params.loc[x.columns])


def fit_signature(train: pd.DataFrame, columns: Sequence[str], *, alpha: float = 0.05, label: str = "label") -> tuple[ClinicalSignature, pd.DataFrame]:
    """Fit the clinical signature on the training set.

    Returns the signature and the univariable table (with an ``selected`` column).  When no
    variable passes ``alpha`` (no clinical signal, e.g. shuffled labels), the signature is the
    intercept-only model, the same score for every patient (AUC 0.5), with a warning naming ``alpha``.
    """
    imputer = Imputer.fit(train, columns)
    filled, counts = imputer.transform(train)
    imputer = Imputer(imputer.values, counts)
    uni = univariable(filled, columns, label=label)
    uni["selected"] = uni["p"] < alpha
    chosen = tuple(uni.index[uni["selected"]])
    if not chosen:
        warnings.warn(f"no clinical variable has univariable p < alpha={alpha}: the clinical signature is the intercept-only model (one score for every patient, AUC 0.5)", stacklevel=2)
    x = _design(filled, chosen)
    r = _fit(filled[label].to_numpy(), x)
    ci = np.exp(r.conf_int())
    xc = sm.add_constant(x, has_constant="add").to_numpy()
    vif = {c: float(variance_inflation_factor(xc, i + 1)) for i, c in enumerate(chosen)} if len(chosen) > 1 else {c: 1.0 for c in chosen}
    table = pd.DataFrame(
        {"OR": np.exp(r.params[list(chosen)]), "CI low": ci.loc[list(chosen), 0], "CI high": ci.loc[list(chosen), 1], "p": r.pvalues[list(chosen)], "VIF": pd.Series(vif)}
    ).rename_axis("variable")
    return ClinicalSignature(chosen, r.params, table, imputer), uni


def _need(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table]
    if missing:
        raise KeyError(f"{what} needs the manifest column(s) {missing}")


def _lm(table: pd.DataFrame, sinus: str) -> pd.Series:
    return table[f"lm_right_{sinus}"].astype(float) + table[f"lm_left_{sinus}"].astype(float)


def em_ratio(table: pd.DataFrame) -> pd.Series:
    """CT ethmoid/maxillary ratio: Lund-Mackay ethmoid score (anterior + posterior, both sides, 0-8)
    over maxillary score (both sides, 0-4).  A maxillary score of 0 counts as 0.5 so the ratio stays finite."""
    cols = [f"lm_{s}_{n}" for s in ("right", "left") for n in ("anterior_ethmoid", "posterior_ethmoid", "maxillary")]
    _need(table, cols, "the E/M ratio")
    e = _lm(table, "anterior_ethmoid") + _lm(table, "posterior_ethmoid")
    m = _lm(table, "maxillary")
    return (e / m.where(m > 0, 0.5)).rename("em_ratio")


def jesrec_score(table: pd.DataFrame) -> pd.Series:
    """JESREC score (0-17): bilateral disease 3, nasal polyps 2, ethmoid-dominant CT shadow 2, blood
    eosinophils >2-5% 4, >5-10% 8, >10% 10.  eCRS when >= :data:`JESREC_CUTOFF` (11).

    Ethmoid-dominant: ethmoid Lund-Mackay score (per sinus, averaged over anterior and posterior)
    at least the maxillary score, with some ethmoid disease.  Missing eosinophils count 0 points.
    """
    _need(table, ["bilateral_disease", "nasal_polyps", "blood_eos_pct"], "the JESREC score")
    eth = (_lm(table, "anterior_ethmoid") + _lm(table, "posterior_ethmoid")) / 2
    dominant = (eth >= _lm(table, "maxillary")) & (eth > 0)
    eos = pd.to_numeric(table["blood_eos_pct"], errors="coerce")
    eos_pts = np.select([eos > 10, eos > 5, eos > 2], [10, 8, 4], default=0)
    score = 3 * table["bilateral_disease"].fillna(0).astype(float) + 2 * table["nasal_polyps"].fillna(0).astype(float) + 2 * dominant.astype(float) + eos_pts
    return score.rename("jesrec")


_LM_EM = tuple(f"lm_{s}_{n}" for s in ("right", "left") for n in ("anterior_ethmoid", "posterior_ethmoid", "maxillary"))
COMPARATORS: dict[str, tuple[str, ...]] = {
    "jesrec": ("bilateral_disease", "nasal_polyps", "blood_eos_pct", *_LM_EM),
    "em_ratio": _LM_EM,
    "blood_eos_pct": ("blood_eos_pct",),
}
"""The clinical comparators of chapter 2 and the manifest columns each needs."""


def unavailable_comparators(columns: Sequence[str]) -> dict[str, str]:
    """Comparators that cannot be computed from these columns, with the reason (the columns they lack).

    A real cohort without Lund-Mackay scores or bilateral disease skips them, and says so.
    """
    have = set(columns)
    out = {}
    for name, need in COMPARATORS.items():
        missing = [c for c in need if c not in have]
        if missing:
            lm = [c for c in missing if c.startswith("lm_")]
            shown = [c for c in missing if not c.startswith("lm_")] + ([f"Lund-Mackay scores ({', '.join(lm)})"] if lm else [])
            out[name] = "needs the clinical column(s) " + "; ".join(shown)
    return out


def signature_columns(columns: Sequence[str]) -> list[str]:
    """Candidate variables of the clinical signature: clinical columns, not the CT Lund-Mackay scores."""
    return [c for c in columns if not c.startswith("lm_")]


HELD_OUT = "clinical_signature_held_out"
"""Score column of the clinical signature from a model not fitted on the patient: out-of-fold on the
training set (:func:`out_of_fold_signature`), the training-set signature on the test sets."""


def out_of_fold_signature(train: pd.DataFrame, columns: Sequence[str], *, folds: Sequence[int] | np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Out-of-fold clinical signature of every training patient: the whole fit (imputation, univariable
    selection at ``alpha``, multivariable model) repeated without each fold and applied to that fold.

    Thresholds chosen on these scores are chosen on patients the signature did not see, as a
    new patient will be (the in-sample linear predictor is tuned to its own patients).

    Parameters
    ----------
    train : DataFrame
        The training rows (``label`` and ``columns``).
    folds : array of int, one per row of ``train``
        The fold of each training patient (the CNNs' folds, ``training.folds.assign_folds``).
    """
    f = np.asarray(folds)
    if f.shape != (len(train),):
        raise ValueError(f"out_of_fold_signature: {f.size} fold numbers for {len(train)} training patients; give one per row")
    out = np.full(len(train), np.nan)
    for k in np.unique(f):
        inside = train[f != k]
        if inside["label"].nunique() < 2:
            raise ValueError(f"out_of_fold_signature: the training patients outside fold {k} hold one class only; use fewer folds (deep.folds)")
        with warnings.catch_warnings():  # an intercept-only fold model is said once by the full fit, not once per fold
            warnings.simplefilter("ignore", UserWarning)
            signature, _ = fit_signature(inside, columns, alpha=alpha)
        out[f == k] = signature.predict(train[f == k])
    return out


def clinical_scores(
    table: pd.DataFrame, columns: Sequence[str], *, train_set: str = TRAIN, alpha: float = 0.05, folds: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, ClinicalSignature, pd.DataFrame]:
    """Per-patient clinical scores for every set, the signature fitted on ``train_set`` only.

    ``folds`` (``patient_id``, ``fold`` of every training patient): adds the column :data:`HELD_OUT`,
    the out-of-fold signature on the training set (:func:`out_of_fold_signature`) and the
    training-set signature elsewhere, on which the operating threshold is chosen.

    Returns
    -------
    scores : DataFrame
        ``patient_id``, ``set``, ``label``, ``clinical_signature`` (log-odds),
        ``clinical_prob``, and the comparators the columns allow (:func:`unavailable_comparators`):
        ``jesrec``, ``em_ratio``, ``blood_eos_pct`` (imputed with the training median).
    signature, univariable : the fitted model and the univariable table.
    """
    train = table[table["set"] == train_set]
    if train.empty:
        raise ValueError(f"no patient in the training set {train_set!r}; sets: {sorted(table['set'].dropna().unique())}")
    signature, uni = fit_signature(train, signature_columns(columns), alpha=alpha)
    lp = signature.predict(table)
    scores = pd.DataFrame(
        {
            "patient_id": table["patient_id"].to_numpy(),
            "set": table["set"].to_numpy(),
            "label": table["label"].to_numpy(),
            "clinical_signature": lp,
            "clinical_prob": 1.0 / (1.0 + np.exp(-lp)),
        }
    )
    if folds is not None:
        fold_of = dict(zip(folds["patient_id"].astype(str), folds["fold"]))
        ids = train["patient_id"].astype(str)
        missing = sorted(set(ids) - set(fold_of))
        if missing:
            raise ValueError(f"clinical_scores: training patient(s) {missing[:5]} have no fold in the folds table; re-run the folds stage")
        held = lp.copy()
        held[(table["set"] == train_set).to_numpy()] = out_of_fold_signature(train, signature_columns(columns), folds=ids.map(fold_of).to_numpy(), alpha=alpha)
        scores[HELD_OUT] = held
    skipped = unavailable_comparators(columns)
    if "jesrec" not in skipped:
        scores["jesrec"] = jesrec_score(table).to_numpy()
    if "em_ratio" not in skipped:
        scores["em_ratio"] = em_ratio(table).to_numpy()
    if "blood_eos_pct" not in skipped:
        eos_median = float(pd.to_numeric(train["blood_eos_pct"], errors="coerce").median())
        scores["blood_eos_pct"] = pd.to_numeric(table["blood_eos_pct"], errors="coerce").fillna(eos_median).to_numpy()
    return scores, signature, uni
