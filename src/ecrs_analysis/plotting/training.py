"""Learning curves of the CNN training runs."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["plot_learning_curves"]


def plot_learning_curves(histories: pd.DataFrame) -> Figure:
    """Training loss and validation AUC per epoch; one column per model, one line per fold."""
    models = list(dict.fromkeys(histories["model"]))
    fig, axes = plt.subplots(2, len(models), figsize=(3.6 * len(models), 5.0), squeeze=False, sharex=True)
    for col, m in enumerate(models):
        h = histories[histories["model"] == m]
        for fold, hf in h.groupby("fold"):
            axes[0, col].plot(hf["epoch"], hf["train_loss"], lw=1.2, label=f"fold {fold}")
            if "val_auc" in hf:
                axes[1, col].plot(hf["epoch"], hf["val_auc"], lw=1.2)
        axes[0, col].set_title(m, fontsize=10)
        axes[0, col].set_ylabel("training loss")
        axes[1, col].set_ylabel("validation AUC")
        axes[1, col].set_xlabel("epoch")
        axes[1, col].set_ylim(0.3, 1.02)
    axes[0, 0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
