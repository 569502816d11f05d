"""The explanation jobs: maps of one network of one study, and what simple image summaries predict.

Reads (the pipeline's layout, ``results/<profile>/``)::

    li2025/deep/<model>/fold<k>/best.pt      CNN checkpoints ({"model": state_dict})
    li2025/scores_deep.csv, li2025/folds.csv per-patient scores and the fold model that scored each test patient
    mtlnet2025/mtlnet/best.pt, scores.csv    MTLNet and its scores
    <study>/preprocessed.csv                 patient_id -> cached model input (.npz)

Writes, under ``<study>/explain/<model>/`` (one workflow job, :func:`explain_job`)::

    maps/<patient_id>.npz        the map of the model that scored the patient, on the input grid, and the
                                 map of the same network with random weights; class, probability, provenance
    explained.csv                the explained patients: set, label, score, outcome, scoring fold(s)
    metrics.csv                  pointing game and energy share per map and region
    sanity.csv                   Spearman correlations (randomisation test) per patient
    deletion.csv                 the deletion curve of every patient (map order, random order, perfect map of the evidence)
    controls.csv                 the positive control of each candidate layer, per patient
    attention.csv, attention_by_outcome.csv, sanity_summary.csv, deletion_curve.csv,
    deletion_area.csv, layers.csv   the summaries the chapter shows (bootstrap CIs over patients)

(and, per study, what simple image summaries predict: :mod:`ecrs_analysis.jobs.explain_summaries`).

Each patient is explained by the model that produced the score the book reports: under
``deep.test_scoring: single`` the one fold model of ``folds.csv``, under ``ensemble`` the mean of
the fold models' maps (and probabilities).  What differs between the studies' networks (which
checkpoints, which width, which scores table, which test scoring) is resolved once, from the
job's :class:`~ecrs_analysis.jobs.explain_rules.ExplainJob`, and handed to
:func:`explain_network` as arguments.
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
from ecrs_analysis.config.schema import PreprocessSettings, StatsSettings
from ecrs_analysis.data.preprocess import load_preprocessed
from ecrs_analysis.data.study import LoadedStudy, ResultPaths, load_study
from ecrs_analysis.explain.cam import CamExplainer, SingleLogit, randomised_copy
from ecrs_analysis.explain.control import candidate_layers, layer_grid, perfect_map
from ecrs_analysis.explain.deletion import CLASS_NAMES, deletion_curve, summarise_deletion, training_mean
from ecrs_analysis.explain.evidence import evidence_definition, evidence_files
from ecrs_analysis.explain.inverse import InputGrid
from ecrs_analysis.explain.metrics import centre_map, distance_to, energy_share, mean_ci, pointing_hit, random_map, spearman_maps, summarise_attention, summarise_sanity
from ecrs_analysis.explain.outcomes import choose_patients, label_outcomes, scoring_folds
from ecrs_analysis.explain.regions import ensemble_map, patient_regions
from ecrs_analysis.explain.settings import ExplainSettings
from ecrs_analysis.hashing import hash_params, sha256_path, weights_sha256
from ecrs_analysis.jobs.explain_rules import MTLNET, ExplainJob, job_of
from ecrs_analysis.models import build_model
from ecrs_analysis.paths import CHECKPOINT
from ecrs_analysis.training.helper import load_checkpoint
from ecrs_analysis.training.mtl_settings import MTLNetSettings

__all__ = [
    "Network", "deep_networks", "mtlnet_network", "load_network", "network_of", "job_scores", "read_regions",
    "explain_job", "explain_network",
]


@dataclass(frozen=True)
class Network:
    """One trained network of a study: its registry name and one checkpoint per fold."""

    study: str
    name: str
    checkpoints: tuple[tuple[int, Path], ...]
    width: float
    multitask: bool = False
    settings: MTLNetSettings | None = field(default=None, compare=False, repr=False)
    """MTLNet's ``mtlnet`` parameters: the network is built by ``training.mtl.build_mtlnet`` from them."""

    @property
    def folds(self) -> tuple[int, ...]:
        return tuple(k for k, _ in self.checkpoints)


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
        raise ValueError("explaining MTLNet needs the `mtlnet` parameters (its width); declare `mtlnet` in this job's params (jobs.explain_rules.job_params)")
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


def _save_maps(path: Path, *, cam: np.ndarray, randomised: np.ndarray, class_idx: int, prob: float, provenance: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, cam=cam.astype(np.float32), randomised=randomised.astype(np.float32), class_idx=class_idx, prob=prob, provenance=json.dumps(provenance, sort_keys=True))


def read_regions(row: pd.Series, evidence: Path | None, labels: tuple[int, ...] | None) -> dict[str, np.ndarray]:
    """:func:`~ecrs_analysis.explain.regions.patient_regions` of a cohort row: its lesion ROI file and its evidence label map, read."""
    roi = sitk.GetArrayFromImage(sitk.ReadImage(row["roi_mask"])) if isinstance(row.get("roi_mask"), str) else None
    ev = sitk.GetArrayFromImage(sitk.ReadImage(str(evidence))) if evidence is not None and labels is not None else None
    return patient_regions(roi=roi, evidence=ev, labels=labels)


