"""Proteomics of the first study: reading, pre-processing, differential abundance (limma) and enrichment (gseapy).

Public API::

    differential_abundance(intensities, groups, *, covariates=None, trend=False)
    prerank(ranking, gene_sets, *, permutations=1000, seed=0, min_size=15, max_size=500)
    over_representation(genes, gene_sets, *, background)
    load_proteomics(proteins, sample_sheet, *, known_patients=None)
"""

import importlib
from typing import Any

# ``preprocess`` (the function) is imported from ``ecrs_analysis.omics.preprocess``: a package
# attribute of that name is the submodule once it is loaded.
# Names are imported on first use, so that reading the parameter schema (which needs only
# ``omics.settings``) does not load limma, gseapy and their dependencies.
_WHERE = {
    "differential_abundance": "differential", "dysregulated": "differential", "welch_test": "differential",
    "GeneSetError": "enrichment", "default_gene_sets": "enrichment", "load_gene_sets": "enrichment",
    "over_representation": "enrichment", "prerank": "enrichment", "ranking_from_table": "enrichment",
    "ProteomicsData": "io", "ProteomicsInputError": "io", "load_proteomics": "io",
    "OmicsSettings": "settings",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"ecrs_analysis.omics.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'ecrs_analysis.omics' has no attribute {name!r}")


__all__ = [
    "differential_abundance", "dysregulated", "welch_test", "prerank", "over_representation", "ranking_from_table",
    "load_gene_sets", "default_gene_sets", "GeneSetError", "load_proteomics", "ProteomicsData", "ProteomicsInputError",
    "OmicsSettings",
]
