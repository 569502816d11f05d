# Exhibits the chapters used to compute themselves (ecrs_analysis.jobs.exhibits), one job each: ROC
# curves with bootstrap bands (02, 04, 05), chapter 02's paired DeLong tests, calibration and decision
# curve, chapter 98's subgroup AUCs, chapter 01's phantom anatomies and HU statistics. The chapters
# only read these tables. Every path comes from ecrs_analysis.paths.
from ecrs_analysis.jobs.exhibits import CLINICAL_EXHIBITS
from ecrs_analysis.paths import PREDICTED_MASKS, find_reference_ct

EXHIBITS_CODE = ("ecrs_analysis.jobs.exhibits", "ecrs_analysis.stats.roc", "ecrs_analysis.stats.delong")


rule clinical_exhibits:
    input:
        scores=str(RP.scores("li2025", "clinical")),
        cohort=str(RP.cohort_meta("li2025")),
        split=str(RP.split("li2025")),
    output:
        **{t: str(RP.performance("li2025", "clinical", t)) for t in CLINICAL_EXHIBITS},
        prov=str(RP.prov("clinical_exhibits-li2025")),
    params:
        cfg=W.params_for(P, "clinical_exhibits", "li2025"),
        code=W.code(*EXHIBITS_CODE, "ecrs_analysis.stats.evaluate", "ecrs_analysis.stats.calibration", "ecrs_analysis.modelling.clinical"),
    log:
        str(RP.log("clinical_exhibits-li2025")),
    shell:
        W.stage_command("clinical_exhibits", "--study li2025", outputs=CLINICAL_EXHIBITS, inputs=("scores",))


rule integrated_roc:
    input:
        scores=str(RP.performance("li2025", "integrated", "held_out_scores")),
        cohort=str(RP.cohort_meta("li2025")),
        split=str(RP.split("li2025")),
    output:
        roc=str(RP.performance("li2025", "integrated", "roc")),
        prov=str(RP.prov("integrated_roc-li2025")),
    params:
        cfg=W.params_for(P, "integrated_roc", "li2025"),
        code=W.code(*EXHIBITS_CODE),
    log:
        str(RP.log("integrated_roc-li2025")),
    shell:
        W.stage_command("integrated_roc", "--study li2025", outputs=("roc",), inputs=("scores",))


rule mtlnet_roc:
    input:
        scores=str(RP.job_scores(RP.mtlnet_job("mtlnet2025", W.MTLNET_JOBS[W.MULTITASK]))),
        learning=str(RP.performance("mtlnet2025", "mtlnet", "learning")),
        cohort=str(RP.cohort_meta("mtlnet2025")),
        split=str(RP.split("mtlnet2025")),
    output:
        roc=str(RP.performance("mtlnet2025", "mtlnet", "roc")),
        prov=str(RP.prov("mtlnet_roc-mtlnet2025")),
    params:
        cfg=W.params_for(P, "mtlnet_roc", "mtlnet2025"),
        code=W.code(*EXHIBITS_CODE),
    log:
        str(RP.log("mtlnet_roc-mtlnet2025")),
    shell:
        W.stage_command("mtlnet_roc", "--study mtlnet2025", outputs=("roc",), inputs=("scores", "learning"))


rule subgroups:
    input:
        scores=str(RP.scores("li2025", "integrated")),
        cohort=str(RP.cohort_meta("li2025")),
        split=str(RP.split("li2025")),
    output:
        subgroups=str(RP.performance("li2025", "integrated", "subgroups")),
        prov=str(RP.prov("subgroups-li2025")),
    params:
        cfg=W.params_for(P, "subgroups", "li2025"),
        code=W.code("ecrs_analysis.jobs.exhibits", "ecrs_analysis.stats.subgroups"),
    log:
        str(RP.log("subgroups-li2025")),
    shell:
        W.stage_command("subgroups", "--study li2025", outputs=("subgroups",), inputs=("scores",))


