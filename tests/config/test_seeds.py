"""The training seed: offset 0 is the profile's seed; other offsets move the training jobs' seeds and never the data's."""

import pytest

from ecrs_analysis.config.params import ParamsError, load_params
from ecrs_analysis.config.seeds import MAX_TRAINING_SEED, TRAINING_SEED_STRIDE, training_seed
from ecrs_analysis.training.fold_assignment import fold_seed


def test_offset_zero_is_the_seed_itself_and_other_offsets_differ():
    assert training_seed(20250317, 0) == 20250317
    assert training_seed(20250317, 1) == 21250317  # by hand: 20250317 + 1 * 1_000_000
    assert len({training_seed(7, k) for k in range(5)}) == 5


def test_no_fold_job_of_one_offset_trains_with_the_seed_of_a_job_of_another_offset():
    models = ("resnet3d", "xception3d", "hrnet3d", "resnet3d34", "resnet3d10")
    seeds = [fold_seed(training_seed(20250317, k), m, f) for k in range(4) for m in models for f in range(10)]
    assert len(seeds) == len(set(seeds))
    assert max(fold_seed(0, m, 9) for m in models) < TRAINING_SEED_STRIDE


@pytest.mark.parametrize("offset", [-1, MAX_TRAINING_SEED + 1])
def test_an_offset_out_of_range_is_refused_by_the_function_and_by_the_schema(offset):
    with pytest.raises(ValueError, match="training_seed"):
        training_seed(1, offset)
    with pytest.raises(ParamsError, match="training_seed"):
        load_params("smoke", {"training_seed": offset})


def test_the_largest_offset_keeps_the_profiles_seeds_below_numpys_limit():
    for profile in ("smoke", "demo", "full"):
        assert fold_seed(training_seed(load_params(profile)["seed"], MAX_TRAINING_SEED), "hrnet3d", 9) < 2**32
