"""Each stage reads only the parameters its rule declared (book.workflow.STAGE_PARAMS), and nothing has a default of its own."""

import json

import pytest

from ecrs_analysis.config.params import load_params
from ecrs_analysis.pipeline.workflow import STAGE_PARAMS, params_for


def test_the_training_job_builds_its_spec_from_its_declared_parameters_only():
    from ecrs_analysis.training.folds import DeepSpec

    params = load_params("demo")
    cfg = json.loads(params_for(params, "train", "li2025"))
    spec = DeepSpec.from_dict({**cfg["deep"], "models": ("resnet3d",)})
    assert (spec.width, spec.folds, spec.epochs, spec.patience) == tuple(params["deep"][k] for k in ("width", "folds", "epochs", "patience"))
    undeclared = {k: v for k, v in cfg["deep"].items() if k != "patience"} | {"models": ["resnet3d"]}
    with pytest.raises(KeyError, match=r"deep\.patience not among the parameters handed to this job"):
        DeepSpec.from_dict(undeclared)


def test_preprocessing_takes_every_value_from_the_schema():
    from ecrs_analysis.data.preprocess import PreprocessParams

    params = load_params("smoke")
    cfg = json.loads(params_for(params, "preprocess", "li2025"))["studies"]["li2025"]["preprocess"]
    assert PreprocessParams.from_dict(cfg).crop_to == params["studies"]["li2025"]["preprocess"]["crop_to"]
    with pytest.raises(KeyError, match="crop_to"):
        PreprocessParams.from_dict({k: v for k, v in cfg.items() if k != "crop_to"})
    with pytest.raises(TypeError):
        PreprocessParams(spacing_mm=(1, 1, 1))  # no values of its own


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
