import shutil
import subprocess
from pathlib import Path

import pytest

from ecrs_analysis.checkout import CheckoutError, checkout_root
from ecrs_analysis.config.params import PROFILES, ParamsError, apply_overrides, load_params, params_dir, parse_set
from ecrs_analysis.pipeline.record import git_state
from ecrs_analysis.data.synth.cohort import DESIGNS
from ecrs_analysis.models.registry import MODEL_NAMES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_loads(profile):
    p = load_params(profile)
    assert p["profile"] == profile and set(p["studies"]) == set(DESIGNS)
    assert set(p["deep"]["models"]) <= set(MODEL_NAMES)


def test_profiles_scale_as_documented():
    smoke, demo, full = (load_params(p) for p in PROFILES)
    assert smoke["studies"]["li2025"]["synthetic"]["n_patients"] < demo["studies"]["li2025"]["synthetic"]["n_patients"]
    assert demo["studies"]["li2025"]["synthetic"]["n_patients"] == full["studies"]["li2025"]["synthetic"]["n_patients"] == 1098
    assert demo["studies"]["mtlnet2025"]["synthetic"]["n_patients"] == 257


def test_loaded_parameters_are_plain_yaml_types():
    p = load_params("smoke")
    assert p["studies"]["mtlnet2025"]["split"]["cutoff"] == "2024-05-01"  # a string, as the YAML wrote it
    assert isinstance(p["studies"]["li2025"]["preprocess"]["input_size"], list)


def test_set_overrides_with_yaml_values():
    o = parse_set(["seed=7", "studies.li2025.split.internal_fraction=0.25", "studies.li2025.centers=[x, y]", "studies.li2025.split.train_centers=[x]", "deep.lr=1e-4"])
    p = load_params("smoke", o)
    assert p["seed"] == 7 and p["studies"]["li2025"]["split"]["internal_fraction"] == 0.25
    assert p["studies"]["li2025"]["centers"] == ["x", "y"]
    assert p["deep"]["lr"] == 1e-4  # YAML 1.1 would read 1e-4 as the string '1e-4'


def test_random_split_for_li2025_uses_its_internal_fraction():
    p = load_params("smoke", {"studies.li2025.split.mode": "random"})
    assert p["studies"]["li2025"]["split"]["mode"] == "random" and p["studies"]["li2025"]["split"]["internal_fraction"] == 0.3


# One wrong value each: (override, the one line the user must see, as fragments in order).
BAD = [
    ({"deep.models": ["vgg"]}, ["deep.models[0]", "'vgg'", "resnet3d, "]),
    ({"deep.models": []}, ["deep.models", "at least 1"]),
    ({"deep.models": ["resnet3d", "resnet3d"]}, ["deep.models", "'resnet3d' is listed twice"]),
    ({"deep.batch_size": -3}, ["deep.batch_size", ">= 1", "-3"]),
    ({"deep.lr": "fast"}, ["deep.lr", "a number", "'fast'"]),
    ({"deep.lr": 0}, ["deep.lr", "> 0", "got 0"]),
    ({"deep.epochs": 3.5}, ["deep.epochs", "an integer", "3.5"]),
    ({"deep.svm_folds": 1}, ["deep.svm_folds", ">= 2", "got 1"]),
    ({"seed": True}, ["seed", "an integer", "true"]),
    ({"studies.li2025.preprocess.crop_to": "nope"}, ["studies.li2025.preprocess.crop_to", "'nope'", "['roi_mask']"]),
    ({"stats.threshold_rule": "sensitivity"}, ["stats.threshold_target", "sensitivity", "(0, 1)", "null"]),
    ({"stats.threshold_rule": "specificity", "stats.threshold_target": 1.5}, ["stats.threshold_target", "< 1", "1.5"]),
    ({"stats.threshold_rule": "best"}, ["stats.threshold_rule", "'youden', 'sensitivity' or 'specificity'", "'best'"]),
    ({"studies.li2025.split.mode": "random", "studies.li2025.split.internal_fraction": None}, ["studies.li2025.split.mode", "internal_fraction", "validation_fraction", "neither"]),
    ({"studies.li2025.split.mode": "temporal"}, ["studies.li2025.split.mode", "'center' or 'random'", "'temporal'"]),
    ({"studies.mtlnet2025.split.mode": "center"}, ["studies.mtlnet2025.split.mode", "'temporal' or 'random'", "'center'"]),
    ({"studies.mtlnet2025.split.cutoff": None}, ["studies.mtlnet2025.split.cutoff", "needs cutoff"]),
    ({"studies.mtlnet2025.split.cutoff": "2024-13-01"}, ["studies.mtlnet2025.split.cutoff", "a date", "'2024-13-01'"]),
    ({"studies.li2025.split.train_centers": ["hospital_Z"]}, ["studies.li2025.split.train_centers", "hospital_Z", "not among"]),
    ({"studies.li2025.split.train_centers": ["hospital_A", "hospital_B"]}, ["studies.li2025.split.train_centers", "external test"]),
    ({"studies.li2025.split.internal_fraction": 1.5}, ["studies.li2025.split.internal_fraction", "< 1", "1.5"]),
    ({"studies.li2025.manifest": "/no/such/manifest.csv"}, ["studies.li2025.manifest", "/no/such/manifest.csv", "not found"]),
    ({"studies.li2025.preprocess.hu_window": [1000, -1000]}, ["studies.li2025.preprocess.hu_window", "low < high"]),
    ({"studies.li2025.preprocess.spacing_mm": [1.0, 1.0]}, ["studies.li2025.preprocess.spacing_mm", "at least 3", "[1.0, 1.0]"]),
    ({"studies.li2025.nope": 1}, ["unknown parameter 'studies.li2025.nope'", "allowed here: manifest, dictionary, split_file, centers"]),
    ({"studies.other.manifest": "m.csv"}, ["unknown parameter 'studies.other'", "li2025, mtlnet2025"]),
    ({"studies.mtlnet2025": None}, ["studies.mtlnet2025", "a section", "null"]),
]


