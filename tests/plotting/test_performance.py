"""Forest plot of odds ratios: one marker per estimated variable, at its OR, with its interval."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def test_forest_draws_each_odds_ratio_with_its_interval_on_a_log_axis():
    from ecrs_analysis.plotting.performance import plot_forest

    table = pd.DataFrame({"OR": [2.0, np.nan, 0.5], "CI low": [1.2, np.nan, 0.3], "CI high": [3.5, np.nan, 0.9]}, index=["blood_eos_pct", "age", "smoking"])
    fig = plot_forest(table, title="univariable")
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_title() == "univariable"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["smoking", "blood_eos_pct"]  # the variable without an estimate is left out
    marker = ax.lines[0]
    np.testing.assert_allclose(np.asarray(marker.get_xdata(), dtype=float), [0.5, 2.0])
    (bars,) = [c for c in ax.collections if len(c.get_segments()) == 2]
    np.testing.assert_allclose([sorted(s[:, 0]) for s in bars.get_segments()], [[0.3, 0.9], [1.2, 3.5]])
    plt.close(fig)
