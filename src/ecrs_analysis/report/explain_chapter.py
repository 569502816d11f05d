"""What notebook 06 calls: it reads the explanation jobs' tables and maps and shows them; nothing is computed or written here.

The jobs (``workflow/rules/explain.smk``) write, per (study, network), ``<study>/explain/<model>/``
(:func:`ecrs_analysis.jobs.explain.explain_network`) and, per study, ``<study>/explain/image_summaries.csv`` and
``evidence_definition.csv`` (:func:`ecrs_analysis.jobs.explain.write_image_summaries`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import SimpleITK as sitk
from matplotlib.figure import Figure
from numpy.typing import NDArray

from ecrs_analysis.config.schema import PreprocessSettings
from ecrs_analysis.data import study as S
from ecrs_analysis.explain.evidence import evidence_files, evidence_labels
from ecrs_analysis.explain.mesh import Surface, surface
from ecrs_analysis.explain.regions import patient_regions
from ecrs_analysis.explain.settings import ExplainSettings
from ecrs_analysis.explain.views import CaseSlices, CaseView, pick_examples
from ecrs_analysis.explain.networks import MTLNET, SUMMARY_TABLE, TABLES, explained_networks
from ecrs_analysis.paths import PREDICTED_MASKS
from ecrs_analysis.plotting.explain import plot_case_overlays

__all__ = [
    "StudyExplanation", "load_explanation", "status", "attention_table", "attention_controls", "attention_summary", "layers_table", "deletion_table", "outcome_table",
    "sanity_table", "image_summary_table", "evidence_table", "evidence_tables", "evidence_prose", "example_views", "example_captions", "reconstruction", "attention_verdict", "deletion_verdict",
    "load_map", "case_view", "predicted_segmentation", "mean_maps", "plot_network_examples",
]

SURFACE_COLOURS = {"sinuses (ground truth)": "#f2c14e", "lesion ROI": "#4cc9f0", "attention": "#d62828"}
MAP_ORDER = ("Grad-CAM", "Grad-CAM++", "perfect map (positive control)", "random", "crop centre")


@dataclass
class StudyExplanation:
    """The explanation jobs' outputs of one study, every network's tables stacked."""

    study: str
    folder: Path
    """``results/<profile>/<study>/explain``."""
    models: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    missing: str | None = None
    context: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.missing is None

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())

    def model_folder(self, model: str) -> Path:
        return self.folder / model


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={"patient_id": str})
    except pd.errors.EmptyDataError:  # a job with nothing to summarise writes an empty table
        return pd.DataFrame()


def load_explanation(cfg: dict[str, Any], paths: S.ResultPaths, study: str) -> StudyExplanation:
    """Read a study's explanation tables (every network's), or say which job's outputs are missing."""
    folder = paths.study(study) / "explain"
    models = [m for s, m in explained_networks(cfg["deep"]["models"]) if s == study]
    out = StudyExplanation(study, folder, models)
    absent = [f"{m}/{t}" for m in models for t in TABLES if not (folder / m / t).exists()]
    if absent:
        out.missing = f"the explanation jobs of {study} have not run in {paths.root} (missing {absent[0]} and {len(absent) - 1} more): run `ecrs run`"
        return out
    for t in TABLES:
        parts = [_read(folder / m / t) for m in models]
        out.tables[t.removesuffix(".csv")] = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else pd.DataFrame()
    for extra in (SUMMARY_TABLE, "evidence_definition.csv"):
        if (folder / extra).exists():
            out.tables[extra.removesuffix(".csv")] = _read(folder / extra)
    loaded = S.load_study(cfg, study, paths)
    s = cfg["studies"][study]
    evidence = evidence_files(loaded)
    defined = out.tables.get("evidence_definition", pd.DataFrame())
    out.context = {
        "table": loaded.table,
        "index": pd.read_csv(paths.preprocessed_index(study), dtype={"patient_id": str}),
        "pre": PreprocessSettings.model_validate(s["preprocess"]),
        "mask_cols": tuple(m for m in loaded.cohort.mask_columns if m in s["masks"]),
        "evidence": evidence,
        "definition": evidence_labels(defined) if evidence and len(defined) else None,  # as the summaries job wrote it
        "settings": ExplainSettings.model_validate(cfg["explain"]),
        "masks_npz": paths.mtlnet_job(study, MTLNET) / PREDICTED_MASKS,
    }
    return out


