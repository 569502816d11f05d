# The second study: one MTLNet training job per variant (the multitask network; with
# mtlnet.ablation also its classification-only and segmentation-only versions).

rule mtlnet:
    input:
        f"{R}/mtlnet2025/split.json",
        f"{R}/mtlnet2025/preprocessed.csv",
    output:
        scores=f"{R}/mtlnet2025/{{job}}/scores.csv",
        best=f"{R}/mtlnet2025/{{job}}/best.pt",  # read by the explanation job
        masks=f"{R}/mtlnet2025/{{job}}/masks.npz",  # predicted masks (variants with a segmentation head)
        history=f"{R}/mtlnet2025/{{job}}/history.csv",  # per epoch; read with job.json by the evaluation and chapter 05
        job=f"{R}/mtlnet2025/{{job}}/job.json",
        prov=f"{R}/provenance/mtlnet-{{job}}.json",
    params:
        cfg=W.params_for(P, "mtlnet", "mtlnet2025"),
        code=W.code("ecrs_analysis.training.mtl"),
        software=W.software("torch", "monai", "numpy"),
    wildcard_constraints:
        job="|".join(v for k, v in W.MTLNET_JOBS.items() if k != "classification"),
    threads: CFG.threads_per_training_job
    # Start MTLNet as soon as its data are ready, beside the CNN folds: left to the scheduler it
    # ran after all 15 folds, and the book waited for it (the demo's critical path).
    priority: 10
    resources:
        gpu=CFG.gpus_per_training_job,
        mem_mb=CFG.mem_mb_per_training_job,
    log:
        f"{R}/logs/mtlnet-{{job}}.log",
    shell:
        W.stage_command("mtlnet", "--study mtlnet2025 --model {wildcards.job}")


# The classification-only ablation predicts no mask: the same job without masks.npz.
use rule mtlnet as mtlnet_classification with:
    output:
        scores=f"{R}/mtlnet2025/{{job}}/scores.csv",
        best=f"{R}/mtlnet2025/{{job}}/best.pt",
        history=f"{R}/mtlnet2025/{{job}}/history.csv",
        job=f"{R}/mtlnet2025/{{job}}/job.json",
        prov=f"{R}/provenance/mtlnet-{{job}}.json",
    wildcard_constraints:
        job=W.MTLNET_JOBS["classification"],
