"""The whole smoke book on a 'real' cohort given as a manifest: same code path, and no patient id in the pages."""


import pandas as pd
import pytest

from ecrs_analysis.report.privacy import find_identifiers
from ecrs_analysis.pipeline.runner import RunOptions, run_book
from ecrs_analysis.data.synth.cohort import generate_cohort



@pytest.mark.slow
def test_real_manifest_builds_the_book_without_showing_identifiers(tmp_path, monkeypatch, copy_book_sources):
    # A hospital's cohort: our generator's files, but hospital-style identifiers in the manifest.
    cohort = generate_cohort(tmp_path / "hospital", design="li2025", seed=5, n_patients=72, spacing_scale=6.0, n_jobs=2)
    m = pd.read_csv(cohort / "manifest.csv")
    m["patient_id"] = [f"MRN{93000000 + 17 * i}" for i in range(len(m))]
    m.to_csv(cohort / "manifest.csv", index=False)
    for synthetic_only in ("truth.csv", "generator.json"):  # a real cohort has no ground truth
        (cohort / synthetic_only).unlink(missing_ok=True)

    book = copy_book_sources(tmp_path / "book_root")  # so the checkout's _build stays untouched
    monkeypatch.chdir(book)
    record = run_book(
        RunOptions(
            profile="smoke",
            data=(f"li2025={cohort / 'manifest.csv'}",),
            overrides={
                # one network, no MTLNet ablation: the pages and their identifiers are the point here, not the models
                "deep.models": ["resnet3d"], "deep.epochs": 1, "deep.folds": 2, "mtlnet.ablation": False,
                "stats.alpha": 0.2, "stats.n_resamples": 200, "stats.roc_band_resamples": 20,
                "studies.mtlnet2025.synthetic.n_patients": 30, "studies.mtlnet2025.synthetic.spacing_scale": 6.0,
            },
            results_dir=tmp_path / "results",
        )
    )
    html = book / "_build" / "html"
    assert (html / "book" / "executed" / "04_integrated_model.html").exists()
    assert record["inputs"]["li2025"]["synthetic"] is False and record["published"].endswith("index.html")
    assert find_identifiers(html, m["patient_id"]) == {}
    # the check is live: the identifiers are known to the run, and a page showing one is caught
    (html / "leak.html").write_text(f"<p>{m['patient_id'][3]}</p>")
    assert find_identifiers(html, m["patient_id"]) == {"leak.html": [m["patient_id"][3]]}
