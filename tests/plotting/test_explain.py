"""Explanation figures: the forest plot of attention metrics, mean maps per model and class, deletion curves."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ecrs_analysis.plotting.explain import plot_attention_summary, plot_deletion_curves, plot_mean_maps


def test_attention_summary_one_interval_per_model_and_map_at_its_values():
    rows = [("resnet3d", "Grad-CAM", 0.6, 0.5, 0.7), ("resnet3d", "random", 0.2, 0.1, 0.3), ("hrnet3d", "Grad-CAM", 0.8, 0.7, 0.9)]
    s = pd.DataFrame(rows, columns=["model", "map", "pointing game", "pointing game low", "pointing game high"]).assign(region="evidence")
    fig = plot_attention_summary(s, region="evidence")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["resnet3d · Grad-CAM", "resnet3d · random", "hrnet3d · Grad-CAM"]
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    assert [float(line.get_xdata()[0]) for line in markers] == [0.6, 0.2, 0.8]
    assert ax.get_xlim() == (-0.02, 1.02) and ax.get_xlabel().endswith("— evidence")
    plt.close(fig)


def test_mean_maps_one_row_per_model_two_planes_per_class():
    a = np.zeros((8, 8, 8))
    a[2, 4, 4] = 1.0
    maps = {("resnet3d", 0): a, ("resnet3d", 1): a * 2, ("hrnet3d", 1): a}
    fig = plot_mean_maps(maps)
    assert len(fig.axes) == 8  # 2 models x 2 classes x 2 planes
    assert [ax.get_title() for ax in fig.axes[:4]] == ["non-eosinophilic\naxial", "non-eosinophilic\ncoronal", "eosinophilic\naxial", "eosinophilic\ncoronal"]
    assert fig.axes[0].get_ylabel() == "resnet3d" and fig.axes[4].get_ylabel() == "hrnet3d"
    assert not fig.axes[4].axison and not fig.axes[4].images  # hrnet3d has no map of class 0
    shown = fig.axes[2].images[0]
    assert shown.get_clim() == (0, 2.0) and np.asarray(shown.get_array()).max() == 2.0
    plt.close(fig)


def test_deletion_curves_one_panel_per_model_and_class_starting_at_zero():
    rows = []
    for model in ("resnet3d", "hrnet3d"):
        for order, k in (("map", 0.5), ("random", 0.1)):
            for f in (0.1, 0.2):
                rows.append({"model": model, "explained class": "eCRS", "order": order, "fraction": f, "drop": k * f, "low": k * f - 0.01, "high": k * f + 0.01})
    fig = plot_deletion_curves(pd.DataFrame(rows))
    assert [ax.get_title() for ax in fig.axes] == ["resnet3d · explained eCRS", "hrnet3d · explained eCRS"]
    curves = [line for line in fig.axes[0].lines if line.get_marker() == "o"]
    np.testing.assert_allclose(curves[0].get_xdata(), [0, 0.1, 0.2])
    np.testing.assert_allclose(curves[0].get_ydata(), [0, 0.05, 0.1])
    np.testing.assert_allclose(curves[1].get_ydata(), [0, 0.01, 0.02])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["top of the map first", "random voxels"]
    plt.close(fig)
