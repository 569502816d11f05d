"""ROC panels: one panel per set, one curve per model through the table's ROC points, AUCs in the legend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from ecrs_analysis.plotting.roc import plot_roc_panels


def _table(scores: pd.DataFrame, models, sets) -> pd.DataFrame:
    """A ROC job's table by hand: curve rows (scikit-learn's ROC points) and band rows per set and model."""
    rows = []
    for s in sets:
        part = scores[scores["set"] == s]
        for k, m in enumerate(models):
            fpr, tpr, _ = roc_curve(part["label"], part[m])
            head = {"set": s, "model": m, "n": len(part), "AUC": 0.7 + 0.1 * k, "CI low": 0.6, "CI high": 0.8 + 0.1 * k}
            rows += [{**head, "kind": "curve", "fpr": f, "tpr": t} for f, t in zip(fpr, tpr)]
            rows += [{**head, "kind": "band", "fpr": f, "low": max(t - 0.1, 0), "high": min(t + 0.1, 1)} for f, t in zip(fpr, tpr)]
    return pd.DataFrame(rows)


def test_roc_panels_draw_each_models_roc_and_auc_per_set():
    rng = np.random.default_rng(1)
    y = np.arange(80) % 2
    scores = pd.DataFrame({"set": np.repeat(["train", "test"], 40), "label": y, "a": y + rng.normal(0, 1, 80), "b": rng.normal(0, 1, 80)})
    table = _table(scores, ["a", "b"], ["train", "test"])
    fig = plot_roc_panels(table, ["a", "b"], sets=["train", "test"], labels={"a": "model A"})
    assert [ax.get_title() for ax in fig.axes] == ["train (n=40)", "test (n=40)"]
    for ax, s in zip(fig.axes, ("train", "test")):
        part = scores[scores["set"] == s]
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert texts == ["model A: 0.700 (0.600–0.800)", "b: 0.800 (0.600–0.900)"]
        for line, m in zip(ax.lines, ("a", "b")):
            fpr, tpr, _ = roc_curve(part["label"], part[m])
            np.testing.assert_allclose(line.get_xdata(), fpr)
            np.testing.assert_allclose(line.get_ydata(), tpr)
        assert list(ax.lines[-1].get_xdata()) == [0, 1]  # the chance diagonal
        assert len(ax.collections) == 2  # one bootstrap band per model
    plt.close(fig)
