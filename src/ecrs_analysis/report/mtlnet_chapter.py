"""Chapter 05's sentences, each generated from the table it cites (the evaluation job's artefacts).

Every function takes a table as the evaluation job wrote it and returns markdown; no number of
the chapter's prose is typed by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


__all__ = [
    "ceiling_test", "load_runs", "MULTITASK", "read_segmentation_examples",
    "learning_display",
    "DICE_TARGET", "IN_SAMPLE", "in_sample", "dice_against_target", "crop_coverage_text", "kept_epoch_text", "held_out_text",
    "threshold_text", "calibration_text", "ceiling_text",
]

from ecrs_analysis.training.mtl_runs import MTLNetRun, load_job  # reads a job folder: no torch
from ecrs_analysis.training.mtl_settings import MULTITASK, VARIANT_FOLDERS  # names only (pydantic settings): no torch


def load_runs(study_dir: str | Path, *, ablation: bool) -> dict[str, MTLNetRun]:
    """The MTLNet jobs of a profile as their folders hold them (``history.csv``, ``scores.csv``, ``job.json``):
    the multitask network first, then, with ``ablation``, the two single-head variants (``training.mtl_settings.VARIANT_FOLDERS``)."""
    out = {}
    for variant, folder in VARIANT_FOLDERS.items():
        if variant != MULTITASK and not ablation:
            continue
        out[variant] = load_job(Path(study_dir) / folder)
    return out


def read_segmentation_examples(path: str | Path) -> list[tuple[str, dict[str, np.ndarray]]]:
    """The cases the segmentation examples job wrote (``jobs.exhibits.segmentation_examples_job``), as
    ``[(title, {"image", "truth", "prediction", "spacing_mm"}), ...]`` for ``plotting.segmentation.plot_segmentation_examples``."""
    with np.load(path) as z:
        n = len([k for k in z.files if k.startswith("title_")])
        return [(str(z[f"title_{i}"]), {k: z[f"{k}_{i}"] for k in ("image", "truth", "prediction", "spacing_mm")}) for i in range(n)]


DICE_TARGET = 0.85
"""The Dice the reproduction aims at on every set (issue 16), on the CT's own grid: below the paper's
0.887-0.913, which were obtained at full resolution on real anatomy. A target of this project, not a number of the paper."""
SAME = 0.02  # Dice spread between sets below which training and test agree
IN_SAMPLE = "in-sample (training)"
"""How the training set is labelled in every table of the chapter: the network was fitted to these patients."""


def in_sample(frame: pd.DataFrame, *, train_set: str, level: str = "set") -> pd.DataFrame:
    """The table with its training rows relabelled :data:`IN_SAMPLE` (index level ``level``, or the index itself)."""
    if isinstance(frame.index, pd.MultiIndex):
        if level not in frame.index.names:
            return frame
        return frame.rename(index={train_set: IN_SAMPLE}, level=level)
    return frame.rename(index={train_set: IN_SAMPLE})


def _ci(row: pd.Series, value: str = "value") -> str:
    return f"{row[value]:.3f} ({row['CI low']:.3f}–{row['CI high']:.3f})"


def dice_against_target(segmentation: pd.DataFrame, grid: pd.DataFrame, *, target: float = DICE_TARGET, spacing_mm: Sequence[float],
                        input_size: Sequence[int], deep_supervision: bool) -> str:
    """One paragraph (markdown): does MTLNet's native-grid mean Dice reach ``target`` on each set, and if not, what the grid allows.

    ``segmentation``: the job's segmentation table (index set; ``metric``, ``value``, ``CI low``,
    ``CI high``: native grid). ``grid``: its grid table (index (set, measure); ``mean``, ``CI low``,
    ``CI high``) with the model-grid Dice, the native Dice and the grid's upper bound.
    """
    dice = segmentation[segmentation["metric"] == "dice"]
    if dice.empty:
        raise ValueError("the segmentation table has no `dice` rows: rerun the MTLNet evaluation job (`ecrs run`)")
    cells = [f"{s} {_ci(r)}" for s, r in dice.iterrows()]
    below = [s for s, r in dice.iterrows() if r["CI high"] < target]
    above = [s for s, r in dice.iterrows() if r["CI low"] >= target]
    head = f"**Target Dice {target:.2f}** (on the CT's own grid): mean Dice (95% CI) {'; '.join(cells)}."
    if len(above) == len(dice):
        return f"{head} The target is reached on every set."
    if not below:
        return f"{head} Not every CI lies above the target: it is not shown to be reached on {', '.join(s for s in dice.index if s not in above)}."
    grid_text = f"{' × '.join(f'{v:g}' for v in spacing_mm)} mm voxels, the crop then resized to {' × '.join(map(str, input_size))} voxels"
    bound = {s: grid.loc[(s, "grid upper bound Dice")] for s in dice.index if (s, "grid upper bound Dice") in grid.index}
    model = {s: grid.loc[(s, "model grid Dice")] for s in dice.index if (s, "model grid Dice") in grid.index}
    parts = [f"The target is **missed** on {'every set' if len(below) == len(dice) else ', '.join(below)} (the whole CI lies below it)."]
    if bound:
        limited = [s for s, r in bound.items() if r["CI high"] < target]
        parts.append(
            "The grid's own upper bound — the ground truth itself resized to the model grid and mapped back, against the original mask — is "
            + "; ".join(f"{s} {_ci(r, 'mean')}" for s, r in bound.items()) + f" on this profile's grid ({grid_text}). "
            + (f"On {'every set' if len(limited) == len(bound) else ', '.join(limited)} even that perfect mask misses the target: the grid limits the Dice, "
               "before any error of the network. A finer grid (smaller `studies.mtlnet2025.preprocess.spacing_mm`, larger `input_size`) is what would raise it."
               if limited else "The bound lies at or above the target, so the grid alone does not explain the miss.")
        )
        gap = [f"{s} {bound[s]['mean'] - dice.loc[s, 'value']:.3f}" for s in dice.index if s in bound]
        parts.append(f"The network's own share of the loss, the bound minus its native Dice: {'; '.join(gap)}.")
        above = [s for s in dice.index if s in bound and dice.loc[s, "value"] > bound[s]["mean"]]
        if above:  # the resized truth is not the best mask the grid allows: a network can beat it, and then it is no bound
            parts.append(f"On {', '.join(above)} the network's native Dice lies above the resized ground truth's: there it is a reference, not a bound.")
    if model:
        parts.append("On the model's resized grid, against the resized ground truth, its Dice is " + "; ".join(f"{s} {_ci(r, 'mean')}" for s, r in model.items())
                     + ": the number a resized-grid evaluation would have reported.")
    if dice["value"].max() - dice["value"].min() < SAME:
        parts.append(f"The native Dice differs by less than {SAME:.2f} between the sets, training included: no sign of overfitting the segmentation.")
    parts.append(f"Deep supervision is {'on' if deep_supervision else 'off'} in this run.")
    return f"{head} {' '.join(parts)}"


def crop_coverage_text(coverage: pd.DataFrame, *, train_set: str, full: float = 0.99) -> str:
    """Does the image-only crop hold the sinuses? From the job's coverage table (index set)."""
    below = f"patients below {full:g}"
    rows = [f"{IN_SAMPLE if s == train_set else s}: mean {r['mean share inside']:.1%}, lowest {r['lowest share inside']:.1%}, {int(r[below])} of {int(r['patients'])} below {full:.0%}"
            for s, r in coverage.iterrows()]
    t = coverage.loc[train_set]
    verdict = ("On the training patients, on which the box was checked, it holds the sinus mask" + (" whole or nearly" if t["lowest share inside"] >= full else
               f" only partly for {int(t[below])} patient(s): the segmentation cannot recover the voxels outside it"))
    return f"**Input coverage** — share of each patient's sinus voxels (on the CT's own grid) inside MTLNet's crop: {'; '.join(rows)}. {verdict}."