def network_of(cfg: Any, paths: ResultPaths, job: ExplainJob) -> Network:
    """The trained network of a job, or a clear error naming what is missing."""
    if job.multitask:
        net = mtlnet_network(cfg, paths)
    else:
        net = next((n for n in deep_networks(cfg, paths) if n.name == job.model), None)
    if net is None:
        raise FileNotFoundError(f"no trained {job.model} of {job.study} under {paths.study(job.study)}: run its training stage first")
    return net


def job_scores(paths: ResultPaths, job: ExplainJob) -> tuple[pd.DataFrame, pd.Series | None]:
    """``patient_id, set, label, score`` as the book reports them, and each patient's fold (None: one model)."""
    if job.multitask:
        sc = pd.read_csv(paths.job_scores(paths.mtlnet_job(job.study, MTLNET)), dtype={"patient_id": str})
        return sc[["patient_id", "set", "label", "prob"]].rename(columns={"prob": "score"}), None
    sc = pd.read_csv(paths.study(job.study) / "scores_deep.csv", dtype={"patient_id": str})
    folds = pd.read_csv(paths.study(job.study) / "folds.csv", dtype={"patient_id": str})
    return sc[["patient_id", "set", "label", job.model]].rename(columns={job.model: "score"}), folds.set_index("patient_id")["fold"]


def _prob_of(models: list[nn.Module], class_idx: int) -> Callable[[np.ndarray], np.ndarray]:
    """Batch (B, X, Y, Z) -> P(class) of the scoring model: the mean of the fold models' softmax (one model: its own)."""

    def score(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.asarray(batch, dtype=np.float32)[:, None])
        with torch.no_grad():
            return torch.stack([torch.softmax(m(x), dim=1)[:, class_idx] for m in models]).mean(0).numpy()

    return score


def explain_job(cfg: Any, paths: ResultPaths, study_name: str, model: str) -> Path:
    """One workflow job (``rule explain``): resolve the job's network, scores and settings, then :func:`explain_network`.

    Parameters
    ----------
    cfg : the job's declared parameters (``ecrs_analysis.config.declared``)
        ``seed``, ``stats``, ``explain``, ``studies.<study>`` and ``deep`` (li2025) or ``mtlnet`` (MTLNet):
        :func:`ecrs_analysis.jobs.explain_rules.job_params`.

    Returns
    -------
    Path
        ``<study>/explain/<model>``.
    """
    job = job_of(study_name, model)
    study = load_study(cfg, study_name, paths)
    net = network_of(cfg, paths, job)
    scores, fold_of = job_scores(paths, job)
    s = getattr(cfg.studies, study_name)
    return explain_network(
        study, net, scores, fold_of,
        index=pd.read_csv(paths.preprocessed_index(study_name), dtype={"patient_id": str}),
        folder=paths.study(study_name) / "explain" / model,
        test_scoring="single" if job.multitask else cfg.deep.test_scoring,  # MTLNet: one model
        pre=s.preprocess,
        mask_cols=tuple(m for m in study.cohort.mask_columns if m in s.masks),
        settings=cfg.explain, stats=cfg.stats, seed=cfg.seed,
    )


def explain_network(
    study: LoadedStudy,
    net: Network,
    scores: pd.DataFrame,
    fold_of: pd.Series | None,
    *,
    index: pd.DataFrame,
    folder: Path,
    test_scoring: str,
    pre: PreprocessSettings,
    mask_cols: tuple[str, ...],
    settings: ExplainSettings,
    stats: StatsSettings,
    seed: int,
) -> Path:
    """Maps, measurements and summaries of one network of one study, written under ``folder`` (see the module docstring).

    Parameters
    ----------
    study : LoadedStudy
        The study's cohort and split.
    net : Network
        The trained network (every fold's checkpoint).
    scores, fold_of
        :func:`job_scores`: ``patient_id, set, label, score`` as the book reports them, and each
        patient's fold (None: one network).
    index : DataFrame
        ``<study>/preprocessed.csv`` (patient_id -> cached model input).
    folder : Path
        ``<study>/explain/<model>``.
    test_scoring : {"single", "ensemble"}
        Which fold model(s) scored a test patient (``deep.test_scoring``; ``single`` for one network).
    pre, mask_cols
        The study's preprocessing and the masks it preprocesses.
    settings, stats, seed
        The ``explain`` and ``stats`` parameters and the book's seed.

    Returns
    -------
    Path
        ``folder``.
    """
    model = net.name
    table = study.table
    evidence = evidence_files(study)
    definition = evidence_definition(study)
    train_set, test_sets = study.split.train_name, list(study.split.test_names)
    st = stats
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
        used = scoring_folds(net.folds, None if fold_of is None else fold_of.get(p.patient_id), test_scoring=test_scoring, network=net.name)
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
        regions = read_regions(row, ev_path, labels)
        on_input: dict[str, np.ndarray] = {}
        if "lesion ROI" in regions and "roi_mask" in grid.out:
            on_input["lesion ROI"] = np.asarray(grid.out["roi_mask"][0]) > 0.5
        if "evidence" in regions:
            assert labels is not None  # read_regions reads the evidence map only with its labels
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
                est, lo, hi, _ = mean_ci(g[col].to_numpy(), n_resamples=n_res, level=0.95, seed=seed)
                row[f"{r}: perfect map {label}"], row[f"{r}: perfect map {label} low"], row[f"{r}: perfect map {label} high"] = est, lo, hi
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
