"""The proteomics chapter's steps: who is compared, which data, and how well planted signal is recovered.

The first study compared patients the integrated model PREDICTED as eCRS with those it
predicted as non-eCRS.  :func:`predicted_calls` reproduces that: the integrated score
is thresholded at the operating point chosen on the training set, and every patient
gets a call.  The true endotype (``label``) is the second comparison.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ecrs_analysis.atomic import write_csv
from ecrs_analysis.data.splits import TRAIN
from ecrs_analysis.omics.differential import differential_abundance, dysregulated, welch_test
from ecrs_analysis.omics.enrichment import over_representation, prerank, ranking_from_table
from ecrs_analysis.omics.io import ProteomicsData, load_proteomics
from ecrs_analysis.omics.settings import OmicsSettings
from ecrs_analysis.omics.synth import simulate_proteomics, write_synthetic
from ecrs_analysis.stats.threshold import choose_threshold

__all__ = [
    "OmicsNotAvailable", "Calls", "predicted_calls", "choose_patients", "OmicsInputs", "load_inputs", "sample_table", "planted_recovery", "pathway_rank",
    "Comparison", "compare", "write_comparison", "limma_vs_welch", "omics_folder", "planted_pathway_ranks", "summary_table",
]


class OmicsNotAvailable(ValueError):
    """The cohort has no proteomics (no user files, no generator truth to simulate them from).

    The proteomics job (``jobs.analysis.proteomics_job``) records the reason, and the chapter
    is then published as a page that gives it (``jobs.skip.ChapterSkipped``).
    """


@dataclass(frozen=True)
class Calls:
    """Per-patient predicted endotype at the training-set threshold."""

    table: pd.DataFrame
    """patient_id, set, label, integrated, predicted (0/1)."""
    threshold: float


def predicted_calls(scores: pd.DataFrame, *, rule: str = "youden", target: float | None = None, score: str = "integrated", train_set: str = TRAIN) -> Calls:
    """Threshold ``scores[score]`` at the training-set operating point (``choose_threshold``).

    ``scores`` is ``scores_integrated.csv``: patient_id, set, label, integrated, ...
    A patient is predicted eCRS when ``score >= threshold``.
    """
    need = {"patient_id", "set", "label", score}
    missing = need - set(scores.columns)
    if missing:
        raise ValueError(f"score table lacks column(s) {sorted(missing)}; expected scores_integrated.csv with {sorted(need)}")
    train = scores[scores["set"] == train_set]
    if train.empty:
        raise ValueError(f"no rows with set == {train_set!r} in the score table (sets present: {sorted(scores['set'].unique())})")
    thr = choose_threshold(train["label"].to_numpy(), train[score].to_numpy(), rule=rule, target=target)
    t = scores[["patient_id", "set", "label", score]].copy()
    t["patient_id"] = t["patient_id"].astype(str)
    t["predicted"] = (t[score] >= thr).astype(int)
    return Calls(t.reset_index(drop=True), thr)


def choose_patients(calls: pd.DataFrame, n: int, *, seed: int, by: str = "predicted") -> list[str]:
    """A seeded subset of ``n`` patients, stratified by ``calls[by]`` (at least 3 per group).

    Deterministic: the same calls, ``n`` and ``seed`` give the same patients.
    """
    if n > len(calls):
        raise ValueError(f"asked for {n} patients with proteomics but the cohort has {len(calls)}; lower omics.synthetic.n_patients")
    rng = np.random.default_rng([seed, 11])
    t = calls.sort_values("patient_id", kind="stable")
    groups = {k: list(v["patient_id"]) for k, v in t.groupby(by, sort=True)}
    if len(groups) < 2:
        raise ValueError(f"every patient has the same {by!r} call; no comparison is possible")
    share = {k: len(v) / len(t) for k, v in groups.items()}
    take = {k: max(3, int(round(n * share[k]))) for k in groups}
    over = sum(take.values()) - n
    biggest = max(take, key=take.get)  # type: ignore[arg-type]
    take[biggest] -= over
    chosen: list[str] = []
    for k, ids in groups.items():
        if take[k] > len(ids):
            raise ValueError(f"only {len(ids)} patients with {by} = {k}; cannot draw {take[k]}")
        chosen += list(rng.choice(ids, size=take[k], replace=False))
    return sorted(chosen)


@dataclass(frozen=True)
class OmicsInputs:
    """Proteomics data of the chapter and, on synthetic data, what was planted."""

    data: ProteomicsData
    synthetic: bool
    planted: pd.DataFrame | None
    planted_pathways: tuple[str, ...]


def load_inputs(settings: OmicsSettings, *, seed: int, calls: pd.DataFrame, cohort_ids: list[str], truth: pd.DataFrame | None, folder: str | os.PathLike[str]) -> OmicsInputs:
    """The user's files (``settings.proteins`` + ``sample_sheet``), else synthetic proteomics.

    Synthetic data need the cohort's ``truth.csv`` (latent per patient); they are written to
    ``folder`` as a protein x sample matrix and sample sheet and read back through the same
    validation as a user's files.
    """
    if settings.proteins:
        data = load_proteomics(settings.proteins, settings.sample_sheet, known_patients=cohort_ids, intensity_prefix=settings.intensity_prefix)
        return OmicsInputs(data, False, None, ())
    if truth is None:
        raise OmicsNotAvailable(
            "this cohort has no proteomics: omics.proteins is null, and a real cohort has no generator ground truth to simulate "
            "proteomics from; give a MaxQuant proteinGroups.txt or a protein x sample table with --set omics.proteins=... "
            "and omics.sample_sheet=... to run it"
        )
    ids = choose_patients(calls, settings.synthetic.n_patients, seed=seed)
    latent = truth.assign(patient_id=truth["patient_id"].astype(str)).set_index("patient_id")["latent"].reindex(ids)
    if latent.isna().any():
        raise ValueError(f"truth.csv has no latent value for patient(s) {list(latent.index[latent.isna()])[:5]}")
    sim = simulate_proteomics(latent, seed=seed, batches=settings.synthetic.batches, effect_scale=settings.synthetic.effect_scale)
    folder = write_synthetic(sim, folder)
    data = load_proteomics(folder / "proteins.csv", folder / "samples.csv", known_patients=cohort_ids)
    planted = pd.read_csv(folder / "planted.csv")
    return OmicsInputs(data, True, planted, sim.planted_pathways)


def sample_table(data: ProteomicsData, calls: pd.DataFrame, cohort: pd.DataFrame, *, columns: tuple[str, ...] = ("age", "sex_male")) -> pd.DataFrame:
    """Per sample: patient_id, predicted, label, batch (if any) and clinical covariates.

    Samples whose patient has no score are dropped (with their patient ids in ``attrs['dropped']``).
    """
    s = data.samples.copy()
    s["patient_id"] = s["patient_id"].astype(str)
    m = s.reset_index().merge(calls[["patient_id", "set", "label", "predicted"]], on="patient_id", how="left", validate="many_to_one")
    keep_cols = [c for c in columns if c in cohort.columns]
    m = m.merge(cohort[["patient_id", *keep_cols]].astype({"patient_id": str}), on="patient_id", how="left", validate="many_to_one")
    m = m.set_index("sample")
    dropped = m.index[m["predicted"].isna()].tolist()
    m = m[m["predicted"].notna()].astype({"predicted": int, "label": int})
    m.attrs["dropped"] = dropped
    return m


def planted_recovery(table: pd.DataFrame, genes: pd.Series, planted: pd.DataFrame, *, fdr: float = 0.05, min_abs_log2_fc: float = 0.0) -> dict[str, float]:
    """Recall and false discovery proportion of the planted proteins among the called ones.

    ``table`` is the differential-abundance table (index protein), ``genes`` the gene per
    protein.  Planted proteins that did not survive the valid-value filter count as missed.
    """
    called = dysregulated(table, fdr=fdr, min_abs_log2_fc=min_abs_log2_fc)
    called_genes = set(genes.reindex(table.index)[called.to_numpy()].astype(str))
    truth = set(planted["gene"].astype(str))
    tp = len(called_genes & truth)
    n_called = len(called_genes)
    return {
        "planted": len(truth),
        "planted_quantified": len(truth & set(genes.reindex(table.index).astype(str))),
        "called": n_called,
        "true_positives": tp,
        "recall": tp / len(truth) if truth else float("nan"),
        "false_discovery_proportion": (n_called - tp) / n_called if n_called else 0.0,
    }


def pathway_rank(table: pd.DataFrame, term: str) -> int | None:
    """1-based rank of ``term`` in an enrichment table (as sorted), or None if absent."""
    hits = np.flatnonzero(table["term"].to_numpy() == term)
    return int(hits[0]) + 1 if hits.size else None


def omics_folder(study_folder: str | os.PathLike[str]) -> Path:
    """``results/<profile>/li2025/omics``."""
    return Path(study_folder) / "omics"


@dataclass(frozen=True)
class Comparison:
    """One two-group comparison: limma table, Welch table, ORA and GSEA."""

    name: str
    groups: pd.Series
    table: pd.DataFrame
    """limma table with a ``gene`` column and ``dysregulated`` flag."""
    welch: pd.DataFrame
    ranking: pd.Series
    ora: pd.DataFrame
    gsea: pd.DataFrame
    gsea_result: object
    covariates: tuple[str, ...]

    @property
    def n_dysregulated(self) -> int:
        return int(self.table["dysregulated"].sum())


def compare(values: pd.DataFrame, samples: pd.DataFrame, by: str, *, settings: OmicsSettings, genes: pd.Series, seed: int) -> Comparison:
    """limma (group ``samples[by]`` = 1 vs 0, covariates from ``settings.covariates`` that the samples
    have), Welch t-test, ORA of the dysregulated proteins against all quantified ones, GSEA on the
    moderated t."""
    groups = samples[by].reindex(values.columns).astype(int)
    covs = tuple(c for c in settings.covariates if c in samples.columns and samples[c].nunique() > 1)
    cov = samples.loc[values.columns, list(covs)] if covs else None
    table = differential_abundance(values, groups, covariates=cov, trend=settings.trend)
    table.insert(0, "gene", genes.reindex(table.index).astype(str).to_numpy())
    table["dysregulated"] = dysregulated(table, fdr=settings.fdr, min_abs_log2_fc=settings.min_abs_log2_fc)
    welch = welch_test(values, groups)
    gene_sets = settings.gene_sets
    ranking = ranking_from_table(table, genes=table["gene"])
    ora = over_representation(table.loc[table["dysregulated"], "gene"], gene_sets, background=table["gene"])
    gsea, result = prerank(ranking, gene_sets, permutations=settings.permutations, seed=seed, min_size=settings.min_size, max_size=settings.max_size, return_result=True)
    return Comparison(by, groups, table, welch, ranking, ora, gsea, result, covs)


def write_comparison(comparison: Comparison, folder: str | os.PathLike[str]) -> list[Path]:
    """``de_<name>.csv`` (full table, Welch columns added), ``ora_<name>.csv``, ``gsea_<name>.csv``, atomically."""
    folder = Path(folder)
    full = comparison.table.join(comparison.welch.add_prefix("welch_"))
    return [
        write_csv(full.rename_axis("protein").reset_index(), folder / f"de_{comparison.name}.csv"),
        write_csv(comparison.ora, folder / f"ora_{comparison.name}.csv"),
        write_csv(comparison.gsea, folder / f"gsea_{comparison.name}.csv"),
    ]


def limma_vs_welch(comparison: Comparison, *, fdr: float) -> pd.DataFrame:
    """Proteins called at ``fdr`` by the moderated t and by Welch's t, and their overlap."""
    lim = comparison.table["fdr"] < fdr
    wel = comparison.welch["fdr"].reindex(comparison.table.index) < fdr
    both = lim & wel
    return pd.DataFrame(
        {"proteins called": [int(lim.sum()), int(wel.sum()), int(both.sum())]},
        index=pd.Index(["limma moderated t", "Welch t-test", "both"], name=f"FDR < {fdr:g}"),
    )


def planted_pathway_ranks(comparison: Comparison, pathways: tuple[str, ...]) -> pd.DataFrame:
    """Rank of each planted pathway in the GSEA and ORA tables of a comparison."""
    return pd.DataFrame(
        {"GSEA rank": [pathway_rank(comparison.gsea, p) for p in pathways], "ORA rank": [pathway_rank(comparison.ora, p) for p in pathways]},
        index=pd.Index(pathways, name="planted pathway"),
    )


def summary_table(comparisons: dict[str, Comparison], *, planted: pd.DataFrame | None, fdr: float, pathway: str) -> pd.DataFrame:
    """One row per comparison: dysregulated proteins, rank of ``pathway`` in GSEA, top pathway, recall of planted."""
    rows = []
    for name, c in comparisons.items():
        row = {"comparison": name, "dysregulated proteins": c.n_dysregulated, f"{pathway} (GSEA rank)": pathway_rank(c.gsea, pathway), "top GSEA pathway": c.gsea["term"].iloc[0] if len(c.gsea) else None}
        if planted is not None:
            row["recall of planted"] = planted_recovery(c.table, c.table["gene"], planted, fdr=fdr)["recall"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("comparison")
