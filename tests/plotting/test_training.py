"""Learning curves: one column per model, one line per fold, the values of the history."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ecrs_analysis.plotting.training import plot_learning_curves


def test_learning_curves_one_column_per_model_one_line_per_fold():
    rows = [{"model": m, "fold": k, "epoch": e, "train_loss": 1.0 / e + k, "val_auc": 0.5 + 0.1 * e} for m in ("resnet3d", "hrnet3d") for k in range(3) for e in (1, 2, 3, 4)]
    h = pd.DataFrame(rows)
    fig = plot_learning_curves(h)
    assert len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["resnet3d", "hrnet3d"]
    loss_axes = [ax for ax in fig.axes if ax.get_ylabel() == "training loss"]
    auc_axes = [ax for ax in fig.axes if ax.get_ylabel() == "validation AUC"]
    assert len(loss_axes) == 2 == len(auc_axes)
    for ax in loss_axes:
        assert len(ax.lines) == 3
        for k, line in enumerate(ax.lines):
            np.testing.assert_allclose(line.get_ydata(), [1.0 / e + k for e in (1, 2, 3, 4)])
    assert [t.get_text() for t in loss_axes[0].get_legend().get_texts()] == ["fold 0", "fold 1", "fold 2"]
    for ax in auc_axes:
        assert ax.get_ylim() == (0.3, 1.02) and len(ax.lines) == 3
    plt.close(fig)
