"""Chapter 06's sentences about the controls and the deletion test follow the numbers of the explanation tables."""

from pathlib import Path

import pandas as pd

from ecrs_analysis.report.explain_chapter import StudyExplanation, attention_verdict, deletion_table, deletion_verdict, evidence_prose


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


def _area(lo, hi, *, control=(0.05, 0.2), cls="eCRS"):
    row = {"model": "m", "explained class": cls, "patients": 6, "AOPC map - random": (lo + hi) / 2, "AOPC map - random low": lo, "AOPC map - random high": hi}
    for name in ("map", "random", "perfect map"):
        row.update({f"AOPC {name}": 0.1, f"AOPC {name} low": 0.0, f"AOPC {name} high": 0.2})
    if control is not None:
        row.update({"AOPC perfect map - random": sum(control) / 2, "AOPC perfect map - random low": control[0], "AOPC perfect map - random high": control[1]})
    return StudyExplanation("s", Path("."), ["m"], tables={"deletion_area": pd.DataFrame([row])})


def test_faithfulness_follows_the_ci_of_the_paired_difference():
    assert "more than deleting random voxels" in deletion_verdict(_area(0.01, 0.1))
    assert "matters less to the network" in deletion_verdict(_area(-0.1, -0.01))
    assert "the CI includes 0" in deletion_verdict(_area(-0.05, 0.1))
    assert "eCRS (6 patients)" in deletion_verdict(_area(0.01, 0.1))


def test_a_failing_positive_control_is_said_and_voids_the_verdict():
    works = deletion_verdict(_area(0.01, 0.1))
    assert "the positive control works" in works and "cannot show" not in works
    fails = deletion_verdict(_area(0.01, 0.1, control=(-0.02, 0.03)))
    assert "does **not** work (CI includes 0)" in fails and "cannot show faithfulness for this class" in fails
    assert "no positive control" in deletion_verdict(_area(0.01, 0.1, control=None))
    t = deletion_table(_area(0.01, 0.1, control=(-0.02, 0.03)))
    assert t.loc[("m", "eCRS"), "positive control works"] == "no" and t.loc[("m", "eCRS"), "map faithful"] == "yes"
    assert t.loc[("m", "eCRS"), "AOPC perfect map − random"] == "0.005 (-0.020 to 0.030)"
    assert "0.00040 (0.00010 to 0.00070)" in deletion_verdict(_area(0.0001, 0.0007))  # small falls get the decimals their CI needs
    assert "0.0092 (0.0004 to 0.0180)" in deletion_verdict(_area(0.0004, 0.018))  # a CI above 0 does not print as starting at 0.000


def test_the_evidence_prose_names_what_is_excluded_and_what_only_the_conditional_fit_keeps():
    t = pd.DataFrame([
        {"compartment": "ethmoid", "opacified label": 1, "aerated label": 11, "AUC of its opacification alone": 0.86, "log-odds per SD given the others": 0.9, "low": 0.6, "high": 1.1,
         "opacified argues for": "eCRS", "aerated argues for": "non-eCRS", "simulated patients": 4000},
        {"compartment": "maxillary", "opacified label": 5, "aerated label": 15, "AUC of its opacification alone": 0.518, "log-odds per SD given the others": -0.23, "low": -0.32, "high": -0.15,
         "opacified argues for": "non-eCRS", "aerated argues for": "eCRS", "simulated patients": 4000},
        {"compartment": "sphenoid", "opacified label": 4, "aerated label": 14, "AUC of its opacification alone": 0.82, "log-odds per SD given the others": 0.13, "low": -0.04, "high": 0.31,
         "opacified argues for": "neither", "aerated argues for": "neither", "simulated patients": 4000},
    ])
    text = evidence_prose(StudyExplanation("li2025", Path("."), ["m"], tables={"evidence_definition": t}))
    assert "for eCRS: opacified ethmoid and aerated maxillary; for non-eCRS: opacified maxillary and aerated ethmoid" in text
    assert "maxillary's opacification alone has AUC 0.518" in text and "-0.23 (-0.32 to -0.15)" in text
    assert "Excluded: the sphenoid" in text and "0.13 (-0.04 to 0.31)" in text and "4,000 simulated patients" in text
