"""Proteomics of the first study: reading, pre-processing, differential abundance (limma) and enrichment (gseapy).

Public API::

    differential_abundance(intensities, groups, *, covariates=None, trend=False)
    prerank(ranking, gene_sets, *, permutations=1000, seed=0, min_size=15, max_size=500)
    over_representation(genes, gene_sets, *, background)
    load_proteomics(proteins, sample_sheet, *, known_patients=None)
"""

from ecrs_analysis.omics.differential import differential_abundance, dysregulated, welch_test
from ecrs_analysis.omics.enrichment import GeneSetError, default_gene_sets, load_gene_sets, over_representation, prerank, ranking_from_table
from ecrs_analysis.omics.io import ProteomicsData, ProteomicsInputError, load_proteomics
from ecrs_analysis.omics.preprocess import preprocess
from ecrs_analysis.omics.settings import OmicsSettings

__all__ = [
    "differential_abundance", "dysregulated", "welch_test", "prerank", "over_representation", "ranking_from_table",
    "load_gene_sets", "default_gene_sets", "GeneSetError", "load_proteomics", "ProteomicsData", "ProteomicsInputError",
    "preprocess", "OmicsSettings",
]
