"""Chapter 06's sentences about the controls and the deletion test follow the numbers of the explanation tables."""

from pathlib import Path

import pandas as pd

from ecrs_analysis.explain.chapter import StudyExplanation, attention_verdict, deletion_verdict


def _attention(net_low, net_high, *, drop=None):
    rows = []
    for name, v, lo, hi in (("Grad-CAM", (net_low + net_high) / 2, net_low, net_high), ("perfect map (positive control)", 0.8, 0.7, 0.9), ("random", 0.1, 0.05, 0.15), ("crop centre", 0.3, 0.2, 0.4)):
        if name == drop:
            continue
        rows.append({"model": "resnet3d", "region": "evidence", "map": name, "pointing game": v, "pointing game low": lo, "pointing game high": hi,
                     "energy share": v, "energy share low": lo, "energy share high": hi})
    return StudyExplanation("li2025", Path("."), ["resnet3d"], tables={"attention": pd.DataFrame(rows)})


def test_a_map_is_informative_only_above_both_negative_controls():
    above = attention_verdict(_attention(0.45, 0.55))
    assert "above random, above crop centre" in above and "informative" in above and "62% of the perfect map's 0.80" in above
    between = attention_verdict(_attention(0.16, 0.3))
    assert "above random, level with crop centre" in between and "informative" not in between
    assert "below crop centre" in attention_verdict(_attention(0.0, 0.19))


def test_a_missing_control_is_said_not_hidden():
    assert "a control is missing" in attention_verdict(_attention(0.45, 0.55, drop="random"))


def test_faithfulness_follows_the_ci_of_the_paired_difference():
    def verdict(lo, hi):
        area = pd.DataFrame([{"model": "m", "AOPC map - random": (lo + hi) / 2, "AOPC map - random low": lo, "AOPC map - random high": hi}])
        return deletion_verdict(StudyExplanation("s", Path("."), ["m"], tables={"deletion_area": area}))

    assert "more than deleting random voxels" in verdict(0.01, 0.1)
    assert "not faithful" in verdict(-0.1, -0.01)
    assert "the CI includes 0" in verdict(-0.05, 0.1)
