"""Segmentation figures: radiological orientation of the grid's slices, and truth / prediction contours."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from ecrs_analysis.plotting.segmentation import PREDICTION_COLOUR, TRUTH_COLOUR, grid_views, plot_segmentation_examples


def test_grid_views_put_anterior_up_superior_up_and_the_patients_right_on_the_left():
    vol = np.zeros((10, 8, 6))  # RAS (x: towards the right... as stored, y: anterior, z: superior)
    vol[9, 7, 3] = 1.0  # the largest x, y (anterior) at the axial level z = 3
    vol[9, 2, 5] = 2.0  # the largest x at the top slice z = 5, on the coronal plane y = 2
    v = grid_views(vol, centre=(4, 2, 3), spacing_mm=(1.0, 1.5, 3.0))
    axial, aspect = v["axial"]
    assert axial.shape == (8, 10) and aspect == 1.5
    assert tuple(np.argwhere(axial == 1.0)[0]) == (0, 0)  # top row (anterior), first column
    coronal, aspect = v["coronal"]
    assert coronal.shape == (6, 10) and aspect == 3.0
    assert tuple(np.argwhere(coronal == 2.0)[0]) == (0, 0)  # top row (superior), first column


def test_examples_one_row_per_case_with_both_contours():
    image = np.random.default_rng(0).random((16, 16, 16))
    truth = np.zeros((16, 16, 16))
    truth[4:10, 5:11, 6:12] = 1
    prediction = np.roll(truth, 2, axis=0)
    cases = [("P1", {"image": image, "truth": truth, "prediction": prediction, "spacing_mm": (1, 1, 1)}),
             ("P2", {"image": image, "truth": truth, "prediction": np.zeros_like(truth), "spacing_mm": (1, 1, 2)})]
    fig = plot_segmentation_examples(cases)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["P1 — axial", "P1 — coronal", "P2 — axial", "P2 — coronal"]
    colours = lambda ax: [matplotlib.colors.to_hex(c.get_edgecolor()[0]) for c in ax.collections]  # noqa: E731
    assert all(set(colours(ax)) == {TRUTH_COLOUR, PREDICTION_COLOUR} for ax in axes[:2])
    assert all(set(colours(ax)) == {TRUTH_COLOUR} for ax in axes[2:])  # an empty prediction draws no contour
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["ground truth", "MTLNet"]
    plt.close(fig)
