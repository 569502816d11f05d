# What chapters 03 (the CNNs) and 05 (MTLNet) show, one job each: did each network learn, its
# metrics beside the ceilings, and chapter 05's claims. The chapters only read these tables.
from ecrs_analysis.jobs.deep_evaluation import DEEP_TABLES
from ecrs_analysis.jobs.mtlnet_evaluation import MTLNET_TABLES
from ecrs_analysis.paths import PREDICTED_MASKS


rule deep_evaluation:
    input:
        scores=str(RP.scores("li2025", "deep")),
        histories=str(RP.histories("li2025")),
        cohort=str(RP.cohort_meta("li2025")),
        split=str(RP.split("li2025")),
    output:
        **{t: str(RP.performance("li2025", "deep", t)) for t in DEEP_TABLES},
        prov=str(RP.prov("deep_evaluation-li2025")),
    params:
        cfg=W.params_for(P, "deep_evaluation", "li2025"),
        code=W.code("ecrs_analysis.jobs.deep_evaluation", "ecrs_analysis.stats.learning", "ecrs_analysis.stats.evaluate", "ecrs_analysis.models.registry"),
    log:
        str(RP.log("deep_evaluation-li2025")),
    shell:
        W.stage_command("deep_evaluation", "--study li2025", outputs=DEEP_TABLES, inputs=("scores", "histories"))


MTLNET_VARIANT_SCORES = {v: str(RP.job_scores(RP.mtlnet_job("mtlnet2025", folder))) for v, folder in W.MTLNET_JOBS.items() if folder in W.mtlnet_jobs(P)}


rule mtlnet_evaluation:
    input:
        **MTLNET_VARIANT_SCORES,
        runs=[f"{R}/mtlnet2025/{folder}/{f}" for folder in W.mtlnet_jobs(P) for f in ("history.csv", "job.json")],  # training.mtl.load_jobs reads them
        cohort=str(RP.cohort_meta("mtlnet2025")),
        split=str(RP.split("mtlnet2025")),
        # the native-grid segmentation: the predicted masks, the resized ground truth, and the crop re-run to map them back
        masks=str(RP.mtlnet_job("mtlnet2025", W.MTLNET_JOBS[W.MULTITASK]) / PREDICTED_MASKS),
        index=str(RP.preprocessed_index("mtlnet2025")),
    output:
        **{t: str(RP.performance("mtlnet2025", "mtlnet", t)) for t in MTLNET_TABLES},
        claims=str(RP.claims("05_mtlnet")),
        prov=str(RP.prov("mtlnet_evaluation-mtlnet2025")),
    params:
        cfg=W.params_for(P, "mtlnet_evaluation", "mtlnet2025"),
        code=W.code("ecrs_analysis.jobs.mtlnet_evaluation", "ecrs_analysis.stats.learning", "ecrs_analysis.stats.evaluate", "ecrs_analysis.report.claims", "ecrs_analysis.models.registry",
                      "ecrs_analysis.stats.segmentation", "ecrs_analysis.stats.calibration", "ecrs_analysis.explain.inverse", "ecrs_analysis.data.preprocess"),
    threads: 2  # the native-grid segmentation re-runs each patient's crop (about 0.5 s a patient): two at a time
    log:
        str(RP.log("mtlnet_evaluation-mtlnet2025")),
    shell:
        W.stage_command("mtlnet_evaluation", "--study mtlnet2025", outputs=(*MTLNET_TABLES, "claims"), inputs=tuple(MTLNET_VARIANT_SCORES))
