"""``ecrs summary``: the evidence of a finished run in one table, read from its artefacts.

One row per (model, set): whether the model learned, its AUC with the DeLong 95% CI, whether the
row's scores are ``in-sample`` (a model scoring patients it was fitted on: not evidence about new
patients), ``out-of-fold`` or ``held-out``, the ceiling it is compared with (image-only for a
CT-only model, latent for the integrated model) and, from the evaluation jobs' ceiling tables,
the paired difference AUC − ceiling with its paired DeLong 95% CI and the normalised share
(AUC − 0.5)/(ceiling − 0.5) with its paired bootstrap 95% CI (a ceiling is a population bound
estimated on each set, so a model can sit above it by chance), and MTLNet's Dice. Nothing is
computed that the run did not write: the rows come from the tables under
``results/<profile>/tables/``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ecrs_analysis.paths import ResultPaths

__all__ = ["evidence_summary", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = (
    "learned", "scores", "AUC", "CI low", "CI high", "ceiling", "ceiling AUC", "AUC − ceiling", "Δ low", "Δ high",
    "share above chance", "share low", "share high", "Dice",
)
"""Columns of :func:`evidence_summary` (index: model, set)."""

_NAN = float("nan")


def _read_ceiling(path: Path) -> pd.DataFrame | None:
    """A ceiling table (``evaluate.ceiling_table``) indexed by (set, model), or None when absent or a note."""
    if not path.exists():
        return None
    t = pd.read_csv(path)
    if "set" not in t or "model" not in t:
        return None
    return t.set_index(["set", "model"])


def _paired(ceiling: pd.DataFrame | None, s: str, m: str) -> dict[str, float]:
    if ceiling is None or (s, m) not in ceiling.index:
        return {"AUC − ceiling": _NAN, "Δ low": _NAN, "Δ high": _NAN, "share above chance": _NAN, "share low": _NAN, "share high": _NAN}
    r = ceiling.loc[(s, m)]
    return {"AUC − ceiling": r["ΔAUC (model − ceiling)"], "Δ low": r["ΔAUC low"], "Δ high": r["ΔAUC high"],
            "share above chance": r["share of ceiling above chance"], "share low": r["share low"], "share high": r["share high"]}


def _auc_rows(aucs: pd.DataFrame, models: list[str], *, ceiling_model: str, learned: dict[str, bool], ceiling: pd.DataFrame | None, in_sample: tuple[str, ...] = ()) -> list[dict]:
    rows = []
    for (s, m), r in aucs.iterrows():
        if m not in models:
            continue
        c = aucs.loc[(s, ceiling_model), "AUC"] if (s, ceiling_model) in aucs.index else _NAN
        origin = r["scores"] if "scores" in aucs and isinstance(r.get("scores"), str) else ("in-sample" if m in in_sample and s == "train" else "")
        rows.append({"model": m, "set": s, "learned": learned.get(m, True), "scores": origin, "AUC": r["AUC"], "CI low": r["DeLong low"], "CI high": r["DeLong high"],
                     "ceiling": ceiling_model, "ceiling AUC": c, **_paired(ceiling, s, m)})
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
    rows = _auc_rows(deep, cnns, ceiling_model=image, learned=learned, ceiling=_read_ceiling(paths.performance("li2025", "deep", "ceiling")))
    integrated = pd.read_csv(needed["integrated AUC"], index_col=[0, 1])
    rows += _auc_rows(integrated, ["integrated", "integrated (out-of-fold)"], ceiling_model="true_prob", learned={},
                      ceiling=_read_ceiling(paths.performance("li2025", "integrated", "ceiling")), in_sample=("integrated",))
    mt = pd.read_csv(needed["MTLNet"], index_col=[0, 1])
    mt_learned = bool(pd.read_csv(needed["MTLNet learning"]).iloc[0]["learned"])
    mt_ceiling = _read_ceiling(paths.performance("mtlnet2025", "mtlnet", "ceiling_test"))
    for s in dict.fromkeys(s for s, _ in mt.index):
        auc = mt.loc[(s, "AUC")] if (s, "AUC") in mt.index else None
        ceiling = auc.get("image ceiling", _NAN) if auc is not None else _NAN
        low, _, high = (str(auc["95% CI"]).partition("–") if auc is not None else ("nan", "", "nan"))
        value = float(auc["reproduced"]) if auc is not None else _NAN
        origin = ""
        if mt_ceiling is not None and (s, "mtlnet") in mt_ceiling.index and "scores" in mt_ceiling:
            origin = str(mt_ceiling.loc[(s, "mtlnet"), "scores"])
        rows.append({"model": "mtlnet", "set": s, "learned": mt_learned, "scores": origin, "AUC": value, "CI low": pd.to_numeric(low, errors="coerce"),
                     "CI high": pd.to_numeric(high, errors="coerce"), "ceiling": "image_prob", "ceiling AUC": ceiling, **_paired(mt_ceiling, s, "mtlnet"),
                     "Dice": float(mt.loc[(s, "Dice"), "reproduced"]) if (s, "Dice") in mt.index else _NAN})
    out = pd.DataFrame(rows)
    for c in SUMMARY_COLUMNS:
        if c not in out:
            out[c] = _NAN
    out = out.set_index(["model", "set"])[list(SUMMARY_COLUMNS)]
    out["scores"] = out["scores"].fillna("").astype(str).replace({"nan": ""})
    return out.round(3)
