"""Data in: manifests and images, validation, the synthetic cohort, splits and preprocessing."""
