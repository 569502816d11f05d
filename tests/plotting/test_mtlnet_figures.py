"""MTLNet figures draw what they say: one panel per set/variant, curves and contours present."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.plotting.performance import plot_confusion_matrices
from ecrs_analysis.plotting.roc import plot_roc_sets
from ecrs_analysis.plotting.segmentation import grid_views, plot_segmentation_examples
from ecrs_analysis.plotting.training import plot_multitask_curves
from ecrs_analysis.stats.evaluate import operating_table


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    parts = []
    for s, n in (("train", 60), ("validation", 20), ("external", 20)):
        y = np.arange(n) % 2
        parts.append(pd.DataFrame({"set": s, "label": y, "prob": 1 / (1 + np.exp(-rng.normal(y, 1)))}))
    return pd.concat(parts, ignore_index=True)


def test_roc_sets_in_one_panel_and_confusion_matrices(scores):
    from ecrs_analysis.jobs.exhibits import roc_table

    fig = plot_roc_sets(roc_table(scores, ["prob"], sets=["train", "validation", "external"], n_resamples=20, seed=0), "prob", sets=["train", "validation", "external"])
    (ax,) = fig.axes
    assert len(ax.get_legend().get_texts()) == 3 and "external (n=20)" in ax.get_legend().get_texts()[2].get_text()
    ops = operating_table(scores, ["prob"], threshold_set="train")
    fig = plot_confusion_matrices(ops)
    assert len(fig.axes) == 3
    ext = ops.loc[("prob", "external")]
    shown = sorted(int(t.get_text()) for t in fig.axes[2].texts)
    assert shown == sorted(int(ext[k]) for k in ("TN", "FP", "FN", "TP"))


def test_multitask_curves_one_row_per_variant():
    h = pd.DataFrame({"epoch": [1, 2], "train_loss": [2.0, 1.5], "train_seg_loss": [1.2, 1.0], "train_cls_loss": [0.8, 0.5], "val_seg_loss": [1.3, 1.1], "val_cls_loss": [0.7, 0.6], "val_auc": [0.6, 0.7], "val_dice": [0.5, 0.8], "val_score": [0.55, 0.75]})
    cls_only = h.drop(columns=["train_seg_loss", "val_seg_loss", "val_dice"]).assign(val_score=h["val_auc"])
    from types import SimpleNamespace

    run = SimpleNamespace(history=h, info={"best_epoch": 2})
    fig = plot_multitask_curves({"multitask": run, "classification": cls_only}, constant_cls_loss=0.69)
    assert len(fig.axes) == 4
    # both losses, train and validation, the constant predictor's loss and the kept epoch; one task
    assert len(fig.axes[0].lines) == 6 and len(fig.axes[2].lines) == 3
    assert fig.axes[0].lines[4].get_ydata()[0] == 0.69
    assert fig.axes[1].lines[-1].get_xdata()[0] == 2  # the kept epoch is marked (the job's choice, not recomputed)


def test_segmentation_examples_show_truth_and_prediction_in_radiological_view():
    vol = np.zeros((10, 12, 8))
    vol[7, 9, 4] = 1  # right (+x), anterior (+y), slice 4
    views = grid_views(vol, centre=(7, 9, 4), spacing_mm=(1.0, 2.0, 3.0))
    axial, aspect = views["axial"]
    r, c = np.argwhere(axial)[0]
    assert (r, c) == (12 - 1 - 9, 10 - 1 - 7) and aspect == 2.0  # anterior at the top, patient's right on the left
    truth = np.zeros((16, 16, 12), np.uint8)
    truth[4:12, 4:12, 3:9] = 1
    case = {"image": np.random.default_rng(0).random((16, 16, 12)), "truth": truth, "prediction": np.roll(truth, 2, axis=0), "spacing_mm": np.array([1.0, 1.0, 1.5])}
    fig = plot_segmentation_examples([("best Dice 0.80 (external)", case)])
    assert len(fig.axes) == 2 and all(len(ax.collections) >= 2 for ax in fig.axes)  # two contour sets per view
