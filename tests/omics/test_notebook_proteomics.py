"""Notebook 07 executes on a tiny fake results folder (synthetic proteomics, then a user's files)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _fake_results(tmp: Path) -> tuple[dict, Path]:
    from ecrs_analysis.book.params import load_params
    from ecrs_analysis.data import study as S

    cfg = load_params("smoke")
    li = cfg["studies"]["li2025"]
    li["synthetic"].update(n_patients=40, spacing_scale=8.0)
    cfg["n_jobs"] = 1
    cfg["omics"].update(permutations=50)
    paths = S.ResultPaths(tmp / "smoke")
    study = S.load_study(cfg, "li2025", paths)
    t = study.table.merge(study.cohort.truth[["patient_id", "true_prob"]], on="patient_id")
    rng = np.random.default_rng(0)
    noisy = np.clip(t["true_prob"] + rng.normal(0, 0.15, len(t)), 0, 1)
    scores = pd.DataFrame({"patient_id": t["patient_id"], "set": t["set"], "label": t["label"], "integrated": noisy, "clinical_signature": noisy, "true_prob": t["true_prob"]})
    scores.to_csv(S.scores_path(paths, "li2025", "integrated"), index=False)
    return cfg, paths.root


def _run(cfg: dict, results: Path, out: Path) -> None:
    import papermill

    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = f"{ROOT / 'src'}{os.pathsep}{env_path}" if env_path else str(ROOT / "src")
    try:
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "07_proteomics.ipynb"), str(out), kernel_name="python3", cwd=str(ROOT),
            parameters={"profile": "smoke", "results_dir": str(results), "config": cfg}, progress_bar=False,
        )
    finally:
        os.environ["PYTHONPATH"] = env_path


@pytest.mark.slow
def test_proteomics_notebook_runs_on_synthetic_and_on_user_files(tmp_path: Path) -> None:
    cfg, results = _fake_results(tmp_path)
    _run(cfg, results, tmp_path / "synthetic.ipynb")
    omics = results / "li2025" / "omics"
    de = pd.read_csv(omics / "de_predicted.csv")
    assert {"protein", "gene", "log_fc", "ave_expr", "t", "p_value", "fdr", "b", "welch_p_value"} <= set(de.columns)
    summary = json.loads((omics / "summary.json").read_text())
    assert summary["samples"] == 34
    assert summary["recovery"]["recall"] > 0.2
    for name in ("ora_predicted.csv", "gsea_predicted.csv", "de_label.csv", "gsea_label.csv"):
        assert (omics / name).exists(), name

    # A user's matrix + sample sheet (here the synthetic files under another name): no planted truth.
    user = tmp_path / "user"
    user.mkdir()
    (user / "matrix.tsv").write_text(pd.read_csv(omics / "synthetic" / "proteins.csv").to_csv(sep="\t", index=False))
    pd.read_csv(omics / "synthetic" / "samples.csv").to_csv(user / "sheet.csv", index=False)
    cfg["omics"].update(proteins=str(user / "matrix.tsv"), sample_sheet=str(user / "sheet.csv"))
    _run(cfg, results, tmp_path / "user.ipynb")
    assert json.loads((omics / "summary.json").read_text())["recovery"] is None
