"""Reliability and decision curves draw the job's tables: one curve per set, the points given, the reference lines."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.plotting.calibration import plot_calibration_tables, plot_decision_curve, plot_decision_tables


def test_calibration_tables_one_curve_per_set_through_the_given_points_and_the_diagonal():
    curve = pd.DataFrame({"set": ["train"] * 3 + ["external"] * 2, "predicted": [0.1, 0.5, 0.9, 0.2, 0.7], "observed": [0.15, 0.45, 0.8, 0.3, 0.6]})
    table = pd.DataFrame({"Brier": [0.12, 0.2], "calibration intercept": [0.05, -0.31], "calibration slope": [0.98, 0.7]}, index=["train", "external"])
    fig = plot_calibration_tables(curve, table, sets=["train", "external"])
    (ax,) = fig.axes
    assert len(ax.lines) == 3  # two sets and the diagonal
    for line, s in zip(ax.lines, ("train", "external")):
        part = curve[curve["set"] == s]
        np.testing.assert_allclose(line.get_xdata(), part["predicted"])
        np.testing.assert_allclose(line.get_ydata(), part["observed"])
    assert list(ax.lines[2].get_xdata()) == [0, 1] == list(ax.lines[2].get_ydata())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train: Brier 0.120, int +0.05, slope 0.98", "external: Brier 0.200, int -0.31, slope 0.70"]
    plt.close(fig)


def test_decision_tables_one_panel_per_set_with_model_treat_all_and_treat_none():
    th = np.linspace(0.05, 0.6, 5)
    decision = pd.concat([pd.DataFrame({"set": s, "threshold": th, "model": m * (1 - th), "treat_all": 0.4 - th, "treat_none": 0.0}) for s, m in (("train", 0.3), ("external", 0.2))])
    fig = plot_decision_tables(decision, sets=["train", "external"], model="integrated")
    assert [ax.get_title() for ax in fig.axes] == ["train", "external"]
    for ax, m in zip(fig.axes, (0.3, 0.2)):
        model, treat_all, none = ax.lines
        np.testing.assert_allclose(model.get_ydata(), m * (1 - th))
        np.testing.assert_allclose(treat_all.get_ydata(), 0.4 - th)
        assert list(none.get_ydata()) == [0, 0]
        assert ax.get_ylim() == pytest.approx((-0.05, (0.4 - th[0]) * 1.1))  # up to the best of treating all
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["integrated", "treat all", "treat none"]
    plt.close(fig)


def test_decision_curve_draws_the_tables_net_benefit_and_limits_to_the_prevalence():
    th = np.linspace(0.05, 0.8, 6)
    decision = pd.DataFrame({"threshold": th, "model": 0.2 * (1 - th), "treat_all": 0.25 - th, "prevalence": 0.25})
    fig = plot_decision_curve(decision, label="integrated model", set_name="external_test")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["integrated model", "treat all", "treat none"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 0.2 * (1 - th))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), 0.25 - th)
    assert ax.get_ylim() == pytest.approx((-0.05, 0.25 * 1.1)) and ax.get_xlim() == pytest.approx((0, 0.9)) and ax.get_title() == "external test"
    plt.close(fig)
