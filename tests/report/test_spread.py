"""The seed spread: mean, SD and range over training seeds (checked by hand), and what the appendix shows with and without it."""

import json
import math

import pandas as pd
import pytest

from ecrs_analysis.paths import ResultPaths
from ecrs_analysis.report.format import CI_DASH
from ecrs_analysis.report.spread import SPREAD_COMMAND, seed_spread_view, spread_table, write_seed_spread

NAN = float("nan")


def _summary(rows, extra=True):
    """A headline table as ``evidence_summary`` returns it: indexed (model, set), AUC and Dice among other columns."""
    t = pd.DataFrame(rows, columns=["model", "set", "AUC", "Dice"])
    if extra:  # columns the spread must ignore (another helper may add more)
        t = t.assign(learned=True, **{"CI low": t["AUC"] - 0.1, "CI high": t["AUC"] + 0.1, "share of ceiling": 0.9})
    return t.set_index(["model", "set"])


def test_mean_sd_and_range_over_seeds_match_the_hand_computed_values():
    summaries = {
        0: _summary([("resnet3d", "internal_test", 0.70, NAN), ("mtlnet", "external_test", 0.80, 0.90)]),
        1: _summary([("resnet3d", "internal_test", 0.76, NAN), ("mtlnet", "external_test", 0.84, 0.86)]),
        2: _summary([("resnet3d", "internal_test", 0.79, NAN), ("mtlnet", "external_test", 0.78, 0.88)]),
    }
    t = spread_table(summaries).set_index(["model", "set", "metric"])
    r = t.loc[("resnet3d", "internal_test", "AUC")]
    # by hand: mean (0.70 + 0.76 + 0.79) / 3 = 0.75; deviations -0.05, 0.01, 0.04 -> SD sqrt((0.0025 + 0.0001 + 0.0016) / 2) = sqrt(0.0021)
    assert (r["k"], r["min"], r["max"]) == (3, 0.70, 0.79)
    assert r["mean"] == pytest.approx(0.75) and r["sd"] == pytest.approx(math.sqrt(0.0021))
    assert [r["seed-0"], r["seed-1"], r["seed-2"]] == [0.70, 0.76, 0.79]
    d = t.loc[("mtlnet", "external_test", "Dice")]  # mean 0.88, deviations 0.02, -0.02, 0 -> SD sqrt(0.0008 / 2) = 0.02
    assert d["mean"] == pytest.approx(0.88) and d["sd"] == pytest.approx(0.02) and (d["min"], d["max"]) == (0.86, 0.90)
    assert ("resnet3d", "internal_test", "Dice") not in t.index  # a metric a model does not have gives no row
    assert list(t.columns) == ["k", "mean", "sd", "min", "max", "seed-0", "seed-1", "seed-2"]  # the CI and other columns are not carried


def test_a_row_missing_under_one_seed_counts_the_seeds_it_has():
    """A network that did not learn under a seed has no AUC row in that run's summary: k says so, and one seed has no SD."""
    t = spread_table({0: _summary([("hrnet3d", "ext", 0.6, NAN), ("resnet3d", "ext", 0.7, NAN)]), 3: _summary([("resnet3d", "ext", 0.9, NAN)])})
    t = t.set_index(["model", "set", "metric"])
    assert t.loc[("resnet3d", "ext", "AUC"), "k"] == 2 and t.loc[("resnet3d", "ext", "AUC"), "mean"] == pytest.approx(0.8)
    assert t.loc[("hrnet3d", "ext", "AUC"), "k"] == 1 and math.isnan(t.loc[("hrnet3d", "ext", "AUC"), "sd"])
    assert math.isnan(t.loc[("hrnet3d", "ext", "AUC"), "seed-3"]) and "seed-1" not in t.columns  # columns are the seeds given


def test_tables_without_the_metrics_or_the_keys_are_refused():
    with pytest.raises(ValueError, match="none of the metrics"):
        spread_table({0: _summary([("m", "s", 0.7, 0.8)]).drop(columns=["AUC", "Dice"])})
    with pytest.raises(ValueError, match="training seed 4.*model"):
        spread_table({4: pd.DataFrame({"AUC": [0.7]})})
    with pytest.raises(ValueError, match="no runs"):
        spread_table({})


