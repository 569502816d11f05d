"""``ecrs spread``: one workflow run per training seed, on the profile's own cohort and split; its argument errors."""

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from ecrs_analysis.cli import main
from ecrs_analysis.config.params import ParamsError, load_params
from ecrs_analysis.config.seeds import training_seed
from ecrs_analysis.paths import ResultPaths
from ecrs_analysis.pipeline import runner
from ecrs_analysis.pipeline.spread import SHARED_FOLDERS, SpreadOptions, cpu_model, headline_tables, run_spread, share_data
from ecrs_analysis.pipeline.workflow import params_for, seed_spread_inputs


def test_each_seed_runs_the_workflow_into_its_own_folder_on_the_shared_cohort(tmp_path, monkeypatch):
    """Two seeds: training_seed 0 and 1 (different training seeds), the same cohort fingerprint, one cohort folder for both."""
    calls = []
    monkeypatch.setattr(runner, "run_book", lambda opts: calls.append(opts) or {})
    runs = run_spread(SpreadOptions(profile="smoke", seeds=2, overrides={"deep.epochs": 1}, results_dir=tmp_path, progress=False))
    assert [o.overrides for o in calls] == [{"deep.epochs": 1, "training_seed": 0}, {"deep.epochs": 1, "training_seed": 1}]
    assert [o.results_dir for o in calls] == [tmp_path / "spread" / "seed-0", tmp_path / "spread" / "seed-1"] == list(runs.folders.values())
    assert all(not o.build and o.profile == "smoke" for o in calls)
    assert set(calls[0].targets) == {f"file:{p.relative_to(tmp_path).as_posix()}" for p in headline_tables(ResultPaths(tmp_path))}  # the summary's tables only
    params = [load_params("smoke", o.overrides) for o in calls]
    assert params_for(params[0], "cohort", "li2025") == params_for(params[1], "cohort", "li2025")  # same cohort ...
    assert params_for(params[0], "split", "mtlnet2025") == params_for(params[1], "split", "mtlnet2025")  # ... and split
    assert params_for(params[0], "train", "li2025") != params_for(params[1], "train", "li2025")  # training differs
    assert runs.record["training_seeds"] == {"0": params[0]["seed"], "1": training_seed(params[0]["seed"], 1)} and runs.record["seeds"] == [0, 1]
    for name in SHARED_FOLDERS:
        assert {(f / name).resolve() for f in runs.folders.values()} == {(tmp_path / name).resolve()}
        assert not os.path.isabs(os.readlink(runs.folders[1] / name))  # relative: the results folder can move
    assert runs.record["cpu"] == cpu_model() and runs.record["torch"] and "training_seed" not in runs.record["params"]


def test_share_data_keeps_a_folder_of_its_own_and_repairs_a_wrong_link(tmp_path):
    run = tmp_path / "spread" / "seed-1"
    (run / "cache").mkdir(parents=True)
    (run / "cohorts").symlink_to(tmp_path / "elsewhere")
    share_data(run, tmp_path)
    assert not (run / "cache").is_symlink() and (run / "cohorts").resolve() == (tmp_path / "cohorts").resolve()
    share_data(run, tmp_path)  # twice: nothing changes
    assert (run / "cohorts").resolve() == (tmp_path / "cohorts").resolve()


@pytest.mark.parametrize(("opts", "error", "match"), [
    (SpreadOptions(profile="smoke", seeds=1), ValueError, "2 to"),
    (SpreadOptions(profile="smoke", seeds=2, overrides={"training_seed": 3}), ValueError, "training_seed"),
    (SpreadOptions(profile="smoke", seeds=2, overrides={"deep.epochs": 0}), ParamsError, "deep.epochs"),
])
def test_bad_options_stop_before_anything_runs(tmp_path, monkeypatch, opts, error, match):
    monkeypatch.setattr(runner, "run_book", lambda opts: pytest.fail("ran"))
    with pytest.raises(error, match=match):
        run_spread(SpreadOptions(**{**opts.__dict__, "results_dir": tmp_path}))
    assert not any(tmp_path.iterdir())


def test_the_appendix_lists_the_spread_only_when_it_exists(tmp_path):
    paths = ResultPaths(tmp_path)
    assert seed_spread_inputs(paths) == []
    paths.tables.mkdir()
    paths.seed_spread.write_text("model,set,metric,k,mean,sd,min,max\n")
    assert seed_spread_inputs(paths)[:2] == [str(paths.seed_spread), str(paths.seed_spread_record)]
    assert set(seed_spread_inputs(paths)[2:]) == {str(p) for p in headline_tables(paths)}


@pytest.mark.parametrize("seeds", ["1", "0", "three"])
def test_the_cli_refuses_fewer_than_two_seeds(seeds, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["spread", "--profile", "smoke", "--seeds", seeds])
    assert exit_.value.code == 2 and "at least 2" in capsys.readouterr().err


def test_the_cli_refuses_a_training_seed_of_its_own_and_a_wrong_parameter(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "run_book", lambda opts: pytest.fail("ran"))
    assert main(["spread", "--profile", "smoke", "--seeds", "2", "--set", "training_seed=1", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ecrs: error: ") and "training_seed" in err and "leave it out" in err
    assert main(["spread", "--profile", "smoke", "--set", "deep.folds=-1", "--results", str(tmp_path)]) == 2
    assert "deep.folds" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["spread", "--profile", "nonsense"])
    assert "invalid choice" in capsys.readouterr().err


def test_the_cli_writes_the_table_and_its_record(tmp_path, monkeypatch, capsys, write_headline_tables):
    """The whole command with each run's workflow replaced by a finished run's headline tables."""
    import shutil

    write_headline_tables(tmp_path / "template")
    monkeypatch.setattr(runner, "run_book", lambda opts: shutil.copytree(tmp_path / "template" / "tables", Path(opts.results_dir) / "tables") and {})
    assert main(["spread", "--profile", "smoke", "--seeds", "2", "--results", str(tmp_path / "smoke")]) == 0
    paths = ResultPaths(tmp_path / "smoke")
    t = pd.read_csv(paths.seed_spread).set_index(["model", "set", "metric"])
    assert t.loc[("resnet3d", "internal_test", "AUC"), "k"] == 2 and t.loc[("resnet3d", "internal_test", "AUC"), "sd"] == 0  # identical runs
    assert json.loads(paths.seed_spread_record.read_text())["seeds"] == [0, 1]
    assert "seed spread over 2 training seeds" in capsys.readouterr().out