def status(expl: StudyExplanation) -> str:
    """One line for the reader: what was explained, by which model, or why nothing was."""
    if not expl.ok:
        return f"**Skipped:** {expl.missing}."
    e = expl["explained"]
    parts = []
    for m in expl.models:
        g = e[e["model"] == m]
        folds = g["folds"].astype(str)
        if m == MTLNET:
            how = "the one trained network"
        else:
            how = "the fold model that scored it" if (~folds.str.contains(" ")).all() else "the fold ensemble (deep.test_scoring: ensemble)"
        parts.append(f"{m}: {len(g)} patients, each explained by {how}")
    return f"Explained test patients ({expl.study}): " + "; ".join(parts) + "."


def _ci(v: float, lo: float, hi: float) -> str:
    return f"{v:.2f} ({lo:.2f}–{hi:.2f})" if pd.notna(v) else "–"


def _ci3(v: float, lo: float, hi: float) -> str:
    """Three decimals, more (up to six) until the largest of the three shows two significant digits and no bound
    that is not 0 prints as 0: a fall of 0.0004 is not 0.000 (0.000 to 0.001), a CI above 0 does not start at 0.000."""
    if pd.isna(v):
        return "–"
    d, top = 3, max(abs(v), abs(lo), abs(hi))
    while d < 6 and (top < 10.0 ** (1 - d) or any(x != 0 and round(x, d) == 0 for x in (lo, hi))):
        d += 1
    return f"{v:.{d}f} ({lo:.{d}f} to {hi:.{d}f})"


def attention_table(expl: StudyExplanation) -> pd.DataFrame:
    """Pointing game and energy share (mean, 95% bootstrap CI) per model, region and map, for reading."""
    a = expl["attention"].copy()
    a["order"] = a["map"].map({m: i for i, m in enumerate(MAP_ORDER)}).fillna(len(MAP_ORDER))
    a = a.sort_values(["model", "region", "order"], kind="stable")
    out = pd.DataFrame({"model": a["model"], "region": a["region"], "map": a["map"]})
    for m in ("pointing game", "energy share"):
        out[m] = [_ci(v, lo, hi) for v, lo, hi in zip(a[m], a[f"{m} low"], a[f"{m} high"])]
    for m in ("pointing game", "energy share"):
        out[f"{m} chance"] = a[f"{m} chance"].round(2)
    out["patients"] = a["patients"]
    out["empty maps"] = a["empty maps"]
    out["maps failing randomisation"] = a["maps failing randomisation"]
    return out.set_index(["model", "region", "map"])


def attention_controls(expl: StudyExplanation, metric: str = "pointing game") -> pd.DataFrame:
    """One row per network and region: its map beside the positive control and the negative controls, for one measure."""
    a = expl["attention"]
    a = a.assign(cell=[_ci(v, lo, hi) for v, lo, hi in zip(a[metric], a[f"{metric} low"], a[f"{metric} high"])])
    wide = a.pivot_table(index=["model", "region"], columns="map", values="cell", aggfunc="first", sort=False)
    names = {"Grad-CAM": "network's map", "Grad-CAM++": "network's map", "perfect map (positive control)": "perfect map (+ control)", "random": "random (− control)", "crop centre": "crop centre (− control)"}
    wide = wide[[m for m in MAP_ORDER if m in wide.columns]].rename(columns=names)
    nets = a[a["map"].isin(["Grad-CAM", "Grad-CAM++"])].set_index(["model", "region"])
    wide["chance"] = nets[f"{metric} chance"].round(2)
    wide["patients"] = nets["patients"]
    wide["maps failing randomisation"] = nets["maps failing randomisation"]
    wide.columns.name = metric
    return wide


NETWORK_MAPS = ("Grad-CAM", "Grad-CAM++")
NEGATIVE = ("random", "crop centre")
POSITIVE = "perfect map (positive control)"


