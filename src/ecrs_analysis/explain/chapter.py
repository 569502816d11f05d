"""What notebook 06 calls: one function per table, figure and 3D view of the explanation chapter."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ecrs_analysis.atomic import write_csv
from ecrs_analysis.data import study as S
from ecrs_analysis.explain.mesh import Surface, surface
from ecrs_analysis.explain.metrics import summarise_attention, summarise_sanity
from ecrs_analysis.explain.run import Explanation, deep_networks, explain_study, mtlnet_network
from ecrs_analysis.explain.settings import ExplainSettings
from ecrs_analysis.explain.views import CaseView, case_view, pick_examples

__all__ = ["explain_li2025", "explain_mtlnet", "status", "attention_table", "formatted", "outcome_table", "sanity_table", "example_views", "reconstruction"]

SURFACE_COLOURS = {"sinuses (ground truth)": "#f2c14e", "lesion ROI": "#4cc9f0", "attention": "#d62828"}


def explain_li2025(cfg: dict[str, Any], paths: S.ResultPaths, *, progress: bool = True) -> Explanation:
    """Maps of the first study's CNNs (all folds) for the chosen test patients, with their measurements."""
    networks = deep_networks(cfg, paths)
    scores_file = S.scores_path(paths, "li2025", "deep")
    if not networks or not scores_file.exists():
        what = "checkpoints (li2025/deep/<model>/fold<k>/best.pt)" if not networks else f"test scores ({scores_file.name})"
        return Explanation("li2025", paths.study("li2025") / "explain", missing=f"the first study's {what} are not in {paths.root}: run the training stage first")
    study = S.load_study(cfg, "li2025", paths)
    scores = pd.read_csv(scores_file, dtype={"patient_id": str})
    return explain_study(cfg, paths, study, networks, scores=scores, progress=progress)


def explain_mtlnet(cfg: dict[str, Any], paths: S.ResultPaths, *, progress: bool = True) -> Explanation:
    """Maps of MTLNet's classification head, or an empty explanation saying that MTLNet was not trained."""
    net = mtlnet_network(cfg, paths)
    if net is None:
        return Explanation("mtlnet2025", paths.study("mtlnet2025") / "explain", missing="MTLNet has not been trained in this run (no mtlnet2025/mtlnet/best.pt), so its section is skipped")
    study = S.load_study(cfg, "mtlnet2025", paths)
    return explain_study(cfg, paths, study, [net], progress=progress)


def status(expl: Explanation) -> str:
    """One line for the reader: what was explained, or why nothing was."""
    if not expl.ok:
        return f"**Skipped:** {expl.missing}."
    e = expl.explained
    per = e.groupby("model")["patient_id"].nunique()
    folds = {n.name: len(n.checkpoints) for n in expl.networks}
    parts = [f"{m}: {int(per.get(m, 0))} patients × {folds[m]} fold network(s)" for m in folds]
    return f"Explained test patients ({expl.study}): " + "; ".join(parts) + "."


def attention_table(expl: Explanation, cfg: dict[str, Any], *, by_outcome: bool = False) -> pd.DataFrame:
    """Pointing game and energy share (mean, 95% bootstrap CI) per model, region and map; written to tables/."""
    by = ["model", "region", "map"] + (["outcome"] if by_outcome else [])
    summary = summarise_attention(expl.metrics, by=by, n_resamples=int(cfg["stats"]["n_resamples"]), seed=int(cfg["seed"]))
    summary["chance"] = expl.metrics.groupby(by, sort=False)["hit zone share of crop"].mean()
    name = f"{expl.study}_attention{'_by_outcome' if by_outcome else ''}.csv"
    write_csv(summary.reset_index(), expl.tables / name)
    return summary


def formatted(summary: pd.DataFrame) -> pd.DataFrame:
    """The attention table for reading: "mean (low–high)" per measure, chance level, counts."""
    out = pd.DataFrame(index=summary.index)
    for m in ("pointing game", "energy share"):
        out[m] = [f"{v:.2f} ({lo:.2f}–{hi:.2f})" if pd.notna(v) else "–" for v, lo, hi in zip(summary[m], summary[f"{m} low"], summary[f"{m} high"])]
    out["chance"] = summary["chance"].round(2)
    out["patients"] = summary["patients"]
    out["empty maps"] = summary["empty maps"]
    return out


def outcome_table(expl: Explanation, cfg: dict[str, Any]) -> pd.DataFrame:
    """The attention map's pointing game against the evidence (synthetic) or lesion ROI (real), split by TP/FP/FN/TN."""
    t = attention_table(expl, cfg, by_outcome=True).reset_index()
    region = "evidence" if "evidence" in set(t["region"]) else "lesion ROI"
    t = t[(t["region"] == region) & (~t["map"].isin(["random", "crop centre"]))]
    return t.pivot_table(index="model", columns="outcome", values="pointing game").reindex(columns=[o for o in ("TP", "FP", "FN", "TN") if o in set(t["outcome"])])


def sanity_table(expl: Explanation) -> pd.DataFrame:
    """Spearman correlation of trained maps with random-weight maps (should be low) and between trained folds."""
    out = summarise_sanity(expl.sanity)
    write_csv(out.reset_index(), expl.tables / f"{expl.study}_cam_sanity.csv")
    return out


def example_views(expl: Explanation, model: str) -> list[CaseView]:
    """The most confident TP, FP, FN and TN of a model (see :func:`views.pick_examples`), titled without identifiers."""
    return [case_view(expl, model, r.patient_id, title=f"{r.outcome} (P = {r.score:.2f})") for r in pick_examples(expl, model).itertuples()]


def reconstruction(expl: Explanation, cfg: dict[str, Any]) -> tuple[list[Surface], str]:
    """Surfaces of the 3D view: the first model's most confident true positive (else its first example)."""
    settings = ExplainSettings.from_params(cfg)
    model = expl.networks[0].name
    picks = pick_examples(expl, model)
    row = picks[picks["outcome"] == "TP"].iloc[0] if (picks["outcome"] == "TP").any() else picks.iloc[0]
    view = case_view(expl, model, row.patient_id, title="")
    surfaces = []
    for name, mask in view.surfaces.items():
        s = surface(mask.astype("float32"), view.image, level=0.5, name=name, colour=SURFACE_COLOURS.get(name, "#90be6d"), max_faces=settings.mesh_max_faces, opacity=0.3)
        surfaces.append(s)
    surfaces.append(surface(view.cam, view.image, level=settings.iso_level, name=f"attention ≥ {settings.iso_level:g}", colour=SURFACE_COLOURS["attention"], max_faces=settings.mesh_max_faces, opacity=0.45))
    title = f"{expl.study}: {model}, {row.outcome} (P = {row.score:.2f})"
    return [s for s in surfaces if s is not None], title