def _problem_lines(exc: ParamsError) -> list[str]:
    return [ln[4:] for ln in str(exc).splitlines() if ln.startswith("  - ")]


@pytest.mark.parametrize(("override", "fragments"), BAD, ids=[next(iter(o)) for o, _ in BAD])
def test_each_wrong_value_is_one_line_naming_key_value_and_what_is_allowed(override, fragments):
    with pytest.raises(ParamsError) as e:
        load_params("smoke", override)
    lines = _problem_lines(e.value)
    assert len(lines) == 1, str(e.value)
    pos = 0
    for frag in fragments:
        pos = lines[0].find(frag, pos)
        assert pos >= 0, f"{frag!r} not in order in: {lines[0]}"
    assert "pydantic" not in str(e.value) and "http" not in str(e.value)


def test_all_problems_are_reported_together():
    examples = parse_set([
        "deep.models=[vgg]", "deep.batch_size=-3", "deep.lr=fast", "studies.li2025.preprocess.crop_to=nope", "deep.svm_folds=1",
        "stats.threshold_rule=sensitivity", "studies.mtlnet2025.split.mode=random", "studies.mtlnet2025.split.validation_fraction=null",
    ])
    with pytest.raises(ParamsError) as e:
        load_params("smoke", examples)
    keys = sorted(ln.split(":")[0] for ln in _problem_lines(e.value))
    assert keys == sorted(["deep.models[0]", "deep.batch_size", "deep.lr", "studies.li2025.preprocess.crop_to", "deep.svm_folds", "stats.threshold_target", "studies.mtlnet2025.split.mode"])
    assert str(e.value).startswith("7 problem(s) in ")


def test_unknown_profile_and_malformed_set():
    with pytest.raises(ParamsError, match="unknown profile"):
        load_params("huge")
    with pytest.raises(ParamsError, match="key=value"):
        parse_set(["seed"])
    with pytest.raises(ParamsError, match="not a section"):
        load_params("smoke", {"seed.x": 1})


def test_a_broken_profile_file_is_named(tmp_path, monkeypatch):
    (tmp_path / "smoke.yaml").write_text("seed: [1\n")
    monkeypatch.setenv("ECRS_PARAMS_DIR", str(tmp_path))
    with pytest.raises(ParamsError, match="smoke.yaml is not valid YAML"):
        load_params("smoke")
    text = (ROOT / "params" / "smoke.yaml").read_text(encoding="utf-8").replace("n_jobs: 2\n", "")
    (tmp_path / "smoke.yaml").write_text(text)
    with pytest.raises(ParamsError, match="n_jobs: missing"):
        load_params("smoke")


def test_overrides_do_not_touch_the_input():
    base = {"a": {"b": 1}}
    assert apply_overrides(base, {"a.b": 2, "a.c.d": 3}) == {"a": {"b": 2, "c": {"d": 3}}} and base == {"a": {"b": 1}}


def _checkout(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "_config.yml").write_text("title: t\n")
    shutil.copytree(ROOT / "params", folder / "params")
    return folder


def test_params_come_from_the_checkout_of_the_current_folder(tmp_path, monkeypatch):
    # Another checkout, with the package installed from elsewhere: its own params/ must be used.
    other = _checkout(tmp_path / "other")
    text = (other / "params" / "smoke.yaml").read_text(encoding="utf-8")
    (other / "params" / "smoke.yaml").write_text(text.replace("seed: 20250317", "seed: 4242"))
    (other / "notebooks").mkdir()
    monkeypatch.delenv("ECRS_PARAMS_DIR", raising=False)
    monkeypatch.chdir(other / "notebooks")
    assert checkout_root() == other.resolve() and params_dir() == other.resolve() / "params"
    assert load_params("smoke")["seed"] == 4242
    monkeypatch.setenv("ECRS_PARAMS_DIR", str(ROOT / "params"))
    assert load_params("smoke")["seed"] == 20250317


def test_outside_a_checkout_the_error_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("ECRS_PARAMS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckoutError, match="cd into the checkout"):
        checkout_root()
    with pytest.raises(ParamsError, match="ECRS_PARAMS_DIR"):
        load_params("smoke")


def test_run_record_commit_is_the_current_checkouts(tmp_path, monkeypatch):
    repo = _checkout(tmp_path / "repo")
    git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], capture_output=True, text=True, check=True).stdout.strip()  # noqa: E731
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "x")
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    assert git_state() == {"commit": git("rev-parse", "HEAD"), "dirty": False}
