"""Values the two studies reported, for side-by-side comparison in the book (never used in computation)."""

from __future__ import annotations

import pandas as pd

__all__ = ["LI2025_REPORTED", "LI2025_PROTEOMICS", "MTLNET_REPORTED", "reported_table"]

# Li et al., Int Forum Allergy Rhinol 2025 (doi 10.1002/alr.23595): integrated model.
LI2025_REPORTED = {
    "internal_test": {"AUC": 0.851, "CI low": 0.77, "CI high": 0.93},
    "external_test": {"AUC": 0.821, "CI low": 0.78, "CI high": 0.86},
}
# Same paper, proteomics of patients predicted eCRS vs non-eCRS by the integrated model.
LI2025_PROTEOMICS = {
    "patients": 34,
    "dysregulated": 594,  # proteins/genes dysregulated between the predicted groups
    "pathway_claim": "enriched pathways such as chemokine signalling",
}
# MTLNet: training / validation / temporal external (172 / 41 / 44 patients).
MTLNET_REPORTED = {
    "train": {"Dice": 0.913, "AUC": 0.871},
    "validation": {"Dice": 0.887, "AUC": 0.770},
    "external": {"Dice": 0.898, "AUC": 0.818, "sensitivity": 0.727, "specificity": 0.788},
}


def reported_table(reported: dict[str, dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(reported).T.rename_axis("set")
