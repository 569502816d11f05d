"""Maps of one network of one study: which patients, which model explains them, and what is measured.

Reads (the pipeline's layout, ``results/<profile>/``)::

    li2025/deep/<model>/fold<k>/best.pt      CNN checkpoints ({"model": state_dict})
    li2025/scores_deep.csv, li2025/folds.csv per-patient scores and the fold model that scored each test patient
    mtlnet2025/mtlnet/best.pt, scores.csv    MTLNet and its scores
    <study>/preprocessed.csv                 patient_id -> cached model input (.npz)

Writes, under ``<study>/explain/<model>/`` (one workflow job, :func:`explain_network`)::

    maps/<patient_id>.npz        the map of the model that scored the patient, on the input grid, and the
                                 map of the same network with random weights; class, probability, provenance
    explained.csv                the explained patients: set, label, score, outcome, scoring fold(s)
    metrics.csv                  pointing game and energy share per map and region
    sanity.csv                   Spearman correlations (randomisation test) per patient
    deletion.csv                 the deletion curve of every patient (map order, random order, perfect map of the evidence)
    controls.csv                 the positive control of each candidate layer, per patient
    attention.csv, attention_by_outcome.csv, sanity_summary.csv, deletion_curve.csv,
    deletion_area.csv, layers.csv   the summaries the chapter shows (bootstrap CIs over patients)

Each patient is explained by the model that produced the score the book reports: under
``deep.test_scoring: single`` the one fold model of ``folds.csv``, under ``ensemble`` the mean of
the fold models' maps (and probabilities).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import SimpleITK as sitk
import torch
from torch import nn

from ecrs_analysis.atomic import atomic_path, write_csv
from ecrs_analysis.data.preprocess import load_preprocessed
from ecrs_analysis.paths import CHECKPOINT
from ecrs_analysis.data.study import LoadedStudy, ResultPaths, load_study
from ecrs_analysis.explain.cam import CamExplainer, SingleLogit, randomised_copy
from ecrs_analysis.explain.inverse import InputGrid
from ecrs_analysis.explain.jobs import MTLNET
from ecrs_analysis.explain.metrics import centre_map, distance_to, energy_share, pointing_hit, random_map, spearman_maps
from ecrs_analysis.explain.settings import ExplainSettings
from ecrs_analysis.hashing import hash_params, sha256_path, weights_sha256
from ecrs_analysis.models import build_model
from ecrs_analysis.stats.threshold import choose_threshold
from ecrs_analysis.training.helper import load_checkpoint

__all__ = [
    "Network", "deep_networks", "mtlnet_network", "load_network", "network_scores", "label_outcomes",
    "choose_patients", "explain_network", "network_of", "job_scores", "scoring_folds", "evidence_definition", "ensemble_map", "patient_regions", "load_map", "OUTCOMES",
]

OUTCOMES = ("TP", "FP", "FN", "TN")


@dataclass(frozen=True)
class Network:
    """One trained network of a study: its registry name and one checkpoint per fold."""

    study: str
    name: str
    checkpoints: tuple[tuple[int, Path], ...]
    width: float
    multitask: bool = False
    settings: Any = field(default=None, compare=False, repr=False)
    """MTLNet's ``mtlnet`` parameters: the network is built by ``training.mtl.build_mtlnet`` from them."""


def deep_networks(cfg: Any, paths: ResultPaths) -> list[Network]:
    """The first study's CNNs that have checkpoints (``li2025/deep/<model>/fold<k>/best.pt``)."""
    nets = []
    for name in cfg.deep.models:
        folder = paths.study("li2025") / "deep" / name
        ckpts = sorted((int(p.parent.name.removeprefix("fold")), p) for p in folder.glob(f"fold*/{CHECKPOINT}") if p.parent.name.removeprefix("fold").isdigit())
        if ckpts:
            nets.append(Network("li2025", name, tuple(ckpts), cfg.deep.width))
    return nets


