# The book: Jupyter Book renders the executed chapters into a staging folder; the privacy
# check runs on it there. `ecrs run` publishes it as _build/html only after this succeeds.

rule book:
    input:
        chapters=[f"{R}/executed/{c}.ipynb" for c in CFG.chapter_names + [CFG.appendix]],
        sources=W.book_sources(CFG.root),
        kept=[f"{R}/{a}" for a in W.kept_artefacts(P)],  # what no job reads: the book requests it (workflow.kept_artefacts)
    output:
        html=directory(f"{R}/book/html"),
        prov=f"{R}/provenance/book.json",
    params:
        cfg="{}",
        code=W.code("ecrs_analysis.report.publish", "ecrs_analysis.report.sphinx_ext"),
    log:
        f"{R}/logs/book.log",
    shell:
        W.stage_command("book", "")