def _against(net: pd.Series, control: pd.Series, metric: str) -> str:
    if net[f"{metric} low"] > control[f"{metric} high"]:
        return "above"
    if net[f"{metric} high"] < control[f"{metric} low"]:
        return "below"
    return "level with"


def attention_verdict(expl: StudyExplanation) -> str:
    """In words, per network and region, from the attention table: is its map above, level with or below each control (95% CIs)?

    A map is read as informative about a region only where its CI lies above both negative
    controls' CIs; the positive control (a reference at the layer's resolution, not a bound: a map can score above it) says how its score compares.
    """
    a = expl["attention"].set_index(["model", "region", "map"])
    lines = []
    for (model, region), g in a.groupby(level=["model", "region"], sort=False):
        g = g.droplevel(["model", "region"])
        net = next((g.loc[m] for m in NETWORK_MAPS if m in g.index), None)
        if net is None or POSITIVE not in g.index or not all(c in g.index for c in NEGATIVE):
            lines.append(f"- **{model}**, {region}: a control is missing from the attention table (rerun the explanation job)")
            continue
        parts = []
        for metric in ("pointing game", "energy share"):
            sides = {c: _against(net, g.loc[c], metric) for c in NEGATIVE}
            informative = all(v == "above" for v in sides.values())
            reference = g.loc[POSITIVE, metric]
            share = f"; {net[metric] / reference:.0%} of the perfect map's {reference:.2f}" if reference > 0 else ""
            parts.append(f"{metric} {net[metric]:.2f}: " + ", ".join(f"{v} {c}" for c, v in sides.items()) + share + (" — **informative**" if informative else ""))
        lines.append(f"- **{model}**, {region}: " + "; ".join(parts))
    return "\n".join(lines)


def _side(lo: float, hi: float) -> str:
    return "above 0" if lo > 0 else ("below 0" if hi < 0 else "includes 0")


def deletion_verdict(expl: StudyExplanation) -> str:
    """In words, per network and explained class, from the AOPC table: does the positive control work, and does the map beat random (95% CIs of the paired differences)?

    The perfect map (the explained class's evidence) must lower the probability more than random
    deletion before a map can be judged by this test: where it does not, the fill does not remove
    what the network uses from that class's evidence, and the map's result says nothing either
    way.  The pooled row mixes the two classes, whose probabilities deletion moves for different
    reasons; it is reported, and read after the per-class rows.
    """
    a = expl["deletion_area"]
    lines = []
    for model, g in a.groupby("model", sort=False):
        parts = []
        for _, r in g.iterrows():
            cls = r["explained class"]
            d, lo, hi = r["AOPC map - random"], r["AOPC map - random low"], r["AOPC map - random high"]
            if "AOPC perfect map - random" in r and pd.notna(r["AOPC perfect map - random"]):
                pd_, plo, phi = r["AOPC perfect map - random"], r["AOPC perfect map - random low"], r["AOPC perfect map - random high"]
                works = plo > 0
                control = f"perfect map − random {_ci3(pd_, plo, phi)}, " + ("the positive control works" if works else f"the positive control does **not** work (CI {_side(plo, phi)})")
            else:
                works, control = None, "no positive control (no evidence region)"
            if lo > 0:
                verdict = "deleting the top of the map lowers the probability more than deleting random voxels: evidence that the network uses what its map points at"
            elif hi < 0:
                verdict = "deleting the top of the map lowers the probability less than deleting random voxels: what it points at matters less to the network than an average voxel"
            else:
                verdict = "the CI includes 0: not shown that the network uses what its map points at more than any other voxels"
            if works is False:
                verdict += "; with a positive control that fails, this test cannot show faithfulness for this class"
            parts.append(f"  - {cls} ({int(r['patients'])} patients): {control}; map − random {_ci3(d, lo, hi)}, {verdict}")
        lines.append(f"- **{model}**\n" + "\n".join(parts))
    return "\n".join(lines)


def attention_summary(expl: StudyExplanation) -> pd.DataFrame:
    """The attention table as numbers, indexed by model, region and map (for the forest plots)."""
    return expl["attention"].set_index(["model", "region", "map"])


