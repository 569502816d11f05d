"""Chapter 05's sentences come from its tables: the Dice against the target and the grid's bound, the kept epoch, the ceiling."""

import pandas as pd
import pytest

from ecrs_analysis.report.mtlnet_chapter import (
    DICE_TARGET, IN_SAMPLE, calibration_text, ceiling_text, crop_coverage_text, dice_against_target, in_sample, kept_epoch_text,
)

SETS = ("train", "validation", "external")


def _seg(*dice):
    rows = [{"set": s, "metric": "dice", "statistic": "mean", "value": v, "CI low": v - 0.005, "CI high": v + 0.005} for s, v in zip(SETS, dice)]
    rows.append({"set": "train", "metric": "hd95", "statistic": "median", "value": 6.0, "CI low": 5.0, "CI high": 7.0})
    return pd.DataFrame(rows).set_index("set")


def _grid(bound, model=0.9):
    rows = [{"set": s, "measure": m, "mean": v, "CI low": v - 0.01, "CI high": v + 0.01} for s in SETS
            for m, v in (("model grid Dice", model), ("native Dice", 0.7), ("grid upper bound Dice", bound))]
    return pd.DataFrame(rows).set_index(["set", "measure"])


GRID = dict(spacing_mm=[2.0, 2.0, 2.0], input_size=[48, 48, 32], deep_supervision=False)


def test_a_miss_under_a_low_grid_bound_is_blamed_on_the_grid_with_its_numbers():
    text = dice_against_target(_seg(0.713, 0.7126, 0.7134), _grid(0.78), **GRID)
    assert f"Target Dice {DICE_TARGET:.2f}" in text and "**missed** on every set" in text
    assert "train 0.713 (0.708–0.718)" in text and "2 × 2 × 2 mm" in text
    assert "train 0.780 (0.770–0.790)" in text and "the grid limits the Dice" in text
    assert "train 0.067" in text  # bound minus native Dice, computed from the two tables
    assert "train 0.900" in text  # the resized-grid Dice, reported beside


def test_a_miss_above_the_grid_bound_is_not_blamed_on_the_grid():
    text = dice_against_target(_seg(0.7, 0.7, 0.7), _grid(0.95), **GRID)
    assert "the grid limits" not in text and "does not explain the miss" in text


def test_reached_partly_missed_and_undecided_are_told_apart():
    assert "reached on every set" in dice_against_target(_seg(0.9, 0.9, 0.9), _grid(0.95), **GRID)
    partly = dice_against_target(_seg(0.9, 0.8, 0.9), _grid(0.95), **GRID)
    assert "**missed** on validation" in partly and "no sign of overfitting" not in partly
    assert "not shown to be reached on train" in dice_against_target(_seg(DICE_TARGET, 0.9, 0.9), _grid(0.95), **GRID)


def test_a_table_without_dice_is_a_clear_error():
    with pytest.raises(ValueError, match="no `dice` rows"):
        dice_against_target(_seg()[lambda t: t["metric"] != "dice"], _grid(0.9), **GRID)


def test_training_rows_are_labelled_in_sample_in_flat_and_multi_indexed_tables():
    assert in_sample(_seg(0.8, 0.8, 0.8), train_set="train").index[0] == IN_SAMPLE
    relabelled = in_sample(_grid(0.8), train_set="train")
    assert IN_SAMPLE in relabelled.index.get_level_values("set") and "train" not in relabelled.index.get_level_values("set")


def test_the_kept_epoch_and_the_epoch_the_whole_loss_would_keep():
    history = pd.DataFrame({"val_loss": [1.0, 0.8, 0.6, 0.5], "val_cls_loss": [0.7, 0.5, 0.6, 0.65]})
    text = kept_epoch_text({"monitor": "val_cls_loss", "best_epoch": 2}, history, max_epochs=6)
    assert "**Kept epoch: 2** of 4 run (at most 6)" in text and "classification loss" in text and "would have kept epoch 4" in text


