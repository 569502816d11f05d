# R limma reference values for tests/omics/test_differential.py.
# Run from the repository root with the shared reference data beside the checkout:
#   Rscript tests/omics/data/limma_reference.R ../shared/reference/proteomics tests/omics/data/limma_reference.csv
# 12 significant digits. Made with R 4.2.2 and limma 3.54.1 (Debian packages r-base-core, r-bioc-limma).
# Pre-processing is done here in R, independently of the package: drop Reverse /
# Potential contaminant / Only identified by site rows, log2 of LFQ intensities with 0 as
# missing, healthy vs liver cirrhosis, keep proteins with >= 3 values in each group.
suppressPackageStartupMessages(library(limma))
args <- commandArgs(trailingOnly = TRUE)
folder <- args[1]; out <- args[2]
pg <- read.delim(gzfile(file.path(folder, "proteinGroups.txt.gz")), check.names = FALSE, stringsAsFactors = FALSE)
meta <- read.csv(file.path(folder, "metadata.csv"), check.names = FALSE, stringsAsFactors = FALSE)
flag <- function(x) !is.na(x) & x == "+"
pg <- pg[!(flag(pg[["Reverse"]]) | flag(pg[["Potential contaminant"]]) | flag(pg[["Only identified by site"]])), ]
meta <- meta[meta$disease %in% c("healthy", "liver cirrhosis"), ]
X <- as.matrix(pg[, paste0("LFQ intensity ", meta$sample)])
X[X == 0] <- NA
X <- log2(X)
rownames(X) <- pg[["Protein IDs"]]
colnames(X) <- meta$sample
group <- as.integer(meta$disease == "liver cirrhosis")
ok <- rowSums(!is.na(X[, group == 1])) >= 3 & rowSums(!is.na(X[, group == 0])) >= 3
X <- X[ok, ]
lipid <- factor(meta[["Lipid-lowering therapy (134350008)"]])
complete <- rowSums(is.na(X)) == 0
runs <- list(
  list(name = "plain", X = X, design = model.matrix(~ group), trend = FALSE),
  list(name = "trend", X = X, design = model.matrix(~ group), trend = TRUE),
  list(name = "covariate", X = X, design = model.matrix(~ group + lipid), trend = FALSE),
  list(name = "complete", X = X[complete, ], design = model.matrix(~ group), trend = TRUE)
)
res <- do.call(rbind, lapply(runs, function(r) {
  fit <- eBayes(lmFit(r$X, r$design), trend = r$trend)
  tt <- topTable(fit, coef = 2, number = Inf, sort.by = "none")
  data.frame(analysis = r$name, protein = rownames(tt), logFC = tt$logFC, AveExpr = tt$AveExpr, t = tt$t,
             P.Value = tt$P.Value, adj.P.Val = tt$adj.P.Val, B = tt$B, df.total = fit$df.total)
}))
res[] <- lapply(res, function(c) if (is.numeric(c)) sprintf("%.12g", c) else c)
write.csv(res, out, row.names = FALSE, quote = TRUE)
