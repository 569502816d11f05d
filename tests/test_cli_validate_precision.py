"""`ecrs validate --study`: the precision the cohort's evaluation sets give (Riley et al. 2021)."""

import re
from pathlib import Path

import pandas as pd
import pytest

from ecrs_analysis import cli
from ecrs_analysis.data.synth.cohort import generate_cohort
from ecrs_analysis.stats.samplesize import minimum_sample_size, validation_precision


@pytest.fixture(scope="module")
def li_cohort(tmp_path_factory):
    return generate_cohort(tmp_path_factory.mktemp("precision") / "li", design="li2025", seed=9, n_patients=40, spacing_scale=8.0, n_jobs=1)


def test_validate_reports_each_evaluation_sets_precision(li_cohort, capsys, monkeypatch):
    monkeypatch.setenv("ECRS_PARAMS_DIR", str(Path(__file__).resolve().parents[1] / "params"))
    assert cli.main(["validate", str(li_cohort / "manifest.csv"), "--study", "li2025", "--profile", "smoke", "--anticipated-auc", "0.75"]) == 0
    out = capsys.readouterr().out
    assert "expected 95% CI widths for an AUC of 0.75 and a calibration slope of 1" in out
    rows = re.findall(r"^  (\w+): (\d+) patients \((\d+) eosinophilic\): AUC ± [\d.]+ \(width ([\d.]+)\), calibration slope ± [\d.]+ \(width ([\d.]+)\); "
                      r"widths of 0.10 and 0.20 need ([\d,]+) and ([\d,]+) patients", out, flags=re.M)
    assert [r[0] for r in rows] == ["internal_test", "external_test"], out
    sets = re.search(r"sets: train (\d+), internal_test (\d+), external_test (\d+)", out)
    labels = pd.read_csv(li_cohort / "manifest.csv")["label"]
    assert sum(int(r[1]) for r in rows) + int(sets.group(1)) == len(labels)  # every patient once
    for name, n, cases, auc_w, slope_w, n_auc, n_slope in rows:
        n, cases = int(n), int(cases)
        assert n == int(sets.group(2 if name == "internal_test" else 3))
        r = validation_precision(n, cases / n, c_statistic=0.75)
        m = minimum_sample_size(cases / n, c_statistic=0.75)
        assert float(auc_w) == pytest.approx(r.c_ci_width, abs=0.005) and float(slope_w) == pytest.approx(r.slope_ci_width, abs=0.005)
        assert (int(n_auc.replace(",", "")), int(n_slope.replace(",", ""))) == (m.c_statistic, m.calibration_slope)


def test_an_impossible_anticipated_auc_is_refused(li_cohort, capsys):
    with pytest.raises(SystemExit):
        cli.main(["validate", str(li_cohort / "manifest.csv"), "--study", "li2025", "--anticipated-auc", "1.2"])
    assert "an AUC between 0.5 and 1" in capsys.readouterr().err
