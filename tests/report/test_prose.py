"""Prose built from tables, and the guard that fails a chapter whose prose contradicts its table."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecrs_analysis.report import prose
from ecrs_analysis.stats.evaluate import adjust_p, ceiling_table, paired_delong_table

ROOT = Path(__file__).resolve().parents[2]


def _scores(n=80, seed=4):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    z = y + rng.normal(0, 1.0, n)
    return pd.DataFrame({"set": np.repeat(["train", "internal_test"], n // 2), "label": y, "ceiling": z,
                         "close": z + rng.normal(0, 0.1, n), "weak": y + rng.normal(0, 3, n)})


def _above_ceiling_table():
    """A small table in which one row lies above its ceiling (as lesion-ROI volume did on the external set)."""
    return pd.DataFrame({"AUC": [0.88, 0.70], "ceiling AUC": [0.861, 0.861]}, index=pd.MultiIndex.from_tuples([("external_test", "a"), ("external_test", "b")], names=["set", "model"]))


@pytest.mark.parametrize("sentence", [
    "No CT-only model can exceed the image ceiling.",
    "The ceiling is the best any model could reach on that set.",
    "The ceiling is an upper bound on the AUC.",
    "No model can do better than the latent ceiling.",
])
def test_the_guard_flags_bound_wording_when_a_row_exceeds_the_ceiling(sentence):
    text = f"Table 3.4 shows the AUCs. {sentence} The CNNs learned."
    assert prose.bound_contradictions(text, _above_ceiling_table()) == [sentence]
    below = _above_ceiling_table().assign(AUC=[0.8, 0.7])
    assert prose.bound_contradictions(text, below) == []  # no row exceeds it: the wording stands


def test_the_guard_needs_the_columns_it_compares():
    with pytest.raises(KeyError, match="ceiling AUC"):
        prose.bound_contradictions("x", pd.DataFrame({"AUC": [0.8]}))


def test_generated_ceiling_prose_passes_the_guard_and_says_which_rows_lie_above():
    s = _scores()
    t = ceiling_table(s, ["close", "weak"], ceiling="ceiling", n_resamples=300, seed=0)
    text = prose.ceiling_prose(t, what="the image-only ceiling")
    assert prose.bound_contradictions(text, t) == []
    above = t[t["AUC above ceiling"]]
    if len(above):
        assert f"{len(above)} of {len(t)} rows lie above the ceiling's estimate" in text
    else:
        assert "No row lies above" in text
    # every number in the sentence for a row is the table's
    r = t.loc[("internal_test", "weak")]
    assert f"AUC {r['AUC']:.3f} against {r['ceiling AUC']:.3f}" in text
    # a table with a row above the ceiling is described without bound wording
    forced = t.copy()
    forced.loc[("internal_test", "close"), ["AUC", "AUC above ceiling"]] = [forced.loc[("internal_test", "close"), "ceiling AUC"] + 0.01, True]
    text = prose.ceiling_prose(forced)
    assert "lie above the ceiling's estimate" in text and prose.bound_contradictions(text, forced) == []


def test_versus_prose_says_what_the_paired_tests_show_and_counts_the_tests():
    s = _scores().rename(columns={"close": "integrated", "weak": "clinical_signature"})
    paired = adjust_p(paired_delong_table(s, "integrated", ["clinical_signature", "ceiling"]))
    paired = paired.assign(tests=paired.attrs["tests"])
    text = prose.versus_prose(paired, reference="integrated", other="clinical_signature", sets=["internal_test"])
    r = paired.loc[("internal_test", "integrated vs clinical_signature")]
    assert f"{r['ΔAUC']:.3f}" in text and "Holm-adjusted" in text and "4 tests" in text
    shown = r["CI low"] > 0 and r["p (Holm)"] < 0.05
    assert ("beats the clinical signature on every test set" in text) == shown
    # the same comparison with no difference: the prose must not claim one
    null = paired.copy()
    null.loc[("internal_test", "integrated vs clinical_signature"), ["ΔAUC", "CI low", "CI high", "p", "p (Holm)"]] = [0.016, -0.003, 0.035, 0.09, 0.36]
    text = prose.versus_prose(null, reference="integrated", other="clinical_signature", sets=["internal_test"])
    assert "the data do not show that the integrated model beats the clinical signature" in text


def test_threshold_prose_reports_the_drop_on_held_out_folds():
    held = pd.DataFrame({"sensitivity (fitted folds)": [0.8, 0.82], "sensitivity (held-out fold)": [0.78, 0.8],
                         "specificity (fitted folds)": [0.8, 0.8], "specificity (held-out fold)": [0.5, 0.6]})
    text = prose.threshold_prose(held)
    assert "specificity drops by 0.250" in text and "out-of-fold" in text and "0.550 on the held-out fold" in text


def _markdown_of(notebook: str) -> str:
    cells = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("notebook", ["00_claims.ipynb", "03_deep_models.ipynb", "04_integrated_model.ipynb"])
def test_the_fixed_prose_of_my_chapters_calls_no_ceiling_a_bound(notebook):
    """The book's tables hold rows above a ceiling (MTLNet's training AUC, lesion-ROI volume on the external set): no chapter may call it a bound."""
    assert prose.bound_contradictions(_markdown_of(notebook), _above_ceiling_table()) == []


def test_calibration_and_in_sample_prose_come_from_their_tables():
    cal = pd.DataFrame({"n": [40, 30], "scores": ["out-of-fold", "held-out"], "Brier": [0.18, 0.21], "calibration intercept": [0.1, -0.3],
                        "calibration slope": [0.95, 0.6]}, index=pd.Index(["train", "external_test"], name="set"))
    text = prose.calibration_prose(cal)
    assert "Brier 0.210" in text and "slope 0.60" in text and "too extreme" in text
    aucs = pd.DataFrame({"AUC": [0.95, 0.85]}, index=pd.MultiIndex.from_tuples([("train", "integrated"), ("train", "integrated (out-of-fold)")], names=["set", "model"]))
    assert "0.950 in-sample against 0.850 out-of-fold" in prose.in_sample_prose(aucs, models=["integrated"], train_set="train")
