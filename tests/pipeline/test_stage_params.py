"""Each job receives exactly the parameters its rule declared, as the schema's models, and its fingerprint comes from them.

The jobs here are the workflow's own: the stages of ``STAGE_PARAMS`` and the explanation jobs
(``job_keys``), and the chapters of ``workflow/chapters.yaml``; the fingerprint is the rules'
``params_for`` / ``params_json``, not a re-implementation of it.
"""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from ecrs_analysis.config.declared import declared, parse_declared
from ecrs_analysis.config.params import load_params
from ecrs_analysis.data.settings import PreprocessSettings, SplitSettings
from ecrs_analysis.stats.settings import StatsSettings
from ecrs_analysis.explain.settings import ExplainSettings
from ecrs_analysis.pipeline.workflow import STAGE_PARAMS, job_keys, job_params, load_chapters, params_for, params_json
from ecrs_analysis.training.mtl_settings import MTLNetSettings

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ("li2025", "mtlnet2025")
STAGES = (*STAGE_PARAMS, "explain", "explain_summaries")


def _fingerprints(params):
    """The parameter fingerprint of every job kind of the workflow: (stage, study) and (chapter, name)."""
    out = {(stage, s): params_for(params, stage, s) for stage in STAGES for s in STUDIES}
    chapters, _ = load_chapters(ROOT / "workflow" / "chapters.yaml")
    out.update({("chapter", c.name): params_json(params, c.params) for c in chapters})
    return out


def _changed(overrides):
    before, after = _fingerprints(load_params("smoke")), _fingerprints(load_params("smoke", overrides))
    return {job for job in before if before[job] != after[job]}


def _chapters_declaring(section):
    chapters, _ = load_chapters(ROOT / "workflow" / "chapters.yaml")
    return {("chapter", c.name) for c in chapters if section in c.params}


def test_the_training_job_gets_the_schemas_types_and_only_its_keys():
    params = load_params("demo")
    cfg = job_params(params_for(params, "train", "li2025"), "train", "li2025")
    assert (cfg.deep.width, cfg.deep.folds, cfg.deep.epochs, cfg.deep.patience) == tuple(params["deep"][k] for k in ("width", "folds", "epochs", "patience"))
    assert isinstance(cfg.deep.lr, float) and isinstance(cfg.seed, int)
    with pytest.raises(AttributeError, match="models"):
        cfg.deep.models  # noqa: B018 - adding a network must not re-train the others: the job never sees the list
    with pytest.raises(AttributeError, match="stats"):
        cfg.stats  # noqa: B018
    with pytest.raises(ValidationError, match=r"deep\.patience"):  # a rule that hands over less than the stage declares
        job_params(json.dumps({"seed": 1, "deep": {k: v for k, v in json.loads(params_for(params, "train", "li2025"))["deep"].items() if k != "patience"}}), "train", "li2025")


def test_whole_sections_are_the_schemas_own_models():
    params = load_params("smoke")
    pre = job_params(params_for(params, "preprocess", "li2025"), "preprocess", "li2025").studies.li2025
    assert isinstance(pre.preprocess, PreprocessSettings) and pre.preprocess.crop_to == params["studies"]["li2025"]["preprocess"]["crop_to"]
    assert isinstance(job_params(params_for(params, "split", "mtlnet2025"), "split", "mtlnet2025").studies.mtlnet2025.split, SplitSettings)
    assert isinstance(job_params(params_for(params, "mtlnet", "mtlnet2025"), "mtlnet", "mtlnet2025").mtlnet, MTLNetSettings)
    explain = job_params(params_for(params, "explain", "li2025"), "explain", "li2025")
    assert isinstance(explain.explain, ExplainSettings) and isinstance(explain.stats, StatsSettings)
    assert explain.explain.layer("resnet3d")  # the schema's methods come with its models
    with pytest.raises(ValidationError, match="crop_to"):
        PreprocessSettings.model_validate({k: v for k, v in params["studies"]["li2025"]["preprocess"].items() if k != "crop_to"})  # no values of its own


