"""What simple image summaries predict: volumes from the cached inputs, AUCs and correlations against independent computations."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu, spearmanr

from ecrs_analysis.explain.summaries import SUMMARIES, image_summaries, summary_table


def _fake_inputs(tmp_path, n=12, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        shape = (1, 8, 8, 8)
        image = rng.random(shape).astype(np.float32)
        roi = (rng.random((8, 8, 8)) < 0.1 + 0.05 * (i % 3)).astype(np.uint8)
        spacing = np.array([1.0 + 0.1 * i, 2.0, 1.5], np.float32)
        path = tmp_path / f"p{i}.npz"
        np.savez(path, image=image, roi_mask=roi, spacing_mm=spacing)
        rows.append({"patient_id": f"p{i}", "path": str(path), "image": image, "roi": roi, "spacing": spacing})
    return rows


def test_summaries_are_volumes_and_hu_of_the_cached_input(tmp_path):
    rows = _fake_inputs(tmp_path)
    f = image_summaries(pd.DataFrame(rows)[["patient_id", "path"]], hu_window=[-1000, 1000]).set_index("patient_id")
    for r in rows:
        voxel_ml = float(np.prod(r["spacing"].astype(np.float64))) / 1000.0
        assert f.loc[r["patient_id"], SUMMARIES[0]] == pytest.approx(512 * voxel_ml)
        assert f.loc[r["patient_id"], SUMMARIES[1]] == pytest.approx(r["roi"].sum() * voxel_ml)
        assert f.loc[r["patient_id"], SUMMARIES[2]] == pytest.approx(r["image"].mean() * 2000 - 1000, abs=1e-3)
        assert f.loc[r["patient_id"], SUMMARIES[3]] == pytest.approx(r["roi"].mean())


def test_auc_and_spearman_match_scipy():
    rng = np.random.default_rng(1)
    n = 40
    features = pd.DataFrame({"patient_id": [f"p{i}" for i in range(n)], SUMMARIES[0]: rng.random(n), SUMMARIES[2]: rng.random(n)})
    scores = pd.DataFrame({"patient_id": features["patient_id"], "set": ["a"] * 20 + ["b"] * 20, "label": rng.integers(0, 2, n), "net": rng.random(n)})
    t = summary_table(features, scores, networks=["net"], sets=["a", "b"]).set_index(["set", "predictor"])
    for s in ("a", "b"):
        g = scores[scores["set"] == s].merge(features, on="patient_id")
        y = g["label"].to_numpy()
        u = mannwhitneyu(g["net"][y == 1], g["net"][y == 0]).statistic
        assert t.loc[(s, "net"), "AUC"] == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()))
        assert t.loc[(s, "net"), "Spearman ρ with crop volume"] == pytest.approx(spearmanr(g["net"], g[SUMMARIES[0]]).statistic)
        assert t.loc[(s, SUMMARIES[0]), "Spearman ρ with crop volume"] == pytest.approx(1.0)
    assert set(t["kind"]) == {"image summary", "network"}