def mtlnet_network(cfg: Any, paths: ResultPaths) -> Network | None:
    """MTLNet (``mtlnet2025/mtlnet/best.pt``), or None when it has not been trained."""
    ckpt = paths.checkpoint(paths.mtlnet_job("mtlnet2025", MTLNET))
    if not ckpt.exists():
        return None
    # MTLNet has its own width (mtlnet.width), never the CNNs' deep.width: a stage that explains MTLNet must declare `mtlnet`.
    settings = getattr(cfg, "mtlnet", None)
    if settings is None:
        raise ValueError("explaining MTLNet needs the `mtlnet` parameters (its width); declare `mtlnet` in this job's params (explain.jobs.job_params)")
    return Network("mtlnet2025", MTLNET, ((0, ckpt),), settings.width, multitask=True, settings=settings)


def load_network(net: Network, checkpoint: Path) -> nn.Module:
    """The network with a checkpoint's weights, as a single-output classifier in eval mode."""
    if net.multitask and net.settings is not None:
        from ecrs_analysis.training.mtl import build_mtlnet

        model = build_mtlnet(net.settings)
    else:
        model = build_model(net.name, in_channels=1, num_classes=2, width=net.width)
    state = load_checkpoint(checkpoint)
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError) as exc:
        raise ValueError(f"checkpoint {checkpoint} does not fit {net.name} at width {net.width} ({str(exc).splitlines()[0]}); was it trained with other deep.width?") from None
    return (SingleLogit(model, index=1) if net.multitask else model).eval()


def network_scores(model: nn.Module, table: pd.DataFrame, index: pd.DataFrame, *, batch_size: int = 8) -> pd.DataFrame:
    """P(eCRS) of every patient of ``table`` (patient_id, set, label), one forward pass each."""
    t = table[["patient_id", "set", "label"]].merge(index[["patient_id", "path"]], on="patient_id", how="inner")
    probs = []
    with torch.no_grad():
        for start in range(0, len(t), batch_size):
            x = torch.from_numpy(np.stack([load_preprocessed(p)["image"] for p in t["path"].iloc[start : start + batch_size]]).astype(np.float32))
            probs.append(torch.softmax(model(x), dim=1)[:, 1].numpy())
    return t.drop(columns="path").assign(score=np.concatenate(probs) if probs else [])


def label_outcomes(scores: pd.DataFrame, *, train_set: str, rule: str, target: float | None) -> tuple[pd.DataFrame, float]:
    """Operating point chosen on the training set (the book's rule), then TP/FP/FN/TN of every patient."""
    train = scores[scores["set"] == train_set]
    threshold = choose_threshold(train["label"], train["score"], rule=rule, target=target, name=f"training set ({train_set})")
    pred = (scores["score"] >= threshold).astype(int)
    y = scores["label"].astype(int)
    outcome = np.select([(pred == 1) & (y == 1), (pred == 1) & (y == 0), (pred == 0) & (y == 1)], ["TP", "FP", "FN"], "TN")
    return scores.assign(predicted=pred, outcome=outcome), threshold


def choose_patients(scores: pd.DataFrame, *, sets: list[str], n_per_set: int | None, seed: int) -> pd.DataFrame:
    """``n_per_set`` patients of each set (None: all), taken in turn from TP, FP, FN and TN (each shuffled with the seed)."""
    rng = np.random.default_rng(seed)
    chosen = []
    for name in sets:
        if n_per_set is None:
            chosen += list(np.flatnonzero((scores["set"] == name).to_numpy()))
            continue
        pools = [list(rng.permutation(np.flatnonzero(((scores["set"] == name) & (scores["outcome"] == o)).to_numpy()))) for o in OUTCOMES]
        picked: list[int] = []
        while len(picked) < n_per_set and any(pools):
            for pool in pools:
                if pool and len(picked) < n_per_set:
                    picked.append(pool.pop(0))
        chosen += picked
    return scores.iloc[chosen].reset_index(drop=True)


def _save_maps(path: Path, *, cam: np.ndarray, randomised: np.ndarray, class_idx: int, prob: float, provenance: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, cam=cam.astype(np.float32), randomised=randomised.astype(np.float32), class_idx=class_idx, prob=prob, provenance=json.dumps(provenance, sort_keys=True))


def load_map(folder: Path, patient_id: str, *, which: str = "cam") -> np.ndarray:
    """A patient's map (``cam``, or ``randomised``) on the input grid from ``<study>/explain/<model>/maps/``."""
    with np.load(Path(folder) / "maps" / f"{patient_id}.npz") as z:
        return z[which]


