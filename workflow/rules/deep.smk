# The first study's CNNs: fold assignment, one training job per (model, fold), the score table.
from ecrs_analysis.paths import HISTORY

FOLD_JOB = RP.fold("li2025", "{model}", "{fold}")  # deep/<model>/fold<k>/, with the wildcards


rule folds:
    input:
        str(RP.cohort_meta("li2025")),
        str(RP.split("li2025")),
    output:
        folds=str(RP.folds("li2025")),
        prov=str(RP.prov("folds-li2025")),
    params:
        cfg=W.params_for(P, "folds", "li2025"),
        code=W.code("ecrs_analysis.training.fold_assignment"),
    log:
        str(RP.log("folds-li2025")),
    shell:
        W.stage_command("folds", "--study li2025")


rule train_fold:
    input:
        str(RP.folds("li2025")),
        str(RP.preprocessed_index("li2025")),
    output:
        scores=str(RP.job_scores(FOLD_JOB)),
        best=str(RP.checkpoint(FOLD_JOB)),  # read by the explanation jobs
        history=str(FOLD_JOB / HISTORY),  # read by deep_scores (histories_deep.csv)
        prov=str(RP.prov("train-li2025-{model}-fold{fold}")),
    params:
        cfg=W.params_for(P, "train", "li2025"),
        code=lambda w: W.model_code(w.model),
        software=W.software("torch", "monai", "numpy"),
    wildcard_constraints:
        model="|".join(P["deep"]["models"]),
        fold=r"\d+",
    threads: CFG.threads_per_training_job
    priority: lambda w: W.training_priority(w.model)  # longest networks first (pipeline/workflow.py)
    resources:
        gpu=CFG.gpus_per_training_job,
        mem_mb=CFG.mem_mb_per_training_job,
    log:
        str(RP.log("train-li2025-{model}-fold{fold}")),
    shell:
        W.stage_command("train", "--study li2025 --model {wildcards.model} --fold {wildcards.fold}")


rule deep_scores:
    input:
        str(RP.folds("li2025")),
        expand(str(RP.job_scores(FOLD_JOB)), model=P["deep"]["models"], fold=range(P["deep"]["folds"])),
        expand(str(FOLD_JOB / HISTORY), model=P["deep"]["models"], fold=range(P["deep"]["folds"])),
    output:
        scores=str(RP.scores("li2025", "deep")),
        histories=str(RP.histories("li2025")),
        prov=str(RP.prov("deep_scores-li2025")),
    params:
        cfg=W.params_for(P, "deep_scores", "li2025"),
        code=W.code("ecrs_analysis.training.fold_assignment"),
    log:
        str(RP.log("deep_scores-li2025")),
    shell:
        W.stage_command("deep_scores", "--study li2025")
