"""The pipeline engine: the runner, the Snakemake driver, the stages' entry point, fingerprints, provenance, notebook execution, run locks, progress and cluster profiles."""