def test_the_ceiling_is_a_difference_in_the_right_direction_never_a_bound():
    idx = pd.MultiIndex.from_tuples([("external", "AUC"), ("external", "Dice")], names=["set", "metric"])
    comp = pd.DataFrame({"reproduced": [0.88, 0.7], "95% CI": ["0.78–0.97", "0.69–0.71"], "reported": [0.818, 0.898], "image ceiling": [0.861, None]}, index=idx)
    text = ceiling_text(comp, set_name="external", learned=True)
    assert "lies 0.019 above it" in text and "not a bound" in text
    assert "cannot exceed" not in text and "best any model" not in text


def test_coverage_and_calibration_sentences_quote_their_tables():
    cov = pd.DataFrame({"patients": [10, 3], "mean share inside": [0.998, 0.99], "lowest share inside": [0.95, 0.98], "patients below 0.99": [1, 1]},
                       index=pd.Index(["train", "external"], name="set"))
    text = crop_coverage_text(cov, train_set="train")
    assert f"{IN_SAMPLE}: mean 99.8%, lowest 95.0%, 1 of 10 below 99%" in text and "only partly for 1 patient" in text
    cal = pd.DataFrame({"Brier": [0.2], "calibration intercept": [0.1], "calibration slope": [0.6]}, index=pd.Index(["external"], name="set"))
    assert "external: Brier 0.200, intercept +0.10, slope 0.60 (predictions too extreme)" in calibration_text(cal)


def test_ceiling_test_reads_the_jobs_table_or_nothing_where_it_wrote_a_note(tmp_path):
    from ecrs_analysis.report.mtlnet_chapter import ceiling_test

    note = tmp_path / "note.csv"
    pd.DataFrame({"note": ["a real cohort has no known ceiling"]}).to_csv(note, index=False)
    assert ceiling_test(note).empty
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"model": ["mtlnet", "mtlnet"], "set": ["train", "external"], "AUC": [0.9, 0.8]}).to_csv(rows, index=False)
    got = ceiling_test(rows)
    assert list(got.index) == [("mtlnet", "train"), ("mtlnet", "external")] and list(got["AUC"]) == [0.9, 0.8]


def test_a_native_dice_above_the_resized_truth_is_said_to_beat_it_and_no_bound_is_claimed_there():
    text = dice_against_target(_seg(0.79, 0.70, 0.70), _grid(0.75), **GRID)
    assert "On train the network's native Dice lies above the resized ground truth's: there it is a reference, not a bound." in text
    assert "lies above" not in dice_against_target(_seg(0.70, 0.70, 0.70), _grid(0.75), **GRID)


def test_learning_display_is_one_column_with_rounded_numbers_and_dashes():
    from ecrs_analysis.report.mtlnet_chapter import learning_display

    row = pd.Series({"learned": True, "why not": float("nan"), "validation loss": 0.691053, "best epoch": 5.0, "early stopping on": "val_cls_loss"})
    shown = learning_display(row)
    assert list(shown.columns) == ["MTLNet"] and list(shown.index) == list(row.index)
    assert list(shown["MTLNet"]) == ["True", "–", "0.691", "5", "val_cls_loss"]


def test_segmentation_examples_read_back_as_written(tmp_path):
    """The segmentation examples job's archive (jobs.exhibits) read back by the chapter: titles, arrays and dtypes."""
    import numpy as np

    from ecrs_analysis.jobs.explain_views import write_npz
    from ecrs_analysis.report.mtlnet_chapter import read_segmentation_examples

    rng = np.random.default_rng(1)
    cases = [(f"{r} Dice 0.{i}00 (external)", {"image": rng.random((3, 4, 5), dtype=np.float32), "truth": rng.random((3, 4, 5)) > 0.5,
                                              "prediction": (rng.random((3, 4, 5)) > 0.5).astype(np.uint8), "spacing_mm": np.array([1.0, 2.0, 3.0])})
             for i, r in enumerate(("best", "median", "worst"))]
    arrays = {}
    for i, (title, c) in enumerate(cases):
        arrays[f"title_{i}"] = np.array(title)
        arrays.update({f"{k}_{i}": v for k, v in c.items()})
    write_npz(arrays, tmp_path / "x.npz")
    back = read_segmentation_examples(tmp_path / "x.npz")
    assert [t for t, _ in back] == [t for t, _ in cases]
    for (_, a), (_, b) in zip(cases, back):
        assert all(np.array_equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)
