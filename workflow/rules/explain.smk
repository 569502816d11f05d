# Explanation (chapter 06): one job per (study, network) -- Grad-CAM of the model that scored each
# explained test patient, positive and negative controls, deletion curves, randomisation check --
# and one job per study for what simple image summaries predict. The chapter only reads these.
from ecrs_analysis.jobs import explain_rules as XJ


rule explain:
    input:
        lambda w: [f"{R}/{a}" for a in XJ.job_inputs(P, w.study, w.model)],
    output:
        tables=[f"{R}/{{study}}/explain/{{model}}/{t}" for t in XJ.TABLES],
        maps=directory(f"{R}/{{study}}/explain/{{model}}/maps"),
        prov=f"{R}/provenance/explain-{{study}}-{{model}}.json",
    params:
        cfg=lambda w: W.params_for(P, "explain", w.study),
        code=W.code("ecrs_analysis.jobs.explain"),
    wildcard_constraints:
        study="li2025|mtlnet2025",
        model="[A-Za-z0-9_]+",
    log:
        f"{R}/logs/explain-{{study}}-{{model}}.log",
    shell:
        W.stage_command("explain", "--study {wildcards.study} --model {wildcards.model}")


rule explain_summaries:
    input:
        lambda w: [f"{R}/{a}" for a in XJ.summary_inputs(w.study)],
    output:
        tables=[f"{R}/{{study}}/explain/{t}" for t in XJ.SUMMARY_TABLES],
        prov=f"{R}/provenance/explain_summaries-{{study}}.json",
    params:
        cfg=lambda w: W.params_for(P, "explain_summaries", w.study),
        code=W.code("ecrs_analysis.jobs.explain_summaries"),
    wildcard_constraints:
        study="li2025|mtlnet2025",
    log:
        f"{R}/logs/explain_summaries-{{study}}.log",
    shell:
        W.stage_command("explain_summaries", "--study {wildcards.study}")