rule phantom_anatomies:
    output:
        volumes=str(RP.phantom_volumes),
        prov=str(RP.prov("phantom_anatomies")),
    params:
        cfg=W.params_for(P, "phantom_anatomies", ""),
        code=W.code("ecrs_analysis.jobs.exhibits", "ecrs_analysis.data.synth.anatomy"),
    log:
        str(RP.log("phantom_anatomies")),
    shell:
        W.stage_command("phantom_anatomies", "", outputs=("volumes",))


rule hu_tissues:
    input:
        cohort=str(RP.cohort_meta("li2025")),
        table=str(RP.cohort_table("li2025")),
        split=str(RP.split("li2025")),  # the stage loads the study (cohort and split), read-only
        # the real head CT of shared/reference when it exists at planning time (an optional input, as seed_spread_inputs)
        reference=[str(c) for c in [find_reference_ct()] if c is not None],
    output:
        tissues=str(RP.hu_tissues("li2025")),
        prov=str(RP.prov("hu_tissues-li2025")),
    params:
        cfg=W.params_for(P, "hu_tissues", "li2025"),
        code=W.code("ecrs_analysis.jobs.exhibits", "ecrs_analysis.data.ctstats"),
    log:
        str(RP.log("hu_tissues-li2025")),
    shell:
        W.stage_command("hu_tissues", "--study li2025", outputs=("tissues",))  # the stage finds the reference CT as the rule did


rule segmentation_examples:
    input:
        job=[str(RP.mtlnet_job("mtlnet2025", W.MTLNET_JOBS[W.MULTITASK]) / f) for f in ("history.csv", "scores.csv", "job.json")],
        masks=str(RP.mtlnet_job("mtlnet2025", W.MTLNET_JOBS[W.MULTITASK]) / PREDICTED_MASKS),
        index=str(RP.preprocessed_index("mtlnet2025")),
        cohort=str(RP.cohort_meta("mtlnet2025")),
        split=str(RP.split("mtlnet2025")),
    output:
        examples=str(RP.performance("mtlnet2025", "mtlnet", "segmentation_examples").with_suffix(".npz")),
        prov=str(RP.prov("segmentation_examples-mtlnet2025")),
    params:
        cfg=W.params_for(P, "segmentation_examples", "mtlnet2025"),
        code=W.code("ecrs_analysis.jobs.exhibits", "ecrs_analysis.training.mtl", "ecrs_analysis.data.preprocess"),
    log:
        str(RP.log("segmentation_examples-mtlnet2025")),
    shell:
        W.stage_command("segmentation_examples", "--study mtlnet2025", outputs=("examples",), inputs=("masks", "index"))


from ecrs_analysis.jobs import explain_views as XV

EXPLAIN_STUDIES = ("li2025", "mtlnet2025")
EXPLAIN_VIEWS = {f"{s}_{v}": str(RP.explain_view(s, v)) for s in EXPLAIN_STUDIES for v in XV.VIEWS}  # mean maps, meshes, example panels' slices


rule explain_views:
    input:
        # what chapter 06 reads to load an explanation: every explanation job's tables and maps, and each study's data
        [f"{R}/{a}" for a in W.expand_inputs(P, ["{explain_outputs}"])],
        [str(f(s)) for s in EXPLAIN_STUDIES for f in (RP.cohort_meta, RP.cohort_table, RP.split, RP.preprocessed_index)],
    output:
        **EXPLAIN_VIEWS,
        prov=str(RP.prov("explain_views")),
    params:
        cfg=W.params_for(P, "explain_views", ""),
        code=W.code("ecrs_analysis.jobs.explain_views", "ecrs_analysis.report.explain_chapter", "ecrs_analysis.explain.views", "ecrs_analysis.explain.mesh"),
    log:
        str(RP.log("explain_views")),
    shell:
        W.stage_command("explain_views", "--studies " + " ".join(EXPLAIN_STUDIES), outputs=tuple(EXPLAIN_VIEWS))