def layers_table(expl: StudyExplanation) -> pd.DataFrame:
    """Each network's explained and candidate layers: grid, and what a perfect map scores at it."""
    t = expl["layers"]
    out = t[["model", "scale", "layer", "input grid", "layer grid"]].copy()
    for region in ("evidence", "lesion ROI"):
        for m in ("pointing game", "energy share"):
            c = f"{region}: perfect map {m}"
            if c in t:
                out[c] = [_ci(v, lo, hi) for v, lo, hi in zip(t[c], t[f"{c} low"], t[f"{c} high"])]
    return out.set_index(["model", "scale"])


def deletion_table(expl: StudyExplanation) -> pd.DataFrame:
    """Area over the deletion curve (mean fall of P(explained class)) per network and explained class: the map, random deletion, the perfect map, and the paired differences."""
    a = expl["deletion_area"]
    out = pd.DataFrame({"model": a["model"], "explained class": a["explained class"]})
    for name in ("map", "random", "perfect map", "map - random", "perfect map - random"):
        if f"AOPC {name}" in a:
            out[f"AOPC {name.replace(' - ', ' − ')}"] = [_ci3(v, lo, hi) for v, lo, hi in zip(a[f"AOPC {name}"], a[f"AOPC {name} low"], a[f"AOPC {name} high"])]
    out["map faithful"] = np.where(a["AOPC map - random low"] > 0, "yes", np.where(a["AOPC map - random high"] < 0, "no (less than random)", "not shown"))
    if "AOPC perfect map - random" in a:
        out["positive control works"] = np.where(a["AOPC perfect map - random low"] > 0, "yes", np.where(a["AOPC perfect map - random"].isna(), "–", "no"))
    out["patients"] = a["patients"]
    return out.set_index(["model", "explained class"])


def outcome_table(expl: StudyExplanation) -> pd.DataFrame:
    """Pointing game of the networks' maps against the evidence (synthetic) or lesion ROI (real), split by TP/FP/FN/TN."""
    t = expl["attention_by_outcome"]
    region = "evidence" if "evidence" in set(t["region"]) else "lesion ROI"
    t = t[(t["region"] == region) & t["map"].isin(["Grad-CAM", "Grad-CAM++"])]
    return t.pivot_table(index="model", columns="outcome", values="pointing game").reindex(columns=[o for o in ("TP", "FP", "FN", "TN") if o in set(t["outcome"])])


def sanity_table(expl: StudyExplanation) -> pd.DataFrame:
    """Spearman correlation of the maps with random-weight maps (should be low) and between trained folds."""
    return expl["sanity_summary"].set_index(["model", "comparison"])


def image_summary_table(expl: StudyExplanation) -> pd.DataFrame:
    """AUC of simple image summaries and of the networks per test set, and their Spearman ρ with the crop volume."""
    t = expl["image_summaries"]
    if t.empty:
        return t
    wide = t.pivot_table(index=["kind", "predictor"], columns="set", values=["AUC", "Spearman ρ with crop volume"], sort=False)
    return wide.round(2)


def evidence_table(expl: StudyExplanation) -> pd.DataFrame:
    """The per-class evidence definition the generator implies (synthetic cohorts only), for reading."""
    t = expl["evidence_definition"]
    if not len(t):
        return t
    out = pd.DataFrame({"compartment": t["compartment"], "AUC of its opacification alone": t["AUC of its opacification alone"].round(3)})
    out["log-odds per SD given the others (95% CI)"] = [f"{v:.2f} ({lo:.2f} to {hi:.2f})" if pd.notna(v) else "–" for v, lo, hi in zip(t["log-odds per SD given the others"], t["low"], t["high"])]
    out["opacified argues for"] = t["opacified argues for"]
    out["aerated argues for"] = t["aerated argues for"]
    return out.set_index("compartment")


def evidence_tables(*expls: StudyExplanation) -> pd.DataFrame:
    """The evidence definitions of several studies in one table (indexed by study and compartment); empty for a real cohort."""
    parts = {e.study: evidence_table(e) for e in expls if e.ok and len(evidence_table(e))}
    return pd.concat(parts, names=["study"]) if parts else pd.DataFrame()


