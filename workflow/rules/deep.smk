# The first study's CNNs: fold assignment, one training job per (model, fold), the score table.

rule folds:
    input:
        f"{R}/li2025/cohort.json",
        f"{R}/li2025/split.json",
    output:
        folds=f"{R}/li2025/folds.csv",
        prov=f"{R}/provenance/folds-li2025.json",
    params:
        cfg=W.params_for(P, "folds", "li2025"),
        code=W.code("ecrs_analysis.training.folds"),
    log:
        f"{R}/logs/folds-li2025.log",
    shell:
        W.stage_command("folds", "--study li2025")


rule train_fold:
    input:
        f"{R}/li2025/folds.csv",
        f"{R}/li2025/preprocessed.csv",
    output:
        scores=f"{R}/li2025/deep/{{model}}/fold{{fold}}/scores.csv",
        best=str(RP.checkpoint(RP.fold("li2025", "{model}", "{fold}"))),  # read by the explanation jobs
        history=f"{R}/li2025/deep/{{model}}/fold{{fold}}/history.csv",  # read by deep_scores (histories_deep.csv)
        prov=f"{R}/provenance/train-li2025-{{model}}-fold{{fold}}.json",
    params:
        cfg=W.params_for(P, "train", "li2025"),
        code=lambda w: W.model_code(w.model),
        software=W.software("torch", "monai", "numpy"),
    wildcard_constraints:
        model="|".join(P["deep"]["models"]),
        fold=r"\d+",
    threads: CFG.threads_per_training_job
    resources:
        gpu=CFG.gpus_per_training_job,
        mem_mb=CFG.mem_mb_per_training_job,
    log:
        f"{R}/logs/train-li2025-{{model}}-fold{{fold}}.log",
    shell:
        W.stage_command("train", "--study li2025 --model {wildcards.model} --fold {wildcards.fold}")


rule deep_scores:
    input:
        f"{R}/li2025/folds.csv",
        expand(f"{R}/li2025/deep/{{model}}/fold{{fold}}/{{table}}.csv", model=P["deep"]["models"], fold=range(P["deep"]["folds"]), table=("scores", "history")),
    output:
        scores=f"{R}/li2025/scores_deep.csv",
        histories=f"{R}/li2025/histories_deep.csv",
        prov=f"{R}/provenance/deep_scores-li2025.json",
    params:
        cfg=W.params_for(P, "deep_scores", "li2025"),
        code=W.code("ecrs_analysis.training.folds"),
    log:
        f"{R}/logs/deep_scores-li2025.log",
    shell:
        W.stage_command("deep_scores", "--study li2025")
