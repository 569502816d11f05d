"""Chapter 05 says whether MTLNet's Dice reaches the target, from the segmentation table's numbers."""

import pandas as pd
import pytest

from ecrs_analysis.report.mtlnet_chapter import DICE_TARGET, dice_against_target


def _seg(*dice):
    rows = [{"set": s, "metric": "dice", "statistic": "mean", "value": v, "CI low": v - 0.005, "CI high": v + 0.005} for s, v in zip(("train", "validation", "external"), dice)]
    rows.append({"set": "train", "metric": "hd95", "statistic": "median", "value": 6.0, "CI low": 5.0, "CI high": 7.0})
    return pd.DataFrame(rows).set_index("set")


GRID = dict(spacing_mm=[2.0, 2.0, 2.0], input_size=[48, 48, 32], deep_supervision=False)


def test_a_dice_below_the_target_on_every_set_is_called_missed_with_the_reason():
    text = dice_against_target(_seg(0.813, 0.8126, 0.8134), **GRID)
    assert f"Target Dice {DICE_TARGET:.2f}" in text and "**missed** on every set" in text
    assert "train 0.813 (0.808–0.818)" in text and "2 × 2 × 2 mm" in text and "not overfitting" in text


def test_reached_partly_missed_and_undecided_are_told_apart():
    assert "reached on every set" in dice_against_target(_seg(0.9, 0.9, 0.9), **GRID)
    partly = dice_against_target(_seg(0.9, 0.8, 0.9), **GRID)
    assert "**missed** on validation" in partly and "not overfitting" not in partly
    assert "not shown to be reached on train" in dice_against_target(_seg(DICE_TARGET, 0.9, 0.9), **GRID)


def test_a_table_without_dice_is_a_clear_error():
    with pytest.raises(ValueError, match="no `dice` rows"):
        dice_against_target(_seg()[lambda t: t["metric"] != "dice"], **GRID)