RECORD = {"profile": "smoke", "seeds": [0, 1, 2], "cpu": "Toy CPU 9000", "cpu_count": 2, "torch": "2.13.0", "cpu_capability": "AVX2",
          "git": {"commit": "abcdef0123456789", "dirty": False}, "params": {"seed": 7, "deep": {"lr": 0.001}}, "command": "ecrs spread --profile smoke --seeds 3"}


def test_the_appendix_says_how_to_make_the_spread_when_there_is_none(tmp_path):
    view = seed_spread_view(ResultPaths(tmp_path), record={"profile": "smoke"})
    assert view.table is None and f"`{SPREAD_COMMAND}`" in view.text and "ecrs spread --profile smoke --seeds 3" in view.text


def test_the_appendix_shows_mean_and_range_over_seeds_beside_the_builds_own_metrics(tmp_path, write_headline_tables):
    write_headline_tables(tmp_path)
    paths = ResultPaths(tmp_path)
    spread = spread_table({k: _summary([("resnet3d", "internal_test", a, NAN), ("mtlnet", "external", m, d)], extra=False)
                           for k, (a, m, d) in enumerate([(0.70, 0.75, 0.80), (0.76, 0.70, 0.82), (0.79, 0.80, 0.78)])})
    write_seed_spread(paths, spread, RECORD)
    view = seed_spread_view(paths, record={"profile": "smoke", "git": {"commit": "abcdef0123456789"}, "params": {"seed": 7, "deep": {"lr": 0.001}, "n_jobs": 2, "profile": "smoke"}})
    shown = view.table.replace(CI_DASH, "–", regex=True)
    row = shown.loc[("3D-ResNet", "internal test")]
    assert row["AUC over 3 training seeds: mean (range)"] == "0.750 (0.700–0.790)" and row["AUC (95% CI), this build"] == "0.770 (0.660–0.880)"
    assert row["AUC SD"] == "0.046"  # sqrt(0.0021), as above
    mt = shown.loc[("mtlnet", "temporal external")]
    assert mt["Dice over seeds: mean (range)"] == "0.800 (0.780–0.820)" and mt["Dice, this build"] == "0.810"
    assert mt["AUC over 3 training seeds: mean (range)"] == "0.750 (0.700–0.800)"
    integrated = shown.loc[("integrated model", "internal test")]  # a row the spread lacks is shown without one
    assert integrated["AUC over 3 training seeds: mean (range)"] == "–" and integrated["Dice, this build"] == ""
    assert "Toy CPU 9000" in view.caption and "abcdef0123" in view.caption and "Note" not in view.caption
    assert view.data.set_index("model").loc["resnet3d", "auc_mean"] == pytest.approx(0.75)


def test_a_spread_of_other_parameters_or_commit_is_flagged_and_an_unfinished_one_is_not_shown(tmp_path, write_headline_tables):
    write_headline_tables(tmp_path)
    paths = ResultPaths(tmp_path)
    write_seed_spread(paths, spread_table({0: _summary([("resnet3d", "internal_test", 0.7, NAN)]), 1: _summary([("resnet3d", "internal_test", 0.8, NAN)])}), RECORD)
    view = seed_spread_view(paths, record={"profile": "smoke", "git": {"commit": "0000000000aaaa"}, "params": {"seed": 8, "deep": {"lr": 0.001}}})
    assert "commit abcdef0123, this build at 0000000000" in view.caption and "other parameters" in view.caption
    paths.seed_spread.write_text(paths.seed_spread.read_text() + "resnet3d,external,AUC,1,0.5,,0.5,0.5,0.5,\n")  # changed after its record was written
    view = seed_spread_view(paths, record={"profile": "smoke"})
    assert view.table is None and "not finished" in view.text
    assert json.loads(paths.seed_spread_record.read_text())["cpu"] == "Toy CPU 9000"
