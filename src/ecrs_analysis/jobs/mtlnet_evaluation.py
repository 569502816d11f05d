"""The computation behind chapter 05 (MTLNet), one workflow job: every table the chapter shows, and its claims.

:func:`mtlnet_evaluation_job` reads the MTLNet training jobs (``training.mtl.load_jobs``), checks
that the classifier learned (``stats.learning``) before any classification statistic is
written, and writes exactly the files its rule names (``out``: output name -> path).  The
chapter only reads them.  Classification metrics of a classifier that did not learn are
written as missing, with the reason, never as numbers.

Segmentation is scored where it would be used: each predicted mask is mapped back from the
model's resized grid onto the CT's own grid (``explain.inverse.InputGrid``, the mapping the
explanations use) and compared there with the original ground-truth mask
(:func:`native_segmentation_scores`).  Beside it, the resized ground truth mapped back the same
way gives the grid's own upper bound, and the share of sinus voxels inside the crop checks
that the image-only crop (``preprocess.crop_to: head_box``) holds what is to be segmented.

The operating threshold is chosen on the *validation* patients' scores (held out from
training); the training rows are in-sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ecrs_analysis.atomic import write_csv
from ecrs_analysis.jobs.claims_chapters import MTLNET_CLAIMS_CHAPTER
from ecrs_analysis.training.mtl_settings import MULTITASK
from ecrs_analysis.paths import PREDICTED_MASKS

if TYPE_CHECKING:  # the workflow's rules import this module's names: no imaging stack at parse time
    from ecrs_analysis.data.settings import PreprocessSettings
    from ecrs_analysis.data.study import LoadedStudy

__all__ = ["MTLNET_TABLES", "native_segmentation_scores", "grid_table", "coverage_table", "calibration_tables", "mtlnet_evaluation_job", "mtlnet_ceiling_test"]

MTLNET_TABLES = (
    "segmentation", "auc", "operating_point", "unpaired_delong", "ablation", "headline", "reported_vs_reproduced", "ceilings", "learning", "sizes",
    "native_scores", "segmentation_grid", "crop_coverage", "calibration", "calibration_curve", "decision_curve", "ceiling_test",
)
"""Tables the job writes (``<name>.csv``), besides the claims."""


def _native_one(row: Mapping[str, Any], *, prediction: np.ndarray, cached: str, preprocess: PreprocessSettings, mask_columns: Sequence[str],
                target: str, tolerance_mm: float) -> dict[str, Any]:
    from ecrs_analysis.data.imageio import Geometry  # lazy: loads SimpleITK
    from ecrs_analysis.data.masks import load_mask  # lazy: loads SimpleITK
    from ecrs_analysis.data.preprocess import load_preprocessed  # lazy: loads SimpleITK, monai, torch
    from ecrs_analysis.explain.inverse import InputGrid  # lazy: loads SimpleITK, monai, torch
    from ecrs_analysis.stats.segmentation import segmentation_metrics  # lazy: loads monai, torch
    import SimpleITK as sitk

    pid = str(row["patient_id"])
    grid = InputGrid(row["image"], {c: row[c] for c in mask_columns}, preprocess)
    arrays = load_preprocessed(cached)
    grid.check(arrays["image"], patient=pid)
    on_ct = lambda volume: sitk.GetArrayFromImage(grid.to_ct(volume, nearest=True)) > 0.5  # noqa: E731  (z, y, x)
    truth = sitk.GetArrayFromImage(load_mask(row[target], reference=Geometry.of(grid.reference))) > 0.5
    spacing = tuple(reversed(grid.reference.GetSpacing()))  # numpy's (z, y, x) order
    both = np.stack([on_ct(prediction), on_ct(arrays[target][0])]).astype(np.uint8)
    m = segmentation_metrics(both, np.stack([truth, truth]).astype(np.uint8), spacing=spacing, tolerance_mm=tolerance_mm)
    inside = on_ct(np.ones(grid.image.shape, dtype=np.float32))
    n = int(truth.sum())
    return {"patient_id": pid, "dice": m.loc[0, "dice"], "hd95": m.loc[0, "hd95"], "surface_dice": m.loc[0, "surface_dice"],
            "grid bound dice": m.loc[1, "dice"], "crop coverage": float((truth & inside).sum() / n) if n else float("nan"),
            "truth voxels": n}


def native_segmentation_scores(
    table: pd.DataFrame, index: pd.DataFrame, predicted: Path | str, *, preprocess: PreprocessSettings, mask_columns: Sequence[str], target: str,
    tolerance_mm: float, n_jobs: int = 1,
) -> pd.DataFrame:
    """Segmentation metrics of every patient on the CT's own grid.

    Parameters
    ----------
    table : DataFrame
        The study table: ``patient_id``, ``set``, ``image`` and the mask columns (absolute paths).
    index : DataFrame
        ``patient_id`` -> ``path`` of the preprocessed ``.npz`` (the resized ground truth and image).
    predicted : path
        The training job's ``masks.npz`` (``masks`` on the model grid, ``patient_id``).
    preprocess, mask_columns
        The study's preprocessing parameters and masks: the crop is re-run to recover each
        patient's mapping back to the CT (and checked against the cached input).
    target : str
        The segmented mask column (``mtlnet.mask``).
    tolerance_mm : float
        Surface Dice tolerance.

    Returns
    -------
    DataFrame
        One row per patient: ``patient_id``, ``set``, native-grid ``dice``, ``hd95`` (mm) and
        ``surface_dice``; ``grid bound dice`` (the resized ground truth mapped back, against the
        original: the best Dice a mask on the model grid can have); ``crop coverage`` (share of
        ground-truth voxels inside the model's crop) and ``truth voxels``.
    """
    with np.load(predicted) as z:
        where = {str(p): i for i, p in enumerate(z["patient_id"].tolist())}
        masks = z["masks"]
    paths = index.set_index(index["patient_id"].astype(str))["path"]
    missing = [p for p in table["patient_id"].astype(str) if p not in where or p not in paths]
    if missing:
        raise ValueError(f"native segmentation: {len(missing)} patient(s) have no predicted mask or no preprocessed volume (e.g. {missing[:3]}); rerun the mtlnet job")
    rows = [r for _, r in table.iterrows()]

    def one(row: pd.Series) -> dict[str, Any]:
        pid = str(row["patient_id"])
        return _native_one(row, prediction=masks[where[pid]], cached=paths[pid], preprocess=preprocess, mask_columns=mask_columns, target=target, tolerance_mm=tolerance_mm)

    with ThreadPoolExecutor(max_workers=max(1, n_jobs)) as pool:
        out = pd.DataFrame(list(pool.map(one, rows)))
    out.insert(1, "set", table["set"].to_numpy())
    return out


GRID_MEASURES = {
    "model grid Dice": "grid dice", "native Dice": "dice", "grid upper bound Dice": "grid bound dice",
}
"""Rows of the grid table: measure -> column of the per-patient table (``grid dice``: the Dice on the resized grid)."""


def grid_table(scores: pd.DataFrame, *, sets: Sequence[str], n_resamples: int, seed: int) -> pd.DataFrame:
    """Per set: mean Dice on the model's resized grid, on the CT's own grid, and the grid's upper bound (bootstrap 95% CIs)."""
    from ecrs_analysis.stats.bootstrap import bootstrap_summary  # lazy: loads scipy

    rows = []
    for s in sets:
        part = scores[scores["set"] == s]
        for name, col in GRID_MEASURES.items():
            r = bootstrap_summary(part[col].to_numpy(dtype=float), n_resamples=n_resamples, seed=seed)
            rows.append({"set": s, "measure": name, "mean": r.value, "CI low": r.ci_low, "CI high": r.ci_high, "n": r.n})
    return pd.DataFrame(rows).set_index(["set", "measure"])


def coverage_table(scores: pd.DataFrame, *, sets: Sequence[str], full: float = 0.99) -> pd.DataFrame:
    """Per set: the share of ground-truth voxels inside the image-only crop (mean, minimum) and the patients below ``full``."""
    rows = []
    for s in sets:
        c = scores.loc[scores["set"] == s, "crop coverage"].dropna()
        rows.append({"set": s, "patients": len(c), "mean share inside": c.mean(), "lowest share inside": c.min(), f"patients below {full:g}": int((c < full).sum())})
    return pd.DataFrame(rows).set_index("set")


def calibration_tables(scores: pd.DataFrame, *, sets: Sequence[str], prob: str = "prob") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per set: Brier score, calibration intercept and slope, Hosmer-Lemeshow; the reliability curve; the decision curve."""
    from ecrs_analysis.stats.calibration import calibration, net_benefit  # lazy: loads scipy, sklearn, statsmodels

    summary, curves, decisions = [], [], []
    for s in sets:
        part = scores[scores["set"] == s]
        c = calibration(part["label"], part[prob], n_bins=8 if len(part) >= 80 else 4, name=f"{prob} on {s}")  # as plotting.calibration bins them
        summary.append({"set": s, "n": len(part), "Brier": c.brier, "calibration intercept": c.intercept, "calibration slope": c.slope,
                        "Hosmer-Lemeshow p": c.hl_p_value})
        curves.append(c.curve.assign(set=s))
        decisions.append(net_benefit(part["label"], part[prob], name=f"{prob} on {s}").assign(set=s))
    return (pd.DataFrame(summary).set_index("set"), pd.concat(curves).set_index("set"), pd.concat(decisions).set_index("set"))


def mtlnet_evaluation_job(
    study: LoadedStudy, runs: Mapping[str, Any], *, n_resamples: int, seed: int, rule: str, target: float | None, width: float, input_size: Sequence[int],
    index: pd.DataFrame, preprocess: PreprocessSettings, mask_columns: Sequence[str], segmentation_target: str, tolerance_mm: float, n_jobs: int = 1,
    out: Mapping[str, Path], run: str,
) -> None:
    """Evaluate the MTLNet jobs of a profile and write the chapter's tables and claims.

    Parameters
    ----------
    study : LoadedStudy
        The MTLNet cohort and its split (training, validation, external).
    runs : mapping
        Variant -> :class:`~ecrs_analysis.training.mtl.MTLNetRun` (``"multitask"`` first).
    n_resamples, seed, rule, target
        The ``stats`` settings: bootstrap resamples, seed, the operating-point rule and its target.
    width, input_size
        ``mtlnet.width`` and the study's input size: the ``sizes`` table (parameters and GFLOPs
        at this width and at the published one).
    index, preprocess, mask_columns, segmentation_target, tolerance_mm, n_jobs
        The preprocessed index, the study's preprocessing and masks, ``mtlnet.mask`` and
        ``mtlnet.surface_tolerance_mm``: the native-grid segmentation (:func:`native_segmentation_scores`).
    out : mapping
        Output name -> path: each of :data:`MTLNET_TABLES` and ``claims``.
    run : str
        The ``ecrs run`` id recorded with the claims.
    """
    from ecrs_analysis.report.claims import metric_claims, write_claims  # lazy: loads scipy, sklearn
    from ecrs_analysis.report.paper import MTLNET_REPORTED, reported_vs_reproduced  # lazy: loads sklearn
    from ecrs_analysis.data.study import IMAGE_CEILING, LATENT_CEILING, ceiling_auc  # lazy: loads SimpleITK, scipy, sklearn
    from ecrs_analysis.stats import evaluate  # lazy: loads scipy, sklearn, statsmodels
    from ecrs_analysis.training.mtl import ablation_table, held_out_of, learning_of  # lazy: loads SimpleITK, monai, scipy, sklearn, torch

    sets = list(study.split.names)
    train_set = study.split.train_name
    threshold_set = study.split.validation_name  # held out from training: the training scores are in-sample
    main = runs[MULTITASK]
    learning = learning_of(main)
    held = held_out_of(main)
    learned = learning is None or learning.learned
    # The headline segmentation is the native-grid one: the model grid's Dice is kept as "grid dice" beside it
    native = native_segmentation_scores(study.table, index, main.folder / PREDICTED_MASKS, preprocess=preprocess, mask_columns=mask_columns,
                                        target=segmentation_target, tolerance_mm=tolerance_mm, n_jobs=n_jobs)
    native = native.merge(main.scores[["patient_id", "dice"]].rename(columns={"dice": "grid dice"}), on="patient_id", how="left", validate="one_to_one")
    write_csv(native, out["native_scores"])
    scores = main.scores.drop(columns=["dice", "hd95", "surface_dice"]).merge(native[["patient_id", "dice", "hd95", "surface_dice"]], on="patient_id", how="left", validate="one_to_one")
    write_csv(evaluate.segmentation_table(scores, sets=sets, n_resamples=n_resamples, seed=seed), out["segmentation"], index=True)
    write_csv(grid_table(native, sets=sets, n_resamples=n_resamples, seed=seed), out["segmentation_grid"], index=True)
    write_csv(coverage_table(native, sets=sets), out["crop_coverage"], index=True)
    not_computable = ""
    if learned:
        try:
            pairs = [(a, b) for a, b in zip(sets[1:], sets[2:])]
            classification = {
                "auc": evaluate.auc_table(scores, ["prob"], sets=sets, n_resamples=n_resamples, seed=seed),
                "operating_point": evaluate.operating_table(scores, ["prob"], threshold_set=threshold_set, sets=sets, rule=rule, target=target),
                "unpaired_delong": evaluate.unpaired_delong_table(scores, ["prob"], pairs=pairs),
            }
            classification["calibration"], classification["calibration_curve"], classification["decision_curve"] = calibration_tables(scores, sets=sets)
        except ValueError as exc:  # a set too small for the statistic (e.g. one case): said, not a failed job
            not_computable = str(exc)
    if learned and not not_computable:
        for name, table in classification.items():
            write_csv(table, out[name], index=True)
    else:
        why = "the classifier did not learn" if not learned else f"not computable on these sets: {not_computable}"
        for name in ("auc", "operating_point", "unpaired_delong", "calibration", "calibration_curve", "decision_curve"):
            write_csv(pd.DataFrame({"note": [f"{why}: no classification statistic is reported"]}), out[name])
    ablation, indexed = pd.DataFrame({"note": ["the ablation is off in this profile (mtlnet.ablation: false)"]}), False
    if len(runs) > 1:
        try:
            ablation, indexed = ablation_table(runs, sets=sets, n_resamples=n_resamples, seed=seed), True
        except ValueError as exc:  # a set too small for the statistic: said in the table, not a failed job
            ablation = pd.DataFrame({"note": [f"not computable on these sets: {exc}"]})
    write_csv(ablation, out["ablation"], index=indexed)
    try:
        headline = evaluate.headline_metrics(scores, threshold_set=threshold_set, sets=sets, n_resamples=n_resamples, seed=seed, rule=rule, target=target)
    except ValueError as exc:
        not_computable = not_computable or str(exc)
        headline = pd.DataFrame(columns=["value", "CI low", "CI high"], index=pd.MultiIndex.from_tuples([], names=["set", "metric"]))
    write_csv(headline, out["headline"], index=True)
    ceiling = ceiling_auc(study)
    write_csv(reported_vs_reproduced(MTLNET_REPORTED, headline, ceiling=ceiling, learned=learned), out["reported_vs_reproduced"], index=True)
    write_csv(ceiling if ceiling is not None else pd.DataFrame({"note": ["a real cohort has no known ceiling"]}), out["ceilings"], index=ceiling is not None)
    write_csv(pd.DataFrame([{
        "learned": learned, "why not": "" if learning is None else learning.reason,
        "score SD (training and validation)": None if learning is None else learning.score_sd,
        "best training classification loss": None if learning is None else learning.best_train_loss,
        "constant predictor's loss": None if learning is None else learning.constant_train_loss,
        "validation loss": None if held is None else held.validation_loss,
        "constant validation loss": None if held is None else held.constant_validation_loss,
        "validation AUC (DeLong 95% CI)": None if held is None else f"{held.auc:.3f} ({held.auc_low:.3f}–{held.auc_high:.3f})",
        "learned on validation": None if held is None else held.learned,
        "best epoch": main.info.get("best_epoch"), "epochs run": main.info.get("epochs_run"), "early stopping on": main.info.get("monitor"),
        "not computable": not_computable,
    }]), out["learning"])
    from ecrs_analysis.models import size_table  # lazy: loads torch and MONAI (models.registry); the rules import this module

    write_csv(size_table(("mtlnet",), widths=tuple(sorted({float(width), 1.0})), input_size=tuple(input_size)), out["sizes"], index=True)
    # MTLNet sees only the CT: its AUC is compared with the image-only ceiling, not the latent one
    image_ceiling = None if ceiling is None else ceiling[IMAGE_CEILING if IMAGE_CEILING in ceiling else LATENT_CEILING]
    # each row's CI method is put in front by metric_claims (the headline's "CI method" column): the note names none
    note = f"Dice on the CT's own grid; sensitivity, specificity and accuracy at the threshold chosen on the validation set; {train_set} rows in-sample"
    if ceiling is not None:
        note += "; ceiling: the image-only ceiling (what the CT shows), an estimate, not a bound"
    write_claims(Path(out["claims"]).parents[1], MTLNET_CLAIMS_CHAPTER, metric_claims(headline, study="mtlnet2025", note=note, auc_ceiling=image_ceiling, learning=learning), run=run, path=out["claims"])
    ceiling_test = mtlnet_ceiling_test(study, scores, train_set=train_set, learned=learned, n_resamples=n_resamples, seed=seed)
    write_csv(ceiling_test, out["ceiling_test"], index="note" not in ceiling_test)


def mtlnet_ceiling_test(study: LoadedStudy, scores: pd.DataFrame, *, train_set: str, learned: bool, n_resamples: int, seed: int) -> pd.DataFrame:
    """MTLNet's AUC against the image-only ceiling on the same patients, per set (``evaluate.ceiling_table``).

    The ceiling is a population bound estimated on each set: the paired DeLong ΔAUC (MTLNet −
    ceiling) with its 95% CI and (AUC − 0.5)/(ceiling − 0.5) with a paired bootstrap CI say how
    far MTLNet is from it; ``scores`` marks the training rows in-sample (MTLNet was fitted on
    those patients). One ``note`` row on a real cohort, or when the classifier did not learn.
    """
    from ecrs_analysis.stats import evaluate  # lazy: loads scipy, sklearn, statsmodels

    truth = study.cohort.truth
    if truth is None or "image_prob" not in truth:
        return pd.DataFrame({"note": ["a real cohort has no known ceiling"]})
    if not learned:
        return pd.DataFrame({"note": ["the classifier did not learn: no comparison with the ceiling"]})
    table = scores.astype({"patient_id": str}).merge(truth[["patient_id", "image_prob"]].astype({"patient_id": str}), on="patient_id", how="left")
    try:
        out = evaluate.ceiling_table(table.dropna(subset=["prob", "image_prob"]), ["prob"], ceiling="image_prob", sets=list(study.split.names), n_resamples=n_resamples, seed=seed)
    except ValueError as exc:  # a set too small for the statistic: said, not a failed job
        return pd.DataFrame({"note": [f"not computable on these sets: {exc}"]})
    out = out.rename(index={"prob": "mtlnet"}, level="model")
    return out.assign(ceiling="image_prob", scores=evaluate.score_origin(out, train_set=train_set, in_sample=["mtlnet"]))
