"""`ecrs train` and `ecrs synth`: what each command asks of the workflow or the generator, and what it prints."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import SimpleITK as sitk

from ecrs_analysis import cli
from ecrs_analysis.pipeline import runner

PARAMS = Path(__file__).resolve().parents[1] / "params"


@pytest.fixture
def calls(monkeypatch):
    """``run_book`` replaced by a recorder: the command's request to the workflow, without running it."""
    seen: list[runner.RunOptions] = []

    def record(opts: runner.RunOptions) -> dict:
        seen.append(opts)
        return {"plan": {}, "run": None}

    monkeypatch.setattr(runner, "run_book", record)
    monkeypatch.setenv("ECRS_PARAMS_DIR", str(PARAMS))
    return seen


def _printed_path(out: str) -> Path:
    line = [ln for ln in out.splitlines() if ln.startswith("[ecrs] trained ")]
    assert len(line) == 1, out
    return Path(line[0].split(": ", 1)[1])


def test_train_asks_for_one_fold_scores_file_and_prints_the_results_folder_given(calls, capsys, tmp_path):
    given = tmp_path / "elsewhere"
    argv = ["train", "--profile", "smoke", "--model", "hrnet3d", "--fold", "2", "--set", "deep.epochs=1", "--set", "deep.width=0.25", "--results", str(given)]
    assert cli.main(argv) == 0
    (opts,) = calls
    assert opts.profile == "smoke" and opts.build is False  # one job and what it needs: no book
    assert opts.targets == ("file:li2025/deep/hrnet3d/fold2/scores.csv",)
    assert opts.overrides == {"deep.epochs": 1, "deep.width": 0.25}
    assert Path(opts.results_dir) == given
    printed = _printed_path(capsys.readouterr().out)
    assert printed == given / "li2025" / "deep" / "hrnet3d" / "fold2" / "scores.csv"  # not results/smoke/...


def test_train_without_results_prints_the_profiles_default_folder(calls, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ECRS_RESULTS", str(tmp_path / "base"))
    assert cli.main(["train", "--profile", "smoke", "--model", "resnet3d", "--fold", "0"]) == 0
    (opts,) = calls
    # the runner resolves the same folder from the options as the command prints
    assert Path(opts.results_dir or tmp_path / "base" / "smoke") == tmp_path / "base" / "smoke"
    assert _printed_path(capsys.readouterr().out) == tmp_path / "base" / "smoke" / "li2025" / "deep" / "resnet3d" / "fold0" / "scores.csv"


def test_train_refuses_a_study_without_per_fold_jobs_before_running_anything(calls):
    with pytest.raises(SystemExit, match="li2025 only \\(got mtlnet2025\\)"):
        cli.main(["train", "--study", "mtlnet2025", "--model", "mtlnet", "--fold", "0"])
    assert calls == []


@pytest.mark.parametrize("argv", [["train", "--model", "resnet3d"], ["train", "--fold", "1"], ["train", "--model", "resnet3d", "--fold", "one"]])
def test_train_argument_errors_exit_2_without_running(calls, argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2 and calls == []
    assert "ecrs train" in capsys.readouterr().err


def test_a_failed_training_run_prints_one_error_line_and_exits_2(monkeypatch, capsys):
    def fail(opts):
        raise runner.RunError("job train-li2025-resnet3d-fold0 failed")

    monkeypatch.setattr(runner, "run_book", fail)
    monkeypatch.setenv("ECRS_PARAMS_DIR", str(PARAMS))
    assert cli.main(["train", "--profile", "smoke", "--model", "resnet3d", "--fold", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == "ecrs: error: job train-li2025-resnet3d-fold0 failed" and "trained" not in captured.out


@pytest.fixture
def generated(monkeypatch):
    """The cohort generator replaced by a recorder that writes only a manifest (the real one fits the image
    ceiling first: 10-40 s on 2 cores; :func:`test_synth_writes_a_real_cohort` runs it, in the slow suite)."""
    from ecrs_analysis.data.synth import cohort

    seen: list[dict] = []

    def record(out_dir, **kwargs):
        seen.append({"out_dir": Path(out_dir), **kwargs})
        Path(out_dir).mkdir(parents=True)
        (Path(out_dir) / "manifest.csv").write_text("patient_id\n")
        return Path(out_dir)

    monkeypatch.setattr(cohort, "generate_cohort", record)
    return seen


def test_synth_passes_every_option_to_the_generator_and_prints_the_manifest(generated, tmp_path, capsys):
    out = tmp_path / "cohort"
    assert cli.main(["synth", "--design", "mtlnet2025", "--out", str(out), "--n", "9", "--seed", "5", "--spacing-scale", "2.5", "--jobs", "1"]) == 0
    assert generated == [{"out_dir": out, "design": "mtlnet2025", "seed": 5, "n_patients": 9, "spacing_scale": 2.5, "n_jobs": 1}]
    assert re.fullmatch(rf"wrote {re.escape(str(out))}/manifest.csv in \d+\.\d s\n", capsys.readouterr().out)


def test_synth_defaults_are_the_designs_size_the_books_seed_and_native_spacing(generated, tmp_path):
    assert cli.main(["synth", "--design", "li2025", "--out", str(tmp_path / "c")]) == 0
    (call,) = generated
    assert call["n_patients"] is None and call["seed"] == 20250317 and call["spacing_scale"] == 1.0 and call["n_jobs"] is None


@pytest.mark.slow
def test_synth_writes_a_real_cohort(tmp_path, capsys):
    out = tmp_path / "cohort"
    assert cli.main(["synth", "--design", "li2025", "--out", str(out), "--n", "9", "--seed", "5", "--spacing-scale", "12", "--jobs", "1"]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}/manifest.csv in ")
    manifest = pd.read_csv(out / "manifest.csv")
    assert len(manifest) == 9 and manifest["patient_id"].is_unique
    assert set(manifest["center"]) <= {"hospital_A", "hospital_B"} and set(manifest["label"]) <= {0, 1}
    for column in ("image", "sinus_mask", "roi_mask"):
        assert all((out / f).is_file() for f in manifest[column]), column
    assert min(sitk.ReadImage(str(out / manifest["image"].iloc[0])).GetSpacing()) > 2.0  # 12 x the scanner's spacing


def test_synth_refuses_an_unknown_design(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["synth", "--design", "smith2030", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2 and "invalid choice: 'smith2030'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
