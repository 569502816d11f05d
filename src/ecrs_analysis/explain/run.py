"""Maps for a whole test set: which networks, which patients, and the cached artefacts.

Reads (the pipeline's layout, ``results/<profile>/``)::

    li2025/deep/<model>/fold<k>/best.pt      CNN checkpoints ({"model": state_dict})
    li2025/scores_deep.csv                   per-patient scores (patient_id, set, label, <model>...)
    mtlnet2025/mtlnet/best.pt                MTLNet (optional: skipped when absent)
    <study>/preprocessed.csv                 patient_id -> cached model input (.npz)

Writes, under ``<study>/explain/``::

    <model>/fold<k>/<patient_id>.npz         map on the input grid + class, probability, provenance
    <model>/randomised/<patient_id>.npz      the same for the network with random weights
    explained.csv                            the explained patients: set, label, score, outcome
    metrics.csv                              pointing game and energy share per map and region
    sanity.csv                               Spearman correlations (randomisation test)

A map is recomputed only when its provenance (method, layer, class, checkpoint sha256,
input sha256) changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import SimpleITK as sitk
import torch
from torch import nn
from tqdm import tqdm

from ecrs_analysis.atomic import atomic_path, write_csv
from ecrs_analysis.data.preprocess import PreprocessParams, load_preprocessed
from ecrs_analysis.data.study import LoadedStudy, ResultPaths
from ecrs_analysis.data.synth.anatomy import ENDOTYPE_EVIDENCE
from ecrs_analysis.explain.cam import CamExplainer, SingleLogit, randomised_copy
from ecrs_analysis.explain.inverse import InputGrid
from ecrs_analysis.explain.metrics import centre_map, distance_to, energy_share, pointing_hit, random_map, spearman_maps
from ecrs_analysis.explain.settings import ExplainSettings
from ecrs_analysis.hashing import hash_params, sha256_path
from ecrs_analysis.models import build_model, cam_layer
from ecrs_analysis.stats.threshold import choose_threshold
from ecrs_analysis.training.helper import load_checkpoint

__all__ = [
    "CAM_VERSION", "Network", "deep_networks", "mtlnet_network", "load_network", "network_scores", "label_outcomes",
    "choose_patients", "Explanation", "explain_study", "ensemble_map", "patient_regions", "OUTCOMES",
]

CAM_VERSION = "1"  # bump when a cached map would come out differently for the same provenance
OUTCOMES = ("TP", "FP", "FN", "TN")
MTLNET = "mtlnet"


@dataclass(frozen=True)
class Network:
    """One trained network of a study: its registry name and one checkpoint per fold."""

    study: str
    name: str
    checkpoints: tuple[tuple[int, Path], ...]
    width: float
    multitask: bool = False


def deep_networks(cfg: dict[str, Any], paths: ResultPaths) -> list[Network]:
    """The first study's CNNs that have checkpoints (``li2025/deep/<model>/fold<k>/best.pt``)."""
    nets = []
    for name in cfg["deep"]["models"]:
        folder = paths.study("li2025") / "deep" / name
        ckpts = sorted((int(p.parent.name.removeprefix("fold")), p) for p in folder.glob("fold*/best.pt") if p.parent.name.removeprefix("fold").isdigit())
        if ckpts:
            nets.append(Network("li2025", name, tuple(ckpts), float(cfg["deep"]["width"])))
    return nets


def mtlnet_network(cfg: dict[str, Any], paths: ResultPaths) -> Network | None:
    """MTLNet (``mtlnet2025/mtlnet/best.pt``), or None when it has not been trained."""
    ckpt = paths.study("mtlnet2025") / MTLNET / "best.pt"
    if not ckpt.exists():
        return None
    # MTLNet has its own width (mtlnet.width), never the CNNs' deep.width: a stage that explains MTLNet must declare `mtlnet`.
    if MTLNET not in cfg:
        raise ValueError("explaining MTLNet needs the `mtlnet` parameters (its width); declare `mtlnet` in this chapter's params in workflow/chapters.yaml")
    width = float(cfg[MTLNET]["width"])
    return Network("mtlnet2025", MTLNET, ((0, ckpt),), width, multitask=True)


def load_network(net: Network, checkpoint: Path) -> nn.Module:
    """The network with a checkpoint's weights, as a single-output classifier in eval mode."""
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


def _save_map(path: Path, cam: np.ndarray, *, class_idx: int, prob: float, provenance: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, cam=cam.astype(np.float32), class_idx=class_idx, prob=prob, provenance=json.dumps(provenance, sort_keys=True))


