"""Segmentation metrics against brute-force counts and distances, and against monai.metrics; empty masks; summaries."""

import numpy as np
import pandas as pd
import pytest
import torch
from monai.metrics import DiceMetric, compute_hausdorff_distance, compute_surface_dice
from scipy import ndimage
from scipy.spatial.distance import cdist

from ecrs_analysis.stats.bootstrap import bootstrap_summary
from ecrs_analysis.stats.segmentation import dice_scores, segmentation_metrics
from ecrs_analysis.stats.evaluate import segmentation_table


def _masks(seed, n=4, shape=(14, 12, 10)):
    rng = np.random.default_rng(seed)
    # smoothed noise -> blobs with realistic boundaries
    a = ndimage.gaussian_filter(rng.normal(size=(n, *shape)), sigma=(0, 1.5, 1.5, 1.5)) > 0
    b = ndimage.gaussian_filter(rng.normal(size=(n, *shape)), sigma=(0, 1.5, 1.5, 1.5)) > 0
    return (a | np.roll(a, 1, axis=1) & b).astype(np.uint8), a.astype(np.uint8)


def _surface(m):
    return np.argwhere(m & ~ndimage.binary_erosion(m))  # MONAI's edges: the mask minus its 6-neighbour erosion


def _brute(pred, truth, spacing, tol):
    p, t = pred.astype(bool), truth.astype(bool)
    dice = 2 * (p & t).sum() / (p.sum() + t.sum())
    d = cdist(_surface(p) * spacing, _surface(t) * spacing)
    d_pt, d_tp = d.min(axis=1), d.min(axis=0)
    hd95 = max(np.percentile(d_pt, 95), np.percentile(d_tp, 95))
    nsd = ((d_pt <= tol).sum() + (d_tp <= tol).sum()) / (d_pt.size + d_tp.size)
    return dice, hd95, nsd


def test_metrics_equal_brute_force_counts_and_distances():
    pred, truth = _masks(1)
    spacing = np.array([[1.0, 1.0, 2.0], [0.5, 0.8, 1.2], [2.0, 2.0, 2.0], [1.0, 3.0, 1.0]])
    m = segmentation_metrics(pred, truth, spacing=spacing, tolerance_mm=1.5)
    for i in range(len(pred)):
        dice, hd95, nsd = _brute(pred[i], truth[i], spacing[i], 1.5)
        assert m["dice"][i] == pytest.approx(dice)
        assert m["hd95"][i] == pytest.approx(hd95, rel=1e-6)
        assert m["surface_dice"][i] == pytest.approx(nsd)
    assert 0 < m["dice"].min() < m["dice"].max() < 1 and (m["hd95"] > 0).any()


@pytest.mark.filterwarnings("ignore::FutureWarning")  # raised inside MONAI 1.6 by its own distance helpers
def test_metrics_equal_monai_metric_functions():
    pred, truth = _masks(2)
    spacing = [[1.0, 1.0, 2.0], [0.5, 1.0, 1.0], [2.0, 2.0, 2.0], [1.0, 3.0, 1.0]]
    m = segmentation_metrics(pred, truth, spacing=spacing, tolerance_mm=2.0)
    p, t = torch.as_tensor(pred[:, None]).float(), torch.as_tensor(truth[:, None]).float()
    metric = DiceMetric(include_background=True, reduction="none")
    metric(p, t)
    assert np.allclose(m["dice"], metric.aggregate()[:, 0].numpy())
    assert np.allclose(m["hd95"], compute_hausdorff_distance(p, t, include_background=True, percentile=95, spacing=spacing)[:, 0].numpy())
    assert np.allclose(m["surface_dice"], compute_surface_dice(p, t, class_thresholds=[2.0], include_background=True, spacing=spacing)[:, 0].numpy())


def test_empty_truth_is_undefined_and_empty_prediction_a_failure():
    truth = np.zeros((3, 8, 8, 8), np.uint8)
    pred = np.zeros_like(truth)
    truth[1, 2:5, 2:5, 2:5] = 1  # patient 1: nothing predicted
    pred[2, 2:5, 2:5, 2:5] = 1  # patient 2: empty ground truth, something predicted
    m = segmentation_metrics(pred, truth, spacing=(1, 1, 1), tolerance_mm=1.0)
    assert m[["dice", "hd95", "surface_dice"]].iloc[[0, 2]].isna().all().all()  # empty truth: NaN, never Dice 1
    assert m.loc[1, "dice"] == 0 and m.loc[1, "surface_dice"] == 0 and m.loc[1, "hd95"] == np.inf
    assert m["empty_truth"].tolist() == [True, False, True] and m["empty_prediction"].tolist() == [True, True, False]
    assert np.isnan(dice_scores(pred[:1], truth[:1])[0])
    table = segmentation_table(pd.DataFrame({"set": "external", **m[["dice", "hd95", "surface_dice"]]}), n_resamples=200)
    row = table.loc[("external", "dice")]
    assert row["n"] == 1 and row["empty truth"] == 2 and row["value"] == 0  # reported, not dropped silently
    assert table.loc[("external", "hd95"), "value"] == np.inf and table.loc[("external", "hd95"), "statistic"] == "median"


def test_probabilities_and_shape_mismatch_are_refused():
    truth = np.zeros((2, 8, 8, 8), np.uint8)
    with pytest.raises(ValueError, match="binary"):
        segmentation_metrics(np.full(truth.shape, 0.7), truth, spacing=(1, 1, 1), tolerance_mm=1)
    with pytest.raises(ValueError, match="shape"):
        dice_scores(truth[:, :4], truth)
    with pytest.raises(ValueError, match="spacing"):
        segmentation_metrics(truth, truth, spacing=(1, 0, 1), tolerance_mm=1)


def test_bootstrap_summary_brackets_the_mean_and_counts_undefined_values():
    rng = np.random.default_rng(5)
    d = rng.beta(20, 2, 80)
    s = bootstrap_summary(np.append(d, [np.nan, np.nan]), seed=1)
    assert s.value == pytest.approx(d.mean()) and s.n == 80 and s.undefined == 2
    # the percentile interval of the mean is about mean ± 1.96 standard errors on this sample
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert s.ci_low == pytest.approx(d.mean() - 1.96 * se, abs=se / 2) and s.ci_high == pytest.approx(d.mean() + 1.96 * se, abs=se / 2)
    assert bootstrap_summary(d, seed=1) == bootstrap_summary(d, seed=1)
    med = bootstrap_summary([1.0, 2.0, 3.0, np.inf], statistic="median", n_resamples=500)
    assert med.value == 2.5 and med.ci_high == np.inf
    with pytest.raises(ValueError, match="mean"):
        bootstrap_summary(d, statistic="mode")
