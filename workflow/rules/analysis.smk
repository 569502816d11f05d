# The computations behind chapters 01, 02, 04 and 07 (ecrs_analysis.jobs.analysis), one job
# each; the chapters only read what these jobs write. Every path comes from ecrs_analysis.paths.
import shlex

from ecrs_analysis.jobs.analysis import INTEGRATED_EVALUATION_TABLES
from ecrs_analysis.jobs.claims_chapters import CLAIMS_JOBS
from ecrs_analysis.paths import OMICS_COMPARISONS

LI = "li2025"
OMICS_TABLES = ("samples", "log2_raw", "normalized", "steps", "definitions", "limma_welch", "planted", "planted_pathways")
OMICS_PER_COMPARISON = {f"{t}_{c}": str(RP.omics_table(LI, t, c)) for c in OMICS_COMPARISONS for t in ("de", "ora", "gsea", "running")}


rule table1:
    input:
        cohort=str(RP.cohort_meta("{study}")),
        split=str(RP.split("{study}")),
    output:
        by_set=str(RP.table1("{study}", "set")),
        by_endotype=str(RP.table1("{study}", "endotype")),
        prov=str(RP.prov("table1-{study}")),
    params:
        cfg=lambda w: W.params_for(P, "table1", w.study),
        code=W.code("ecrs_analysis.jobs.analysis", "ecrs_analysis.stats.table1"),
    log:
        str(RP.log("table1-{study}")),
    shell:
        W.stage_command("table1", "--study {wildcards.study}", outputs=("by_set", "by_endotype"))


rule clinical:
    input:
        folds=str(RP.folds(LI)),  # the out-of-fold signature, on which its threshold is chosen, uses the CNNs' folds
        cohort=str(RP.cohort_meta(LI)),
        split=str(RP.split(LI)),
    output:
        scores=str(RP.scores(LI, "clinical")),
        univariable=str(RP.clinical(LI, "univariable")),
        signature=str(RP.clinical(LI, "signature")),
        imputed=str(RP.clinical(LI, "imputed")),
        auc=str(RP.performance(LI, "clinical", "auc")),
        operating_points=str(RP.performance(LI, "clinical", "operating_points")),
        prov=str(RP.prov(f"clinical-{LI}")),
    params:
        cfg=W.params_for(P, "clinical", LI),
        code=W.code("ecrs_analysis.jobs.analysis", "ecrs_analysis.modelling.clinical", "ecrs_analysis.stats.evaluate"),
    log:
        str(RP.log(f"clinical-{LI}")),
    shell:
        W.stage_command("clinical", f"--study {LI}", outputs=("scores", "univariable", "signature", "imputed", "auc", "operating_points"), inputs=("folds",))


rule integrated:
    input:
        clinical=str(RP.scores(LI, "clinical")),
        deep=str(RP.scores(LI, "deep")),
        cohort=str(RP.cohort_meta(LI)),
        split=str(RP.split(LI)),
    output:
        scores=str(RP.scores(LI, "integrated")),
        model=str(RP.integrated_model(LI)),
        prov=str(RP.prov(f"integrated-{LI}")),
    params:
        cfg=W.params_for(P, "integrated", LI),
        code=W.code("ecrs_analysis.jobs.analysis", "ecrs_analysis.modelling.fusion"),
    log:
        str(RP.log(f"integrated-{LI}")),
    shell:
        W.stage_command("integrated", f"--study {LI}", outputs=("scores", "model"), inputs=("clinical", "deep"))


rule integrated_evaluation:
    input:
        scores=str(RP.scores(LI, "integrated")),
        folds=str(RP.folds(LI)),
        cohort=str(RP.cohort_meta(LI)),
        split=str(RP.split(LI)),
    output:
        **{t: str(RP.performance(LI, "integrated", t)) for t in INTEGRATED_EVALUATION_TABLES},
        prov=str(RP.prov(f"integrated_evaluation-{LI}")),
    params:
        cfg=W.params_for(P, "integrated_evaluation", LI),
        code=W.code("ecrs_analysis.jobs.analysis", "ecrs_analysis.modelling.fusion", "ecrs_analysis.modelling.clinical", "ecrs_analysis.stats.evaluate", "ecrs_analysis.stats.calibration"),
    log:
        str(RP.log(f"integrated_evaluation-{LI}")),
    shell:
        W.stage_command("integrated_evaluation", f"--study {LI}", outputs=INTEGRATED_EVALUATION_TABLES, inputs=("scores", "folds"))


rule proteomics:
    input:
        scores=str(RP.scores(LI, "integrated")),
        cohort=str(RP.cohort_meta(LI)),
        split=str(RP.split(LI)),
        user_files=[f for f in (P["omics"].get("proteins"), P["omics"].get("sample_sheet")) if f],
    output:
        summary=str(RP.omics_summary(LI)),
        synthetic=directory(str(RP.omics(LI) / "synthetic")),
        **{t: str(RP.omics_table(LI, t)) for t in OMICS_TABLES},
        **OMICS_PER_COMPARISON,
        prov=str(RP.prov(f"proteomics-{LI}")),
    params:
        cfg=W.params_for(P, "proteomics", LI),
        code=W.code("ecrs_analysis.jobs.analysis", "ecrs_analysis.omics.analysis"),
    log:
        str(RP.log(f"proteomics-{LI}")),
    shell:
        W.stage_command("proteomics", f"--study {LI}", outputs=("summary", "synthetic", *OMICS_TABLES, *OMICS_PER_COMPARISON), inputs=("scores",))


CLAIMS_INPUTS = {
    "01_cohort": {f"{k}_{s}": str(f(s)) for s in ("li2025", "mtlnet2025") for k, f in (("cohort", RP.cohort_meta), ("split", RP.split))},
    "04_integrated_model": {"auc": str(RP.performance(LI, "integrated", "auc")), "operating_points": str(RP.performance(LI, "integrated", "operating_points"))},
    "07_proteomics": {"summary": str(RP.omics_summary(LI)), "gsea": str(RP.omics_table(LI, "gsea", OMICS_COMPARISONS[0]))},
}
CLAIMS_STUDIES = {"01_cohort": "li2025 mtlnet2025"}
# A rule's shell command is formatted when its job runs, after the loop below has moved on: what
# differs per chapter travels in `params`, fixed when the rule is defined.
CLAIMS_ARGS = {
    ch: " ".join([f"--chapter {ch}", *([f"--studies {CLAIMS_STUDIES[ch]}"] if ch in CLAIMS_STUDIES else []),
                  *([("--in " + " ".join(f"{k}={shlex.quote(v)}" for k, v in CLAIMS_INPUTS[ch].items()))] if ch not in CLAIMS_STUDIES else [])])
    for ch in CLAIMS_JOBS
}

for _chapter in CLAIMS_JOBS:
    if _chapter not in CFG.chapter_names:
        continue

    rule:
        name:
            f"claims_{_chapter}"
        input:
            **CLAIMS_INPUTS[_chapter],
        output:
            claims=str(RP.claims(_chapter)),
            prov=str(RP.prov(f"claims-{_chapter}")),
        params:
            args=CLAIMS_ARGS[_chapter],
            cfg=W.params_for(P, f"claims-{_chapter}", LI),
            code=W.code("ecrs_analysis.jobs.analysis", "ecrs_analysis.report.claims"),
        log:
            str(RP.log(f"claims-{_chapter}")),
        shell:
            W.stage_command("claims", "{params.args}", outputs=("claims",))