def kept_epoch_text(info: Mapping[str, Any], history: pd.DataFrame, *, max_epochs: int) -> str:
    """Which epoch the job kept, by which validation criterion, and which epoch the whole validation loss would have kept."""
    monitor, kept = str(info["monitor"]), info.get("best_epoch")
    names = {"val_cls_loss": "the validation classification loss (class-balanced BCE of the endotype)", "val_loss": "the whole validation loss (classification + segmentation)"}
    if kept is None:
        return f"No epoch was kept by {names.get(monitor, monitor)}: the last epoch ({len(history)}) is scored."
    text = f"**Kept epoch: {int(kept)}** of {len(history)} run (at most {max_epochs}): the epoch with the lowest value of {names.get(monitor, monitor)}."
    if monitor != "val_loss" and "val_loss" in history and history["val_loss"].notna().any():
        other = int(history["val_loss"].to_numpy().argmin()) + 1
        text += (f" The whole validation loss, dominated by its segmentation term, would have kept epoch {other}"
                 + (" as well." if other == int(kept) else "; the criterion was chosen on training and validation data only, to weight the endotype."))
    return text


def held_out_text(learning: pd.Series) -> str:
    """The held-out half of the did-it-learn check, from the job's learning table (one row)."""
    if pd.isna(learning.get("learned on validation")):
        return "No held-out check is recorded for this job."
    ok = bool(learning["learned on validation"]) if not isinstance(learning["learned on validation"], str) else learning["learned on validation"] == "True"
    loss, const = float(learning["validation loss"]), float(learning["constant validation loss"])
    relation = "below" if loss < const else "not below"
    return (f"**On held-out patients** the classifier {'learned' if ok else 'did not learn'}: its validation classification loss {loss:.3f} is {relation} "
            f"the best constant predictor's {const:.3f}; validation AUC {learning['validation AUC (DeLong 95% CI)']} "
            "(it passes with either the loss below the constant's or an AUC CI above 0.5).")


