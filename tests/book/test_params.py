import pytest

from ecrs_analysis.book.params import PROFILES, ParamsError, apply_overrides, load_params, parse_set


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_loads(profile):
    p = load_params(profile)
    assert p["profile"] == profile and set(p["studies"]) == {"li2025", "mtlnet2025"}


def test_profiles_scale_as_documented():
    smoke, demo, full = (load_params(p) for p in PROFILES)
    assert smoke["studies"]["li2025"]["synthetic"]["n_patients"] < demo["studies"]["li2025"]["synthetic"]["n_patients"]
    assert demo["studies"]["li2025"]["synthetic"]["n_patients"] == full["studies"]["li2025"]["synthetic"]["n_patients"] == 1098
    assert demo["studies"]["mtlnet2025"]["synthetic"]["n_patients"] == 257


def test_set_overrides_with_yaml_values():
    o = parse_set(["seed=7", "studies.li2025.split.internal_fraction=0.25", "studies.li2025.centers=[x, y]"])
    p = load_params("smoke", o)
    assert p["seed"] == 7 and p["studies"]["li2025"]["split"]["internal_fraction"] == 0.25
    assert p["studies"]["li2025"]["centers"] == ["x", "y"]


def test_unknown_or_invalid_parameters_are_named():
    with pytest.raises(ParamsError, match="unknown parameter 'studies.li2025.nope'"):
        load_params("smoke", {"studies.li2025.nope": 1})
    with pytest.raises(ParamsError, match="internal_fraction"):
        load_params("smoke", {"studies.li2025.split.internal_fraction": 1.5})
    with pytest.raises(ParamsError, match="manifest"):
        load_params("smoke", {"studies.li2025.manifest": "/no/such/manifest.csv"})
    with pytest.raises(ParamsError, match="unknown profile"):
        load_params("huge")
    with pytest.raises(ParamsError, match="key=value"):
        parse_set(["seed"])


def test_overrides_do_not_touch_the_input():
    base = {"a": {"b": 1}}
    assert apply_overrides(base, {"a.b": 2}) == {"a": {"b": 2}} and base == {"a": {"b": 1}}
