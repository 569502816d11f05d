"""Parameters of the proteomics chapter (section ``omics`` of ``params/<profile>.yaml``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["OmicsSettings", "SyntheticOmicsSettings"]


class SyntheticOmicsSettings(BaseModel):
    """The embedded synthetic proteomics (used when ``proteins`` is null)."""

    model_config = ConfigDict(extra="forbid")

    n_patients: int = Field(ge=8, description="patients with proteomics, drawn (seeded) from the li2025 cohort")
    batches: int = Field(ge=1, le=8, description="MS batches; each adds a protein-specific offset")
    effect_scale: float = Field(ge=0.0, description="multiplies the planted log2 shifts per latent SD")


class OmicsSettings(BaseModel):
    """Proteomics: data, pre-processing, differential abundance and enrichment (no values of its own: every profile sets every key)."""

    model_config = ConfigDict(extra="forbid")

    proteins: str | None = Field(description="MaxQuant proteinGroups.txt or a protein x sample CSV/TSV; null = synthetic")
    sample_sheet: str | None = Field(description="CSV with columns sample, patient_id (+ optional batch)")
    intensity_prefix: str = Field(description="MaxQuant intensity column prefix")
    synthetic: SyntheticOmicsSettings
    min_valid_fraction: float = Field(gt=0.0, le=1.0, description="share of samples with a value, per group")
    valid_in: Literal["any", "each"] = Field(description="the valid-value rule must hold in any group or in each group")
    normalization: Literal["median", "quantile", "none"]
    impute: bool = Field(description="Perseus-style down-shifted normal imputation before the tests")
    impute_width: float = Field(gt=0.0, le=1.0)
    impute_shift: float = Field(ge=0.0, le=5.0)
    trend: bool = Field(description="limma eBayes(trend=TRUE): prior variance depends on abundance")
    covariates: list[Literal["batch", "age", "sex_male"]]
    fdr: float = Field(gt=0.0, lt=1.0, description="BH FDR for a protein to count as dysregulated")
    min_abs_log2_fc: float = Field(ge=0.0, description="and |log2 FC| at least this")
    gene_sets: str | None = Field(description="a local .gmt file; null = the gene sets shipped with the package")
    permutations: int = Field(ge=10, description="GSEA preranked gene-set permutations")
    min_size: int = Field(ge=1)
    max_size: int = Field(ge=2)
    top_n: int = Field(ge=5, description="proteins in the heatmap and labelled in the volcano")

    @model_validator(mode="after")
    def _check(self) -> OmicsSettings:
        if self.min_size >= self.max_size:
            raise ValueError(f"min_size ({self.min_size}) must be smaller than max_size ({self.max_size})")
        if (self.proteins is None) != (self.sample_sheet is None):
            raise ValueError("give both omics.proteins and omics.sample_sheet (real data), or neither (synthetic)")
        if self.gene_sets is not None and not self.gene_sets.lower().endswith(".gmt"):
            raise ValueError(f"omics.gene_sets must be a local .gmt file, got {self.gene_sets!r} (library names would be downloaded)")
        return self