def ensemble_map(maps: list[np.ndarray]) -> np.ndarray:
    """Mean of the fold networks' maps (each on [0, 1]), scaled back to [0, 1]: the map of the fold ensemble."""
    m = np.mean(maps, axis=0)
    return (m / m.max()).astype(np.float32) if m.max() > 0 else m.astype(np.float32)


def patient_regions(row: pd.Series, evidence: Path | None, labels: tuple[int, ...] | None) -> dict[str, np.ndarray]:
    """Regions in the CT's (z, y, x) array order: the lesion ROI and, on synthetic data, the class's evidence.

    ``labels``: the evidence-map labels that argue for the explained class
    (:func:`evidence_definition`).
    """
    out = {}
    if isinstance(row.get("roi_mask"), str):
        out["lesion ROI"] = sitk.GetArrayFromImage(sitk.ReadImage(row["roi_mask"])) > 0
    if evidence is not None and labels is not None:
        out["evidence"] = np.isin(sitk.GetArrayFromImage(sitk.ReadImage(str(evidence))), labels)
    return out


def _evidence_files(study: LoadedStudy) -> dict[str, Path]:
    truth = study.cohort.truth
    if truth is None or "evidence_mask" not in truth:
        return {}
    base = study.cohort.manifest_path.parent
    return {pid: base / rel for pid, rel in zip(truth["patient_id"], truth["evidence_mask"]) if isinstance(rel, str)}




def evidence_definition(study: LoadedStudy) -> dict[int, tuple[int, ...]] | None:
    """Class -> evidence labels for a synthetic cohort (the generator's conditional dependence, :mod:`.evidence`), None for a real one."""
    if not _evidence_files(study):
        return None
    from ecrs_analysis.data.synth.designs import DESIGNS
    from ecrs_analysis.explain.evidence import conditional_evidence, evidence_labels

    return evidence_labels(conditional_evidence(study.name)) if study.name in DESIGNS else None  # a synthetic study is generated by its design


def network_of(cfg: Any, paths: ResultPaths, study: str, model: str) -> Network:
    """The trained network of a job, or a clear error naming what is missing."""
    if study == "mtlnet2025" and model == MTLNET:
        net = mtlnet_network(cfg, paths)
    else:
        net = next((n for n in deep_networks(cfg, paths) if n.name == model), None) if study == "li2025" else None
    if net is None:
        raise FileNotFoundError(f"no trained {model} of {study} under {paths.study(study)}: run its training stage first")
    return net


def job_scores(cfg: Any, paths: ResultPaths, study: str, model: str) -> tuple[pd.DataFrame, pd.Series | None]:
    """``patient_id, set, label, score`` as the book reports them, and each patient's fold (None: one model)."""
    if model == MTLNET:
        sc = pd.read_csv(paths.job_scores(paths.mtlnet_job(study, MTLNET)), dtype={"patient_id": str})
        return sc[["patient_id", "set", "label", "prob"]].rename(columns={"prob": "score"}), None
    sc = pd.read_csv(paths.study(study) / "scores_deep.csv", dtype={"patient_id": str})
    folds = pd.read_csv(paths.study(study) / "folds.csv", dtype={"patient_id": str})
    return sc[["patient_id", "set", "label", model]].rename(columns={model: "score"}), folds.set_index("patient_id")["fold"]


def scoring_folds(net: Network, fold: int | None, *, test_scoring: str) -> tuple[int, ...]:
    """The fold model(s) whose score the book reports for a patient: its fold (single), every fold (ensemble)."""
    folds = tuple(k for k, _ in net.checkpoints)
    if len(folds) == 1:
        return folds
    if test_scoring == "ensemble":
        return folds
    if fold is None or int(fold) not in folds:
        raise ValueError(f"{net.name}: the patient's fold {fold} has no checkpoint (folds found: {list(folds)}); folds.csv and the training jobs disagree")
    return (int(fold),)