def _cached_map(path: Path, key: str) -> np.ndarray | None:
    if not path.exists():
        return None
    with np.load(path) as z:
        return z["cam"] if json.loads(str(z["provenance"])).get("key") == key else None


def ensemble_map(maps: list[np.ndarray]) -> np.ndarray:
    """Mean of the fold networks' maps (each on [0, 1]), scaled back to [0, 1]: the map of the fold ensemble."""
    m = np.mean(maps, axis=0)
    return (m / m.max()).astype(np.float32) if m.max() > 0 else m.astype(np.float32)


@dataclass
class Explanation:
    """A study's maps and their measurements (empty, with ``missing`` saying why, when inputs are absent)."""

    study: str
    folder: Path
    networks: list[Network] = field(default_factory=list)
    explained: pd.DataFrame = field(default_factory=pd.DataFrame)
    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    sanity: pd.DataFrame = field(default_factory=pd.DataFrame)
    thresholds: dict[str, float] = field(default_factory=dict)
    missing: str | None = None
    context: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.missing is None

    @property
    def tables(self) -> Path:
        """``results/<profile>/tables`` (the explain folder is ``results/<profile>/<study>/explain``)."""
        return self.folder.parents[1] / "tables"


def patient_regions(row: pd.Series, evidence: Path | None, class_idx: int) -> dict[str, np.ndarray]:
    """Regions in the CT's (z, y, x) array order: the lesion ROI and, on synthetic data, the class's evidence."""
    out = {}
    if isinstance(row.get("roi_mask"), str):
        out["lesion ROI"] = sitk.GetArrayFromImage(sitk.ReadImage(row["roi_mask"])) > 0
    if evidence is not None:
        labels = sitk.GetArrayFromImage(sitk.ReadImage(str(evidence)))
        out["evidence"] = np.isin(labels, ENDOTYPE_EVIDENCE[class_idx])
    return out


def _evidence_files(study: LoadedStudy) -> dict[str, Path]:
    truth = study.cohort.truth
    if truth is None or "evidence_mask" not in truth:
        return {}
    base = study.cohort.manifest_path.parent
    return {pid: base / rel for pid, rel in zip(truth["patient_id"], truth["evidence_mask"]) if isinstance(rel, str)}