def _names(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else (items[0] if items else "nothing")


def evidence_prose(*expls: StudyExplanation, margin: float = 0.05) -> str:
    """The evidence definition in words, per study, from its table: what argues for each class, what is excluded and why.

    A compartment whose opacification alone is within ``margin`` of AUC 0.5 but whose
    coefficient given the others is not 0 is named: a marginal definition would have left it out.
    """
    lines = []
    for e in expls:
        t = e["evidence_definition"] if e.ok else pd.DataFrame()
        if not len(t):
            continue
        n = int(t["simulated patients"].iloc[0])
        per_class = []
        for cls in ("eCRS", "non-eCRS"):
            items = [f"{state} {c}" for state in ("opacified", "aerated") for c, v in zip(t["compartment"], t[f"{state} argues for"]) if v == cls]
            per_class.append(f"for {cls}: {_names(items)}")
        text = f"- **{e.study}** ({n:,} simulated patients): the evidence " + "; ".join(per_class) + "."
        for r in t.to_dict("records"):
            c, auc, coef, lo, hi = r["compartment"], r["AUC of its opacification alone"], r["log-odds per SD given the others"], r["low"], r["high"]
            if r["opacified argues for"] == "neither":
                why = "its burden is the same in every simulated patient" if pd.isna(coef) else f"given the other compartments its coefficient is {coef:.2f} ({lo:.2f} to {hi:.2f}) log-odds per SD, a CI that includes 0"
                text += f" Excluded: the {c} ({why}); its voxels argue for neither class."
            elif pd.notna(auc) and abs(auc - 0.5) <= margin:
                text += (f" The {c}'s opacification alone has AUC {auc:.3f}, within {margin} of 0.5, but given the other compartments its coefficient is "
                         f"{coef:.2f} ({lo:.2f} to {hi:.2f}) log-odds per SD: opacified {c} argues for {r['opacified argues for']}, aerated {c} for {r['aerated argues for']}.")
        lines.append(text)
    return "\n".join(lines)


def example_views(expl: StudyExplanation, model: str) -> list[CaseView]:
    """The most confident TP, FP, FN and TN of a model (see :func:`~ecrs_analysis.explain.views.pick_examples`), titled without identifiers."""
    views = []
    for r in pick_examples(expl["explained"], model).itertuples():
        mark = " — fails randomisation check" if bool(r.fails_randomisation) else ""
        views.append(case_view(expl, model, r.patient_id, title=f"{r.outcome} (P = {r.score:.2f}){mark}"))
    return views


def example_captions(expl: StudyExplanation) -> list[str]:
    """One caption per network for :func:`plot_network_examples`, in the same order."""
    return [
        f"{m}: its most confident explained TP, FP, FN and TN (rows); axial, coronal and sagittal slices through the map's maximum. "
        "Map drawn above 0.2; evidence of the predicted class solid, lesion ROI dashed; a map failing the randomisation check says so in its row label."
        for m in expl.models
    ]


def reconstruction(expl: StudyExplanation) -> tuple[list[Surface], str]:
    """Surfaces of the 3D view: the first model's most confident true positive (else its first example)."""
    settings = expl.context["settings"]
    model = expl.models[0]
    picks = pick_examples(expl["explained"], model)
    row = picks[picks["outcome"] == "TP"].iloc[0] if (picks["outcome"] == "TP").any() else picks.iloc[0]
    view = case_view(expl, model, row.patient_id, title="")
    surfaces = []
    for name, mask in view.surfaces.items():
        surfaces.append(surface(mask.astype("float32"), view.image, level=0.5, name=name, colour=SURFACE_COLOURS.get(name, "#90be6d"), max_faces=settings.mesh_max_faces, opacity=0.3))
    surfaces.append(surface(view.cam, view.image, level=settings.iso_level, name=f"attention ≥ {settings.iso_level:g}", colour=SURFACE_COLOURS["attention"], max_faces=settings.mesh_max_faces, opacity=0.45))
    title = f"{expl.study}: {model}, {row.outcome} (P = {row.score:.2f})"
    return [s for s in surfaces if s is not None], title


def plot_network_examples(examples: Mapping[str, Sequence[CaseSlices]]) -> list[Figure]:
    """:func:`~ecrs_analysis.plotting.explain.plot_case_overlays` of each network's most confident TP, FP, FN and TN, as the
    explanation views job sliced them (``report.explain_views.read_examples``)."""
    return [plot_case_overlays(views, title=m) for m, views in examples.items()]


def load_map(folder: Path, patient_id: str, *, which: str = "cam") -> np.ndarray:
    """A patient's map (``cam``, or ``randomised``) on the input grid from ``<study>/explain/<model>/maps/``."""
    with np.load(Path(folder) / "maps" / f"{patient_id}.npz") as z:
        return z[which]


def _regions(row: pd.Series, evidence: Path | None, labels: tuple[int, ...] | None) -> dict[str, NDArray[np.bool_]]:
    roi = sitk.GetArrayFromImage(sitk.ReadImage(row["roi_mask"])) if isinstance(row.get("roi_mask"), str) else None
    ev = sitk.GetArrayFromImage(sitk.ReadImage(str(evidence))) if evidence is not None and labels is not None else None
    return patient_regions(roi=roi, evidence=ev, labels=labels)


def predicted_segmentation(expl: StudyExplanation, patient_id: str) -> NDArray[np.uint8] | None:
    """MTLNet's predicted sinus mask of a patient on the input grid, as its training job wrote it (``masks.npz``), else None."""
    path = expl.context.get("masks_npz")
    if path is None or not Path(path).exists():
        return None
    with np.load(path) as z:
        ids = z["patient_id"].tolist()
        return z["masks"][ids.index(patient_id)].astype(np.uint8) if patient_id in ids else None


def case_view(expl: StudyExplanation, model: str, patient_id: str, *, title: str) -> CaseView:
    """The CT, the map of the model that scored the patient and the regions of one explained patient, on the CT's grid."""
    from ecrs_analysis.explain.inverse import InputGrid  # lazy: loads torch and MONAI, which only the explanation views job needs (chapter 06 reads its slices)

    ctx = expl.context
    row = ctx["table"].loc[ctx["table"]["patient_id"] == patient_id].iloc[0]
    grid = InputGrid(row["image"], {c: row[c] for c in ctx["mask_cols"]}, ctx["pre"])
    cam = sitk.GetArrayFromImage(grid.to_ct(load_map(expl.model_folder(model), patient_id)))
    e = expl["explained"]
    class_idx = int(e.loc[(e["model"] == model) & (e["patient_id"] == patient_id), "class_idx"].iloc[0])
    definition = ctx["definition"]
    regions = _regions(row, ctx["evidence"].get(patient_id), definition[class_idx] if definition else None)
    surfaces: dict[str, NDArray] = {}
    if isinstance(row.get("sinus_mask"), str):
        surfaces["sinuses (ground truth)"] = sitk.GetArrayFromImage(sitk.ReadImage(row["sinus_mask"])) > 0
    pred = predicted_segmentation(expl, patient_id) if model == "mtlnet" else None
    if pred is not None and pred.shape == grid.image.shape:
        surfaces[f"sinuses ({model})"] = sitk.GetArrayFromImage(grid.to_ct(pred, nearest=True)) > 0
    if "lesion ROI" in regions:
        surfaces["lesion ROI"] = regions["lesion ROI"]
    return CaseView(title=title, image=grid.reference, cam=np.clip(cam, 0.0, 1.0).astype(np.float32), regions=regions, surfaces=surfaces)


def mean_maps(expl: StudyExplanation) -> dict[tuple[str, int], NDArray[np.float32]]:
    """Mean map on the network's input grid per (model, true label)."""
    out = {}
    e = expl["explained"]
    for model in expl.models:
        for label, g in e[e["model"] == model].groupby("label"):
            out[(model, int(label))] = np.mean([load_map(expl.model_folder(model), pid) for pid in g["patient_id"]], axis=0).astype(np.float32)
    return out
