# The second study: one MTLNet training job per variant (the multitask network; with
# mtlnet.ablation also its classification-only and segmentation-only versions).
from ecrs_analysis.paths import HISTORY, JOB_INFO, PREDICTED_MASKS

MTLNET_JOB = RP.mtlnet_job("mtlnet2025", "{job}")  # the variant's folder (training.mtl_settings.VARIANT_FOLDERS), as a wildcard


rule mtlnet:
    input:
        str(RP.split("mtlnet2025")),
        str(RP.preprocessed_index("mtlnet2025")),
    output:
        scores=str(RP.job_scores(MTLNET_JOB)),
        best=str(RP.checkpoint(MTLNET_JOB)),  # read by the explanation job
        masks=str(MTLNET_JOB / PREDICTED_MASKS),  # predicted masks (variants with a segmentation head)
        history=str(MTLNET_JOB / HISTORY),  # per epoch; read with job.json by the evaluation and chapter 05
        job=str(MTLNET_JOB / JOB_INFO),
        prov=str(RP.prov("mtlnet-{job}")),
    params:
        cfg=W.params_for(P, "mtlnet", "mtlnet2025"),
        code=W.code("ecrs_analysis.training.mtl"),
        software=W.software("torch", "monai", "numpy"),
    wildcard_constraints:
        job="|".join(v for k, v in W.MTLNET_JOBS.items() if k != W.CLASSIFICATION),
    threads: CFG.threads_per_training_job
    # Start MTLNet as soon as its data are ready, beside the CNN folds: left to the scheduler it
    # ran after all 15 folds, and the book waited for it (the demo's critical path).
    priority: 10
    resources:
        gpu=CFG.gpus_per_training_job,
        mem_mb=CFG.mem_mb_per_training_job,
    log:
        str(RP.log("mtlnet-{job}")),
    shell:
        W.stage_command("mtlnet", "--study mtlnet2025 --model {wildcards.job}")


# The classification-only ablation predicts no mask: the same job without its masks.
use rule mtlnet as mtlnet_classification with:
    output:
        scores=str(RP.job_scores(MTLNET_JOB)),
        best=str(RP.checkpoint(MTLNET_JOB)),
        history=str(MTLNET_JOB / HISTORY),
        job=str(MTLNET_JOB / JOB_INFO),
        prov=str(RP.prov("mtlnet-{job}")),
    wildcard_constraints:
        job=W.MTLNET_JOBS[W.CLASSIFICATION],
