"""The data dictionary: declared roles, checked entries, and the generator's default."""

import pytest
import yaml

from ecrs_analysis.data.dictionary import (
    DictionaryError,
    dictionary_path,
    identifying_reason,
    label_source_reason,
    load_dictionary,
    normalise_name,
    parse_dictionary,
)
from ecrs_analysis.data.manifest import validate_manifest
from ecrs_analysis.data.synth.patients import CLINICAL_COLUMNS


def test_short_and_long_forms():
    d = parse_dictionary({"columns": {"MRN": "id", "ROI": {"role": "mask", "mask": "roi_mask"}, "Age ": {"role": "clinical", "type": "continuous", "unit": "years"}}})
    assert [(c.role, c.target) for c in d.columns] == [("id", "patient_id"), ("mask", "roi_mask"), ("clinical", "Age ")]
    assert d.lookup(" age").unit == "years" and d.lookup("mrn").role == "id"


def test_every_broken_entry_is_reported():
    with pytest.raises(DictionaryError) as e:
        parse_dictionary({"columns": {"a": "predictor", "b": "clinical", "c": {"role": "mask"}, "d": {"role": "id"}, "e": "id", "f": {"role": "clinical", "type": "binary", "colour": 1}}})
    text = str(e.value)
    assert "role 'predictor'" in text and "'b': a clinical column needs type" in text and "say which mask" in text
    assert "role id is given to 2 columns (d, e)" in text and "unknown key(s) colour" in text


def test_names_are_trimmed_and_case_folded():
    assert normalise_name("  Patient ID ") == "patient_id" == normalise_name("PATIENT-ID")


@pytest.mark.parametrize("name", ["tissue_eos_hpf", "Tissue eosinophils", "eos/HPF", "histology_grade", "biopsy_eos"])
def test_label_sources_are_recognised(name):
    assert label_source_reason(name)


@pytest.mark.parametrize("name", ["blood_eos_pct", "blood_eos_count", "total_ige", "asthma", "age"])
def test_clinical_names_are_not_label_sources(name):
    assert label_source_reason(name) is None and identifying_reason(name) is None


@pytest.mark.parametrize("name", ["MRN", "date_of_birth", "DOB", "Patient Name", "phone"])
def test_identifying_names_are_recognised(name):
    assert identifying_reason(name)


def test_generator_writes_the_documented_default(tiny_cohort):
    p = dictionary_path(tiny_cohort / "manifest.csv")
    assert p == tiny_cohort / "manifest.dictionary.yaml"
    d = load_dictionary(p)
    declared = {c.name: c.type for c in d.columns if c.role == "clinical"}
    assert {k: v for k, v in declared.items() if not k.startswith("lm_")} == CLINICAL_COLUMNS
    cohort = validate_manifest(tiny_cohort / "manifest.csv", mask_columns=("roi_mask", "sinus_mask"))
    assert set(cohort.clinical_columns) == set(declared) and cohort.units["age"] == "years"


def test_yaml_errors_name_the_line(tmp_path):
    p = tmp_path / "m.dictionary.yaml"
    p.write_text("columns:\n  age: [clinical\n", encoding="utf-8")
    with pytest.raises(DictionaryError, match="not valid YAML at line 3"):
        load_dictionary(p)
    p.write_text(yaml.safe_dump({"cols": {}}), encoding="utf-8")
    with pytest.raises(DictionaryError, match="expected a mapping 'columns:'"):
        load_dictionary(p)


def test_draft_dictionary_declares_nothing_clinical_and_parses(tmp_path, capsys):
    from ecrs_analysis import cli

    (tmp_path / "m.csv").write_text("Patient ID,Centre,MRN,tissue eos/hpf,age,asthma\nP1,A,123,40,50,yes\n", encoding="utf-8")
    assert cli.main(["dictionary", str(tmp_path / "m.csv")]) == 0
    text = capsys.readouterr().out
    d = parse_dictionary(yaml.safe_load(text))
    roles = {c.name: c.role for c in d.columns}
    assert roles == {"Patient ID": "id", "Centre": "centre", "MRN": "identifying", "tissue eos/hpf": "exclude", "age": "exclude", "asthma": "exclude"}
    assert "values look binary" in text and "values look numeric" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.csv"]


def test_values_map_words_to_labels_including_unquoted_yaml_booleans():
    dd = parse_dictionary(yaml.safe_load("columns: {Endotype: {role: label, values: {yes: 1, no: 0}}, asthma: {role: clinical, type: binary, values: {present: 1, absent: 0}}}"))
    label, asthma = dd.lookup("Endotype"), dd.lookup("asthma")
    assert [label.value_of(w) for w in ("Yes", "TRUE", "no", "off", "maybe")] == [1.0, 1.0, 0.0, 0.0, None]
    assert asthma.value_of(" Present ") == 1.0 and asthma.value_of("absent") == 0.0


@pytest.mark.parametrize(
    "entry, words",
    [
        ("{role: clinical, type: continuous, values: {a: 1, b: 0}}", "belongs to the label column or a binary clinical column"),
        ("{role: label, values: {eCRS: 2, non-eCRS: 0}}", "must map to 0 or 1"),
        ("{role: label, values: {eCRS: 1, eos: 1}}", "a word for 0 and a word for 1"),
        ("{role: label, values: [eCRS]}", "values must map each word"),
        ("{role: clinical, type: continuous, missing: maybe}", "missing must be true or false"),
        ("{role: date, missing: false}", "belongs to clinical columns"),
    ],
)
def test_broken_values_and_missing_entries_are_refused(entry, words):
    with pytest.raises(DictionaryError) as e:
        parse_dictionary(yaml.safe_load(f"columns: {{x: {entry}}}"))
    assert words in str(e.value)
