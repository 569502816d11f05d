"""ROC panels: one panel per set, one curve per model through the empirical ROC points, AUCs in the legend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from ecrs_analysis.plotting.roc import plot_roc_panels


def test_roc_panels_draw_each_models_roc_and_auc_per_set():
    rng = np.random.default_rng(1)
    y = np.arange(80) % 2
    scores = pd.DataFrame({"set": np.repeat(["train", "test"], 40), "label": y, "a": y + rng.normal(0, 1, 80), "b": rng.normal(0, 1, 80)})
    fig = plot_roc_panels(scores, ["a", "b"], sets=["train", "test"], labels={"a": "model A"}, n_resamples=20)
    assert [ax.get_title() for ax in fig.axes] == ["train (n=40)", "test (n=40)"]
    for ax, s in zip(fig.axes, ("train", "test")):
        part = scores[scores["set"] == s]
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert [t.split(":")[0] for t in texts] == ["model A", "b"]
        for line, text, m in zip(ax.lines, texts, ("a", "b")):
            shown = float(text.split(": ")[1].split(" ")[0])
            assert abs(shown - roc_auc_score(part["label"], part[m])) <= 0.0005 + 1e-12
            fpr, tpr, _ = roc_curve(part["label"], part[m])
            drawn = set(zip(np.round(line.get_xdata(), 9), np.round(line.get_ydata(), 9)))
            assert set(zip(np.round(fpr, 9), np.round(tpr, 9))) <= drawn  # every ROC point of scikit-learn is on the curve
        assert list(ax.lines[-1].get_xdata()) == [0, 1]  # the chance diagonal
        assert len(ax.collections) == 2  # one bootstrap band per model
    plt.close(fig)