@pytest.mark.parametrize("stage", STAGES)
def test_a_job_holds_its_declared_sections_and_nothing_else(stage):
    params = load_params("smoke")
    for s in STUDIES:
        cfg = job_params(params_for(params, stage, s), stage, s)
        declared_top = {k.split(".")[0] for k in job_keys(stage, s)}
        assert set(type(cfg).model_fields) == declared_top
        for section in {"seed", "n_jobs", "stats", "deep", "studies", "omics", "explain", "mtlnet"} - declared_top:
            with pytest.raises(AttributeError):
                getattr(cfg, section)
        assert parse_declared(params_for(params, stage, s), job_keys(stage, s)).model_dump(mode="json") == json.loads(params_for(params, stage, s))


def test_a_stage_function_reading_an_undeclared_key_fails(tmp_path):
    from ecrs_analysis.data.study import ResultPaths, prepare_split

    params = load_params("smoke")
    cohort_job = declared(params, job_keys("cohort", "li2025"))
    with pytest.raises(AttributeError, match="split_file"):  # the split stage's key, not the cohort stage's
        prepare_split(cohort_job.studies.li2025, "li2025", None, ResultPaths(tmp_path), seed=cohort_job.seed)
    assert not any(tmp_path.iterdir())


def test_changing_a_declared_key_changes_exactly_the_jobs_that_declare_it():
    both = lambda stage: {(stage, s) for s in STUDIES}  # noqa: E731 - a stage without {s} in its keys is the same job for either study
    assert _changed({"deep.lr": 0.002}) == both("train") | {("explain", "li2025")} | _chapters_declaring("deep")
    assert _changed({"studies.li2025.preprocess.margin_mm": 7.0}) == {("preprocess", "li2025"), ("explain", "li2025"), ("explain_summaries", "li2025")} | both("explain_views") | {
        ("chapter", "01_cohort"), ("chapter", "06_explanation"), ("chapter", "98_checklist"), ("chapter", "97_claim")}
    assert _changed({"omics.fdr": 0.1}) == both("proteomics") | both("claims-07_proteomics") | _chapters_declaring("omics")
    assert _changed({"mtlnet.lr": 0.01}) == both("mtlnet") | {("explain", "mtlnet2025")} | _chapters_declaring("mtlnet")
    assert _changed({"stats.roc_band_resamples": 50}) == ({("explain", s) for s in STUDIES} | both("clinical_exhibits") | both("integrated_roc") | both("mtlnet_roc")
                                                          | _chapters_declaring("stats"))  # the ROC bands of chapters 02, 04 and 05 are jobs


def test_the_training_seed_moves_the_training_jobs_and_leaves_the_data_alone():
    """``training_seed`` (the offset ``ecrs spread`` varies) re-runs the training jobs only: the cohort, split and
    preprocessing jobs keep their fingerprints (same cohort, same split), and so do the chapters (they re-run on new inputs)."""
    both = lambda stage: {(stage, s) for s in STUDIES}  # noqa: E731
    assert _changed({"training_seed": 1}) == both("folds") | both("train") | both("mtlnet") | both("integrated")
    params = load_params("smoke")
    for offset in (0, 1):  # the training jobs receive the offset; the data jobs never see it
        cfg = job_params(params_for(load_params("smoke", {"training_seed": offset}), "train", "li2025"), "train", "li2025")
        assert (cfg.seed, cfg.training_seed) == (params["seed"], offset)
        with pytest.raises(AttributeError, match="training_seed"):
            job_params(params_for(params, "cohort", "li2025"), "cohort", "li2025").training_seed  # noqa: B018


def test_the_default_training_seed_leaves_every_training_job_with_the_seed_it_had():
    """Offset 0 hands every training job the profile's ``seed`` itself: the book's numbers do not move."""
    from ecrs_analysis.config.seeds import training_seed

    for profile in ("smoke", "demo", "full"):
        params = load_params(profile)
        assert params["training_seed"] == 0
        assert training_seed(params["seed"], params["training_seed"]) == params["seed"]


def test_an_undeclared_key_changes_no_job():
    assert _changed({"n_jobs": 1}) == set()


@pytest.mark.parametrize("stage", sorted(STAGE_PARAMS))
def test_every_declared_parameter_exists_in_every_profile(stage):
    for profile in ("smoke", "demo", "full"):
        params = load_params(profile)
        cfg = json.loads(params_for(params, stage, "li2025"))
        for key in STAGE_PARAMS[stage]:
            node = cfg
            for part in key.format(s="li2025").split("."):
                assert part in node, f"{stage}: {key} is not in params/{profile}.yaml"
                node = node[part]
