"""The ``explain`` parameters: every profile's validate, bad values are refused, the explained layer."""

import pytest
from pydantic import ValidationError

from ecrs_analysis.config.params import load_params
from ecrs_analysis.explain.settings import ExplainSettings


def test_settings_of_every_profile_validate_and_bad_values_are_refused():
    for profile in ("smoke", "demo", "full"):
        ExplainSettings.model_validate(load_params(profile)["explain"])
    smoke = load_params("smoke")["explain"]
    settings = lambda **changes: ExplainSettings(**{**smoke, **changes})  # noqa: E731
    with pytest.raises(ValidationError):
        settings(method="lime")
    with pytest.raises(ValidationError):
        settings(n_per_set=2, colour="red")
    with pytest.raises(ValidationError, match="rise strictly"):
        settings(deletion_fractions=[0.2, 0.1])
    with pytest.raises(ValidationError, match="mesh_max_faces"):  # no values of its own: the profile sets each key
        ExplainSettings(**{k: v for k, v in smoke.items() if k != "mesh_max_faces"})
    s = settings(resolution="1/4", target_layers={})
    assert s.layer("resnet3d") == "layer1" and settings(resolution="1/8", target_layers={}).layer("resnet3d") == "layer2"
    assert settings(target_layers={"resnet3d": "layer3"}).layer("resnet3d") == "layer3"
