# Data stages, one job per study: cohort -> split -> preprocessed volumes.

rule cohort:
    input:
        W.manifest_inputs(P),
    output:
        table=f"{R}/{{study}}/cohort.csv",
        meta=f"{R}/{{study}}/cohort.json",
        prov=f"{R}/provenance/cohort-{{study}}.json",
    params:
        cfg=lambda w: W.params_for(P, "cohort", w.study),
        code=W.code("ecrs_analysis.data.study"),
    threads: CFG.threads_per_data_job
    log:
        f"{R}/logs/cohort-{{study}}.log",
    shell:
        W.stage_command("cohort", "--study {wildcards.study}")


rule split:
    input:
        f"{R}/{{study}}/cohort.json",
    output:
        split=f"{R}/{{study}}/split.json",
        prov=f"{R}/provenance/split-{{study}}.json",
    params:
        cfg=lambda w: W.params_for(P, "split", w.study),
        code=W.code("ecrs_analysis.data.study"),
    log:
        f"{R}/logs/split-{{study}}.log",
    shell:
        W.stage_command("split", "--study {wildcards.study}")


rule preprocess:
    input:
        f"{R}/{{study}}/cohort.json",
    output:
        index=f"{R}/{{study}}/preprocessed.csv",
        prov=f"{R}/provenance/preprocess-{{study}}.json",
    params:
        cfg=lambda w: W.params_for(P, "preprocess", w.study),
        code=W.code("ecrs_analysis.data.study"),
    threads: CFG.threads_per_data_job
    priority: 10  # before the training folds: MTLNet's preprocessing feeds its job (see rules/mtlnet.smk)
    log:
        f"{R}/logs/preprocess-{{study}}.log",
    shell:
        W.stage_command("preprocess", "--study {wildcards.study}")
