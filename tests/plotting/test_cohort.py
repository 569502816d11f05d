"""Cohort figures: bars of each set's classes, HU histograms, CT slices through the mask."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from ecrs_analysis.plotting.cohort import ct_views, plot_class_balance, plot_hu_histograms, plot_slices


def test_class_balance_stacks_the_counts_of_each_set():
    summary = pd.DataFrame({"patients": [100, 40], "eosinophilic": [30, 22], "eosinophilic_%": [30.0, 55.0]}, index=["train", "external_test"])
    fig = plot_class_balance(summary, title="li2025")
    (ax,) = fig.axes
    bars = ax.patches
    assert [b.get_height() for b in bars] == [70, 18, 30, 22]  # non-eosinophilic first, then eosinophilic on top
    assert [b.get_y() for b in bars[2:]] == [70, 18]
    assert [t.get_text() for t in ax.texts] == ["n=100\n30% eCRS", "n=40\n55% eCRS"]
    assert ax.get_ylim()[1] == 130 and ax.get_title() == "li2025"
    plt.close(fig)


def test_hu_histograms_one_normalised_step_per_image():
    a = sitk.GetImageFromArray(np.full((4, 10, 10), -1000, np.int16))
    b = sitk.GetImageFromArray(np.r_[np.full(300, 40), np.full(100, 700)].reshape(4, 10, 10).astype(np.int16))
    fig = plot_hu_histograms({"air": a, "tissue": b}, bins=31)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["air", "tissue"] and ax.get_yscale() == "log"
    # each histogram's mass (density x bin width) is one, and sits in the bins of its values
    width = 3100 / 31
    for patch, values in zip(ax.patches, ([-1000], [40, 700])):
        xy = patch.get_xy()
        heights = xy[1:-1:2, 1]
        assert np.sum(heights) * width == pytest.approx(1.0)
        assert set(np.flatnonzero(heights > 0)) == {int((v + 1100) // width) for v in values}
    plt.close(fig)


def test_ct_views_slice_through_the_masks_centroid_and_slices_draw_its_contour():
    arr = np.full((20, 30, 40), -800, np.int16)
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((0.5, 0.5, 2.0))
    m = np.zeros_like(arr, dtype=np.uint8)
    m[12:15, 5:9, 20:30] = 1
    mask = sitk.GetImageFromArray(m)
    mask.CopyInformation(img)
    views = ct_views(img, centre_from=mask)
    assert views["index"] == (13, 6)
    assert views["axial"][0].shape == (30, 40) and views["coronal"][0].shape == (20, 40) and views["coronal"][1] == 4.0
    fig = plot_slices([("case", img, {"roi_mask": mask})])
    assert len(fig.axes) == 2 and [ax.get_title() for ax in fig.axes] == ["case — axial", "case — coronal"]
    assert all(len(ax.collections) >= 1 for ax in fig.axes)  # the ROI contour on both views
    plt.close(fig)
