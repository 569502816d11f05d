"""``ecrs summary``: the evidence of a finished run in one table, read from its artefacts.

One row per (model, set): whether the model learned, its AUC with the 95% CI, the ceiling it is
compared with (image-only for a CT-only model, latent for the integrated model), the share of
that ceiling reached, and MTLNet's Dice.  Nothing is computed that the run did not write: the
rows come from the evaluation jobs' tables under ``results/<profile>/tables/``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ecrs_analysis.paths import ResultPaths

__all__ = ["evidence_summary"]


def _auc_rows(aucs: pd.DataFrame, models: list[str], *, ceiling_model: str, learned: dict[str, bool]) -> list[dict]:
    rows = []
    for (s, m), r in aucs.iterrows():
        if m not in models:
            continue
        ceiling = aucs.loc[(s, ceiling_model), "AUC"] if (s, ceiling_model) in aucs.index else float("nan")
        rows.append({"model": m, "set": s, "learned": learned.get(m, True), "AUC": r["AUC"], "CI low": r["DeLong low"], "CI high": r["DeLong high"],
                     "ceiling": ceiling_model, "ceiling AUC": ceiling, "share of ceiling": r["AUC"] / ceiling if ceiling == ceiling else float("nan")})
    return rows


def evidence_summary(results: str | Path) -> pd.DataFrame:
    """The headline evidence of a run (see the module docstring); raises FileNotFoundError naming what is missing."""
    paths = ResultPaths(Path(results))
    needed = {
        "deep learning": paths.performance("li2025", "deep", "learning"), "deep AUC": paths.performance("li2025", "deep", "auc"),
        "integrated AUC": paths.performance("li2025", "integrated", "auc"), "MTLNet": paths.performance("mtlnet2025", "mtlnet", "reported_vs_reproduced"),
        "MTLNet learning": paths.performance("mtlnet2025", "mtlnet", "learning"),
    }
    absent = [f"{k} ({p})" for k, p in needed.items() if not p.exists()]
    if absent:
        raise FileNotFoundError(f"{results}: no finished run here (missing {', '.join(absent)}); run `ecrs run --profile <profile>` first")
    learning = pd.read_csv(needed["deep learning"], index_col=0)
    learned = {m: r["learned"] == "yes" for m, r in learning.iterrows()}
    deep = pd.read_csv(needed["deep AUC"], index_col=[0, 1])
    cnns = list(learning.index)
    image = "image_prob" if any(m == "image_prob" for _, m in deep.index) else "true_prob"
    rows = _auc_rows(deep, cnns, ceiling_model=image, learned=learned)
    rows += _auc_rows(pd.read_csv(needed["integrated AUC"], index_col=[0, 1]), ["integrated"], ceiling_model="true_prob", learned={})
    mt = pd.read_csv(needed["MTLNet"], index_col=[0, 1])
    mt_learned = bool(pd.read_csv(needed["MTLNet learning"]).iloc[0]["learned"])
    for s in dict.fromkeys(s for s, _ in mt.index):
        auc = mt.loc[(s, "AUC")] if (s, "AUC") in mt.index else None
        ceiling = auc.get("image ceiling", float("nan")) if auc is not None else float("nan")
        low, _, high = (str(auc["95% CI"]).partition("–") if auc is not None else ("nan", "", "nan"))
        value = float(auc["reproduced"]) if auc is not None else float("nan")
        rows.append({"model": "mtlnet", "set": s, "learned": mt_learned, "AUC": value, "CI low": pd.to_numeric(low, errors="coerce"),
                     "CI high": pd.to_numeric(high, errors="coerce"), "ceiling": "image_prob", "ceiling AUC": ceiling,
                     "share of ceiling": value / ceiling if ceiling == ceiling else float("nan"),
                     "Dice": float(mt.loc[(s, "Dice"), "reproduced"]) if (s, "Dice") in mt.index else float("nan")})
    return pd.DataFrame(rows).set_index(["model", "set"]).round(3)