def explain_study(
    cfg: dict[str, Any],
    paths: ResultPaths,
    study: LoadedStudy,
    networks: list[Network],
    *,
    scores: pd.DataFrame | None = None,
    progress: bool = True,
) -> Explanation:
    """Grad-CAM maps of the chosen test patients for every network, measured against the lesion and the evidence.

    Parameters
    ----------
    cfg : dict
        The parameters (``explain``, ``seed``, ``stats``, ``studies.<study>``).
    study : LoadedStudy
        Cohort and split (``study.load_study``).
    networks : list of Network
        From :func:`deep_networks` or :func:`mtlnet_network`.
    scores : DataFrame, optional
        ``patient_id, set, label`` and one column per network (``li2025/scores_deep.csv``);
        without it each network scores every patient itself.
    """
    folder = paths.study(study.name) / "explain"
    result = Explanation(study.name, folder, networks)
    settings = ExplainSettings.from_params(cfg)
    s = cfg["studies"][study.name]
    index_path = paths.preprocessed_index(study.name)
    if not networks:
        result.missing = f"no trained network of {study.name} was found under {paths.study(study.name)}"
        return result
    if not index_path.exists():
        result.missing = f"the preprocessed inputs of {study.name} ({index_path}) are missing"
        return result
    index = pd.read_csv(index_path, dtype={"patient_id": str})
    table = study.table
    pre = PreprocessParams.from_dict(s["preprocess"])
    mask_cols = tuple(m for m in study.cohort.mask_columns if m in s["masks"])
    evidence = _evidence_files(study)
    train_set, test_sets = study.split.names[0], list(study.split.names[1:])
    seed = int(cfg["seed"])
    st = cfg["stats"]
    rows, metric_rows, sanity_rows = [], [], []
    for net in networks:
        models = {fold: load_network(net, ckpt) for fold, ckpt in net.checkpoints}
        if scores is not None and net.name in scores:
            sc = scores[["patient_id", "set", "label", net.name]].rename(columns={net.name: "score"})
        else:
            sc = network_scores(models[net.checkpoints[0][0]], table, index)
        labelled, result.thresholds[net.name] = label_outcomes(sc, train_set=train_set, rule=st["threshold_rule"], target=st.get("threshold_target"))
        # the same seed for every network: where their outcomes agree they explain the same patients
        chosen = choose_patients(labelled, sets=test_sets, n_per_set=settings.n_per_set, seed=seed)
        layer = settings.target_layers.get(net.name) or cam_layer(net.name)
        layer = SingleLogit.layer(layer) if net.multitask else layer
        first = net.checkpoints[0][0]
        explainers = {fold: CamExplainer(m, layer=layer, method=settings.method) for fold, m in models.items()}
        explainers["randomised"] = CamExplainer(randomised_copy(models[first], seed=seed), layer=layer, method=settings.method)
        ckpt_sha = {fold: sha256_path(p) for fold, p in net.checkpoints}
        ckpt_sha["randomised"] = f"random weights (seed {seed}) of {ckpt_sha[first]}"
        bar = tqdm(chosen.itertuples(index=False), total=len(chosen), desc=f"{study.name} {net.name}", disable=not progress)
        for p in bar:
            row = table.loc[table["patient_id"] == p.patient_id].iloc[0]
            npz = index.loc[index["patient_id"] == p.patient_id, "path"].iloc[0]
            volume = load_preprocessed(npz)["image"]
            class_idx = 1 if p.outcome in ("TP", "FP") else 0
            maps: dict[Any, np.ndarray] = {}
            for fold, explainer in explainers.items():
                name = f"fold{fold}" if fold != "randomised" else fold
                target = folder / net.name / name / f"{p.patient_id}.npz"
                provenance = {
                    "cam_version": CAM_VERSION, "method": settings.method, "layer": layer, "class_idx": class_idx,
                    "checkpoint_sha256": ckpt_sha[fold], "input_sha256": sha256_path(npz),
                }
                key = hash_params(provenance)
                cam = _cached_map(target, key)
                if cam is None:
                    r = explainer(volume, class_idx=class_idx)
                    cam = r.cam
                    _save_map(target, cam, class_idx=class_idx, prob=r.prob, provenance={**provenance, "key": key, "params_hash": key, "network": net.name, "fold": name})
                maps[fold] = cam
            trained = [maps[f] for f, _ in net.checkpoints]
            cam = ensemble_map(trained)
            sanity_rows.append({"model": net.name, "patient_id": p.patient_id, "comparison": "trained vs random weights", "spearman": spearman_maps(trained[0], maps["randomised"])})
            if len(trained) > 1:
                sanity_rows.append({"model": net.name, "patient_id": p.patient_id, "comparison": "fold 1 vs fold 2 (both trained)", "spearman": spearman_maps(trained[0], trained[1])})

            grid = InputGrid(row["image"], {c: row[c] for c in mask_cols}, pre)
            grid.check(volume, patient=p.patient_id)
            regions = patient_regions(row, evidence.get(p.patient_id), class_idx)
            crop = sitk.GetArrayFromImage(grid.to_ct(np.ones_like(cam), nearest=True)) > 0
            baseline_seed = int(hash_params(seed, p.patient_id, length=8), 16)
            spacing_zyx = grid.reference.GetSpacing()[::-1]
            distances = {k: distance_to(r, spacing=spacing_zyx) for k, r in regions.items()} if settings.pointing_tolerance_mm > 0 else {}
            zone = {k: distances[k] <= settings.pointing_tolerance_mm if k in distances else r for k, r in regions.items()}
            for map_name, arr in (("Grad-CAM" if settings.method == "gradcam" else "Grad-CAM++", cam), ("random", random_map(cam.shape, seed=baseline_seed)), ("crop centre", centre_map(cam.shape))):
                ct_map = np.clip(sitk.GetArrayFromImage(grid.to_ct(arr)), 0.0, None)
                for region_name, region in regions.items():
                    metric_rows.append({
                        "model": net.name, "patient_id": p.patient_id, "set": p.set, "outcome": p.outcome, "map": map_name, "region": region_name,
                        "pointing": pointing_hit(ct_map, region, distance=distances.get(region_name), tolerance_mm=settings.pointing_tolerance_mm),
                        "energy": energy_share(ct_map, region),
                        # what a map pointing at a random voxel of the crop scores in the pointing game
                        "hit zone share of crop": float(zone[region_name][crop].sum() / max(crop.sum(), 1)),
                    })
            rows.append({"model": net.name, "patient_id": p.patient_id, "set": p.set, "label": int(p.label), "score": float(p.score), "outcome": p.outcome, "class_idx": class_idx})
    result.explained = pd.DataFrame(rows)
    result.metrics = pd.DataFrame(metric_rows)
    result.sanity = pd.DataFrame(sanity_rows)
    write_csv(result.explained, folder / "explained.csv")
    write_csv(result.metrics, folder / "metrics.csv")
    write_csv(result.sanity, folder / "sanity.csv")
    result.context = {"table": table, "index": index, "pre": pre, "mask_cols": mask_cols, "evidence": evidence, "settings": settings}
    return result
