"""The book: parameters, the pipeline runner, provenance records, privacy checks and the papers' reported values."""