def threshold_text(operating: pd.DataFrame) -> str:
    """Where the operating threshold came from, from the operating-point table (index (model, set); ``rule``, ``threshold``)."""
    first = operating.iloc[0]
    return (f"The threshold, {first['threshold']:.3f}, is chosen by `{first['rule']}` (the validation patients were held out from training); "
            "the validation row is therefore the set the threshold was fitted on, and only the external row tests the threshold on new patients. "
            "The confidence intervals of sensitivity, specificity, accuracy, PPV and NPV are Wilson score intervals.")


def calibration_text(cal: pd.DataFrame) -> str:
    """Brier score, calibration slope and intercept per set, in words, from the job's calibration table (index set)."""
    cells = []
    for s, r in cal.iterrows():
        slope = r["calibration slope"]
        shape = "too extreme" if slope < 1 else "too timid"
        cells.append(f"{s}: Brier {r['Brier']:.3f}, intercept {r['calibration intercept']:+.2f}, slope {slope:.2f} (predictions {shape})")
    return ("**Calibration** (a slope of 1 and an intercept of 0 are perfect; a slope below 1 means predictions too extreme, above 1 too timid): "
            + "; ".join(cells) + ".")


def ceiling_text(comparison: pd.DataFrame, *, set_name: str, learned: bool) -> str:
    """The external AUC beside the paper's and the image ceiling, as a difference (the ceiling is a population estimate, not a bound)."""
    ext = comparison.loc[set_name]
    dice = f"Dice **{ext.loc['Dice', 'reproduced']:.3f}** (native grid) against {ext.loc['Dice', 'reported']:.3f}."
    if not learned:
        return f"{set_name} set: no AUC (the classifier did not learn). {dice}"
    auc = f"{set_name} set: AUC **{ext.loc['AUC', 'reproduced']:.3f}** ({ext.loc['AUC', '95% CI']}) against the paper's {ext.loc['AUC', 'reported']:.3f}"
    if "image ceiling" not in ext or pd.isna(ext.loc["AUC", "image ceiling"]):
        return f"{auc}; a real cohort has no known ceiling. {dice}"
    image = float(ext.loc["AUC", "image ceiling"])
    diff = float(ext.loc["AUC", "reproduced"]) - image
    return (f"{auc}; the image ceiling estimated for these patients is {image:.3f}, and MTLNet's AUC lies {abs(diff):.3f} {'above' if diff > 0 else 'below'} it "
            "(the ceiling is itself an estimate with its own uncertainty on this many patients, not a bound). " + dice)


def ceiling_test(path: str | Path) -> pd.DataFrame:
    """MTLNet against the image-only ceiling, as the evaluation job wrote it (``ceiling_test``), indexed by
    (model, set); empty where the job wrote a note instead (a real cohort, or a classifier that did not learn)."""
    frame = pd.read_csv(path)
    if "note" in frame.columns:
        return pd.DataFrame()
    return frame.set_index(["model", "set"])


def learning_display(learning: pd.Series, *, digits: int = 3) -> pd.DataFrame:
    """MTLNet's learning check (one row of the job's ``learning`` table) as one column, a row per item:
    too many items for one row on a page. Floats to ``digits`` decimals, integers and text as they are,
    missing values as an en dash."""
    def shown(v: Any) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return "–"
        if isinstance(v, (bool, np.bool_)) or isinstance(v, str):
            return str(v)
        if float(v).is_integer():
            return str(int(v))
        return f"{float(v):.{digits}f}"

    return pd.DataFrame({"MTLNet": [shown(v) for v in learning.to_numpy()]}, index=pd.Index(learning.index, name="check"))