def _prob_of(models: list[nn.Module], class_idx: int) -> Callable[[np.ndarray], np.ndarray]:
    """Batch (B, X, Y, Z) -> P(class) of the scoring model: the mean of the fold models' softmax (one model: its own)."""

    def score(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.asarray(batch, dtype=np.float32)[:, None])
        with torch.no_grad():
            return torch.stack([torch.softmax(m(x), dim=1)[:, class_idx] for m in models]).mean(0).numpy()

    return score


def explain_network(cfg: Any, paths: ResultPaths, study_name: str, model: str) -> Path:
    """One workflow job: maps, measurements and summaries of one network of one study (see the module docstring).

    Parameters
    ----------
    cfg : the job's declared parameters (``ecrs_analysis.config.declared``)
        ``seed``, ``stats``, ``explain``, ``studies.<study>`` and ``deep`` (li2025) or ``mtlnet`` (MTLNet):
        :func:`ecrs_analysis.explain.jobs.job_params`.

    Returns
    -------
    Path
        ``<study>/explain/<model>``.
    """
    from ecrs_analysis.explain.control import candidate_layers, layer_grid, perfect_map
    from ecrs_analysis.explain.deletion import CLASS_NAMES, deletion_curve, summarise_deletion, training_mean
    from ecrs_analysis.explain.metrics import mean_ci, summarise_attention, summarise_sanity

    settings: ExplainSettings = cfg.explain
    study = load_study(cfg, study_name, paths)
    net = network_of(cfg, paths, study_name, model)
    scores, fold_of = job_scores(cfg, paths, study_name, model)
    test_scoring = cfg.deep.test_scoring if study_name == "li2025" else "single"  # MTLNet: one model
    folder = paths.study(study_name) / "explain" / model
    s = getattr(cfg.studies, study_name)
    index = pd.read_csv(paths.preprocessed_index(study_name), dtype={"patient_id": str})
    table = study.table
    pre = s.preprocess
    mask_cols = tuple(m for m in study.cohort.mask_columns if m in s.masks)
    evidence = _evidence_files(study)
    definition = evidence_definition(study)
    train_set, test_sets = study.split.train_name, list(study.split.test_names)
    seed = cfg.seed
    st = cfg.stats
    # the deletion fill: the mean training input at each voxel (why not air or a blur: explain.deletion)
    fill = training_mean(index.loc[index["patient_id"].isin(table.loc[table["set"] == study.split.train_name, "patient_id"]), "path"])

    labelled, threshold = label_outcomes(scores, train_set=train_set, rule=st.threshold_rule, target=st.threshold_target)
    # the same seed for every network: where their outcomes agree they explain the same patients
    chosen = choose_patients(labelled, sets=test_sets, n_per_set=settings.n_per_set, seed=seed)
    models = {fold: load_network(net, ckpt) for fold, ckpt in net.checkpoints}
    layer = settings.layer(model)
    wrap = SingleLogit.layer if net.multitask else (lambda name: name)
    explainers = {fold: CamExplainer(m, layer=wrap(layer), method=settings.method) for fold, m in models.items()}
    randomised: dict[int, CamExplainer] = {}
    weights_sha = {fold: weights_sha256(load_checkpoint(p)["model"]) for fold, p in net.checkpoints}  # not the file's: it holds timings
    input_shape = tuple(int(n) for n in pre.input_size)
    first = models[net.checkpoints[0][0]]
    candidates = {**candidate_layers(model), "explained": layer}
    grids = {k: layer_grid(first, wrap(v), input_shape) for k, v in candidates.items()}
    map_name = "Grad-CAM" if settings.method == "gradcam" else "Grad-CAM++"
    fold_list = [k for k, _ in net.checkpoints]

    (folder / "maps").mkdir(parents=True, exist_ok=True)  # a declared output, even when no patient is explained
    rows, metric_rows, sanity_rows, deletion_rows, control_rows = [], [], [], [], []
    for p in chosen.itertuples(index=False):
        row = table.loc[table["patient_id"] == p.patient_id].iloc[0]
        npz = index.loc[index["patient_id"] == p.patient_id, "path"].iloc[0]
        volume = load_preprocessed(npz)["image"]
        volume = volume.reshape(volume.shape[-3:])  # (1, X, Y, Z) as cached -> (X, Y, Z)
        class_idx = 1 if p.outcome in ("TP", "FP") else 0
        used = scoring_folds(net, None if fold_of is None else fold_of.get(p.patient_id), test_scoring=test_scoring)
        cam = ensemble_map([explainers[f](volume, class_idx=class_idx).cam for f in used])
        if used[0] not in randomised:
            randomised[used[0]] = CamExplainer(randomised_copy(models[used[0]], seed=seed), layer=wrap(layer), method=settings.method)
        random_weights = randomised[used[0]](volume, class_idx=class_idx).cam
        rho = spearman_maps(cam, random_weights)
        fails = bool(np.isfinite(rho) and rho > settings.sanity_max_spearman)
        sanity_rows.append({"model": model, "patient_id": p.patient_id, "comparison": "trained vs random weights", "spearman": rho})
        if len(used) == 1 and len(fold_list) > 1:  # scale: the map of another fold network of the same architecture
            other = fold_list[(fold_list.index(used[0]) + 1) % len(fold_list)]
            sanity_rows.append({"model": model, "patient_id": p.patient_id, "comparison": "scoring fold vs another fold (both trained)", "spearman": spearman_maps(cam, explainers[other](volume, class_idx=class_idx).cam)})
        _save_maps(folder / "maps" / f"{p.patient_id}.npz", cam=cam, randomised=random_weights, class_idx=class_idx, prob=float(p.score), provenance={
            "method": settings.method, "layer": layer, "class_idx": class_idx, "folds": list(used), "test_scoring": test_scoring,
            "weights_sha256": [weights_sha[f] for f in used], "input_sha256": sha256_path(npz), "randomised_seed": seed,
        })

        ev_path = evidence.get(p.patient_id)
        grid = InputGrid(row["image"], {**{c: row[c] for c in mask_cols}, **({"evidence": str(ev_path)} if ev_path else {})}, pre)
        grid.check(volume, patient=p.patient_id)
        labels = definition[class_idx] if definition is not None else None
        regions = patient_regions(row, ev_path, labels)
        on_input: dict[str, np.ndarray] = {}
        if "lesion ROI" in regions and "roi_mask" in grid.out:
            on_input["lesion ROI"] = np.asarray(grid.out["roi_mask"][0]) > 0.5
        if "evidence" in regions:
            on_input["evidence"] = np.isin(np.rint(np.asarray(grid.out["evidence"][0])).astype(int), labels)
        # positive control of the deletion test: the explained class's evidence (a real cohort: the lesion ROI) as the layer's perfect map
        control_region = next((r for r in ("evidence", "lesion ROI") if r in on_input), None)
        control = perfect_map(on_input[control_region], grids["explained"]) if control_region and on_input[control_region].any() else None
        curve = deletion_curve(_prob_of([models[f] for f in used], class_idx), volume, cam, control=control, fractions=settings.deletion_fractions, fill=fill, seed=seed)
        deletion_rows.append(curve.assign(model=model, patient_id=p.patient_id, set=p.set, outcome=p.outcome, **{"explained class": CLASS_NAMES[class_idx], "perfect map of": control_region or ""}))

        crop = sitk.GetArrayFromImage(grid.to_ct(np.ones_like(cam), nearest=True)) > 0
        baseline_seed = int(hash_params(seed, p.patient_id, length=8), 16)
        spacing_zyx = grid.reference.GetSpacing()[::-1]
        distances = {k: distance_to(r, spacing=spacing_zyx) for k, r in regions.items()} if settings.pointing_tolerance_mm > 0 else {}
        zone = {k: distances[k] <= settings.pointing_tolerance_mm if k in distances else r for k, r in regions.items()}

        def measure(arr: np.ndarray, region_names: list[str]) -> list[dict[str, Any]]:
            ct_map = np.clip(sitk.GetArrayFromImage(grid.to_ct(arr)), 0.0, None)
            return [{
                "region": r,
                "pointing": pointing_hit(ct_map, regions[r], distance=distances.get(r), tolerance_mm=settings.pointing_tolerance_mm),
                "energy": energy_share(ct_map, regions[r]),
            } for r in region_names]

        def chance(r: str) -> dict[str, float]:
            # what a map that knows nothing scores: pointing at a random voxel of the crop hits the hit zone with the zone's
            # share of the crop (pointing game); a uniform map over the crop puts the region's share of the crop inside it (energy share)
            n = max(int(crop.sum()), 1)
            return {"hit zone share of crop": float(zone[r][crop].sum() / n), "region share of crop": float(regions[r][crop].sum() / n)}

        base = {"model": model, "patient_id": p.patient_id, "set": p.set, "outcome": p.outcome}
        maps = {map_name: cam, "random": random_map(cam.shape, seed=baseline_seed), "crop centre": centre_map(cam.shape)}
        for name, arr in maps.items():
            for m in measure(arr, list(regions)):
                metric_rows.append({**base, "map": name, **m, "fails randomisation": fails and name == map_name, **chance(m["region"])})
        done: dict[tuple[str, str], dict[str, Any]] = {}  # (layer, region) -> measures: the explained layer is usually a candidate too
        for scale, grid_shape in grids.items():
            for r, mask in on_input.items():
                key = (candidates[scale], r)
                m = done[key] if key in done else measure(perfect_map(mask, grid_shape), [r])[0]
                done[key] = m
                if scale == "explained":
                    metric_rows.append({**base, "map": "perfect map (positive control)", **m, "fails randomisation": False, **chance(r)})
                control_rows.append({**base, "layer": candidates[scale], "scale": scale, **m})
        rows.append({**base, "label": int(p.label), "score": float(p.score), "class_idx": class_idx, "folds": " ".join(map(str, used)), "threshold": threshold, "randomisation ρ": rho, "fails randomisation": fails})

    explained, metrics, sanity = pd.DataFrame(rows), pd.DataFrame(metric_rows), pd.DataFrame(sanity_rows)
    deletion = pd.concat(deletion_rows, ignore_index=True) if deletion_rows else pd.DataFrame()
    controls = pd.DataFrame(control_rows)
    n_res = st.n_resamples
    attention = summarise_attention(metrics, by=["model", "region", "map"], n_resamples=n_res, seed=seed)
    attention["pointing game chance"] = metrics.groupby(["model", "region", "map"], sort=False)["hit zone share of crop"].mean()
    attention["energy share chance"] = metrics.groupby(["model", "region", "map"], sort=False)["region share of crop"].mean()
    attention["maps failing randomisation"] = metrics.groupby(["model", "region", "map"], sort=False)["fails randomisation"].sum().astype(int)
    by_outcome = summarise_attention(metrics, by=["model", "region", "map", "outcome"], n_resamples=n_res, seed=seed)
    curve, area = summarise_deletion(deletion, n_resamples=n_res, seed=seed) if len(deletion) else (pd.DataFrame(), pd.DataFrame())
    if len(area):
        area["perfect map of"] = ", ".join(sorted(set(deletion["perfect map of"]) - {""})) or "–"
    layer_rows = []
    for scale, lname in candidates.items():
        row = {"model": model, "scale": scale, "layer": lname, "input grid": "×".join(map(str, input_shape)), "layer grid": "×".join(map(str, grids[scale]))}
        for r in controls["region"].unique() if len(controls) else []:
            g = controls[(controls["scale"] == scale) & (controls["region"] == r)]
            for col, label in (("pointing", "pointing game"), ("energy", "energy share")):
                m, lo, hi, _ = mean_ci(g[col].to_numpy(), n_resamples=n_res, level=0.95, seed=seed)
                row[f"{r}: perfect map {label}"], row[f"{r}: perfect map {label} low"], row[f"{r}: perfect map {label} high"] = m, lo, hi
        layer_rows.append(row)
    tables = {
        "explained.csv": explained, "metrics.csv": metrics, "sanity.csv": sanity, "deletion.csv": deletion, "controls.csv": controls,
        "attention.csv": attention.reset_index(), "attention_by_outcome.csv": by_outcome.reset_index(),
        "sanity_summary.csv": summarise_sanity(sanity).reset_index() if len(sanity) else pd.DataFrame(),
        "deletion_curve.csv": curve, "deletion_area.csv": area, "layers.csv": pd.DataFrame(layer_rows),
    }
    for name, t in tables.items():
        write_csv(t, folder / name)
    return folder
