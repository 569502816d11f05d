# Data stages, one job per study: cohort -> split -> preprocessed volumes.

rule cohort:
    input:
        W.manifest_inputs(P),
    output:
        table=str(RP.cohort_table("{study}")),
        meta=str(RP.cohort_meta("{study}")),
        prov=str(RP.prov("cohort-{study}")),
    params:
        cfg=lambda w: W.params_for(P, "cohort", w.study),
        code=W.code("ecrs_analysis.data.study"),
    threads: CFG.threads_per_data_job
    log:
        str(RP.log("cohort-{study}")),
    shell:
        W.stage_command("cohort", "--study {wildcards.study}")


rule split:
    input:
        str(RP.cohort_meta("{study}")),
    output:
        split=str(RP.split("{study}")),
        prov=str(RP.prov("split-{study}")),
    params:
        cfg=lambda w: W.params_for(P, "split", w.study),
        code=W.code("ecrs_analysis.data.study"),
    log:
        str(RP.log("split-{study}")),
    shell:
        W.stage_command("split", "--study {wildcards.study}")


rule preprocess:
    input:
        str(RP.cohort_meta("{study}")),
    output:
        index=str(RP.preprocessed_index("{study}")),
        prov=str(RP.prov("preprocess-{study}")),
    params:
        cfg=lambda w: W.params_for(P, "preprocess", w.study),
        code=W.code("ecrs_analysis.data.study"),
    threads: CFG.threads_per_data_job
    priority: 10  # before the training folds: MTLNet's preprocessing feeds its job (see rules/mtlnet.smk)
    log:
        str(RP.log("preprocess-{study}")),
    shell:
        W.stage_command("preprocess", "--study {wildcards.study}")
