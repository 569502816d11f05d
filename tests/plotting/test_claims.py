"""The landing page's forest: one row per 0-1 estimate claim, reported square, reproduced circle with its CI, ceiling cross."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ecrs_analysis.plotting.claims import plot_claims_forest


def test_forest_draws_each_estimate_claim_where_its_values_are():
    nan = np.nan
    cols = ["claim", "study", "quantity", "set", "kind", "reported", "reported_ci_low", "reported_ci_high", "value", "ci_low", "ci_high", "ceiling"]
    table = pd.DataFrame([
        ("a", "li2025", "AUC, integrated", "internal_test", "estimate", 0.9, 0.85, 0.95, 0.8, 0.7, 0.88, 0.93),
        ("b", "mtlnet2025", "Dice", "external", "estimate", 0.85, nan, nan, nan, nan, nan, nan),  # chapter not run
        ("c", "li2025", "sensitivity", "internal_test", "estimate", 0.7, nan, nan, 0.6, 0.5, 0.7, nan),  # not an AUC or Dice
        ("d", "li2025", "AUC, CNN", "external_test", "comparison", 0.8, nan, nan, 0.7, nan, nan, nan),  # not an estimate
    ], columns=cols)
    fig = plot_claims_forest(table, study_titles={"li2025": "Li 2025 (integrated model)", "mtlnet2025": "MTLNet"}, set_labels={"internal_test": "internal test"})
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 2
    assert any(label.startswith("Li 2025") and "internal test" in label and "(integrated" not in label for label in labels), labels  # the title before " (", the set's display name
    assert any("MTLNet" in label and "external" in label for label in labels), labels  # a set without a display name keeps its own
    points = {(line.get_marker(), float(line.get_xdata()[0])) for line in ax.lines if line.get_marker() in ("s", "o", "x") and line.get_linestyle() == "None"}
    assert points == {("s", 0.9), ("o", 0.8), ("x", 0.93), ("s", 0.85)}  # the unrun claim shows its reported value only
    intervals = sorted(tuple(line.get_xdata()) for line in ax.lines if line.get_marker() in ("None", "") and len(line.get_xdata()) == 2 and line.get_xdata()[0] != line.get_xdata()[1])
    assert (0.7, 0.88) in intervals and (0.85, 0.95) in intervals
    assert [t.get_text() for t in ax.texts] == ["not run"] and ax.get_xlim() == (0.0, 1.02)
    plt.close(fig)
