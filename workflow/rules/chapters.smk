# One papermill job per chapter of workflow/chapters.yaml, then the appendix. A summary
# chapter (the landing page) also reads every claims file the other chapters write.

for _ch in CFG.chapters:

    rule:
        name:
            f"chapter_{_ch.name}"
        input:
            notebook=f"{CFG.root}/notebooks/{_ch.name}.ipynb",
            toc=f"{CFG.root}/_toc.yml",  # exhibit numbers follow its reading order (report.exhibits.chapter_number)
            artefacts=[f"{R}/{a}" for a in W.expand_inputs(P, _ch.inputs)],
            claims=[f"{R}/{a}" for a in W.claims_inputs(CFG.chapters)] if _ch.summary else [],
        output:
            notebook=f"{R}/executed/{_ch.name}.ipynb",
            artefacts=[f"{R}/{a}" for a in _ch.outputs],
            prov=f"{R}/provenance/chapter-{_ch.name}.json",
        params:
            chapter=_ch.name,  # shell commands are formatted when the job runs: no loop variable in them
            cfg=W.params_json(P, _ch.params),
            code=W.notebook_code(f"{CFG.root}/notebooks/{_ch.name}.ipynb"),
        log:
            f"{R}/logs/chapter-{_ch.name}.log",
        shell:
            W.stage_command("chapter", "--chapter {params.chapter}")


rule appendix:
    input:
        notebook=f"{CFG.root}/notebooks/{CFG.appendix}.ipynb",
        chapters=[f"{R}/executed/{c.name}.ipynb" for c in CFG.chapters],
        spread=W.seed_spread_inputs(RP),  # `make spread`'s table when it exists at planning time (an optional input: workflow.seed_spread_inputs)
    output:
        record=str(RP.run_record),
        notebook=f"{R}/executed/{CFG.appendix}.ipynb",
        prov=f"{R}/provenance/chapter-{CFG.appendix}.json",
    params:
        cfg=W.params_json(P, CFG.appendix_params),
        code=W.notebook_code(f"{CFG.root}/notebooks/{CFG.appendix}.ipynb"),
    log:
        f"{R}/logs/chapter-{CFG.appendix}.log",
    shell:
        W.stage_command("appendix", f"--chapter {CFG.appendix}")
