"""Values the two studies reported, for side-by-side comparison in the book (never used in computation)."""

from __future__ import annotations

import pandas as pd

from ecrs_analysis.data.splits import EXTERNAL, EXTERNAL_TEST, INTERNAL_TEST, TRAIN, VALIDATION

__all__ = ["LI2025_REPORTED", "LI2025_PROTEOMICS", "MTLNET_REPORTED", "reported_table", "reported_vs_reproduced"]

# Li et al., Int Forum Allergy Rhinol 2025 (doi 10.1002/alr.23595): integrated model.
LI2025_REPORTED = {
    INTERNAL_TEST: {"AUC": 0.851, "CI low": 0.77, "CI high": 0.93},
    EXTERNAL_TEST: {"AUC": 0.821, "CI low": 0.78, "CI high": 0.86},
}
# Same paper, proteomics of patients predicted eCRS vs non-eCRS by the integrated model.
LI2025_PROTEOMICS: dict[str, int | str] = {
    "patients": 34,
    "dysregulated": 594,  # proteins/genes dysregulated between the predicted groups
    "pathway_claim": "enriched pathways such as chemokine signalling",
}
# MTLNet: training / validation / temporal external (172 / 41 / 44 patients); set names as the temporal split's.
MTLNET_REPORTED = {
    TRAIN: {"Dice": 0.913, "AUC": 0.871},
    VALIDATION: {"Dice": 0.887, "AUC": 0.770},
    EXTERNAL: {"Dice": 0.898, "AUC": 0.818, "sensitivity": 0.727, "specificity": 0.788},
}


def reported_table(reported: dict[str, dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(reported).T.rename_axis("set")


def reported_vs_reproduced(
    reported: dict[str, dict[str, float]], reproduced: pd.DataFrame, *, ceiling: pd.DataFrame | None = None, learned: bool = True,
) -> pd.DataFrame:
    """The paper's numbers beside ours and, for AUC, the synthetic cohort's ceiling.

    Parameters
    ----------
    reported : dict
        ``{set: {metric: value}}`` (e.g. :data:`MTLNET_REPORTED`; metric names as in ``reproduced``,
        case-insensitive).
    reproduced : DataFrame
        Indexed by ``(set, metric)`` with ``value``, ``CI low``, ``CI high``
        (:func:`ecrs_analysis.stats.evaluate.headline_metrics`).
    ceiling : DataFrame, optional
        :func:`ecrs_analysis.data.study.ceiling_auc`: both ceilings by set (latent and image-only).
    learned : bool
        False for a classifier that failed the did-it-learn check: its classification metrics
        are shown as missing, never as numbers.

    Returns
    -------
    DataFrame
        Rows ``(set, metric)`` of every reported value: ``reported``, ``reproduced``,
        ``95% CI``, the ceilings (AUC rows only: ``latent ceiling`` and, when the cohort has
        it, ``image ceiling``) and ``difference`` (reproduced - reported).
    """
    from ecrs_analysis.report.claims import CLASSIFICATION_METRICS  # lazy: loads scipy
    from ecrs_analysis.data.study import IMAGE_CEILING, LATENT_CEILING  # lazy: loads SimpleITK, scipy

    ours = {(s, m.lower()): r for (s, m), r in reproduced.iterrows()}
    rows = []
    for set_name, metrics in reported.items():
        for metric, value in metrics.items():
            r = ours.get((set_name, metric.lower()))
            if not learned and metric.lower() in CLASSIFICATION_METRICS:
                r = None
            row = {
                "set": set_name,
                "metric": metric,
                "reported": value,
                "reproduced": float(r["value"]) if r is not None else float("nan"),
                "95% CI": f"{r['CI low']:.3f}–{r['CI high']:.3f}" if r is not None else ("did not learn" if not learned and metric.lower() in CLASSIFICATION_METRICS else ""),
            }
            for column, label in ((LATENT_CEILING, "latent ceiling"), (IMAGE_CEILING, "image ceiling")):
                if ceiling is not None and column in ceiling:
                    row[label] = float(ceiling.loc[set_name, column]) if (metric == "AUC" and set_name in ceiling.index) else float("nan")
            row["difference"] = float(r["value"]) - value if r is not None else float("nan")
            rows.append(row)
    return pd.DataFrame(rows).set_index(["set", "metric"])
