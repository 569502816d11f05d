"""The up-front study check: fold arithmetic against scikit-learn, all studies' problems together."""

import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold

from ecrs_analysis.config.params import load_params, params_model
from ecrs_analysis.data.manifest import ManifestError
from ecrs_analysis.data.synth.cohort import generate_cohort
from ecrs_analysis.pipeline.preflight import StudyCheckError, check_studies, check_study, patients_needed


@pytest.mark.parametrize("folds, inner", [(2, 5), (3, 5), (5, 5), (10, 2), (4, 7)])
def test_patients_needed_is_the_smallest_class_size_scikit_learn_can_serve(folds, inner):
    def smallest_training_part(n):  # one class of n among a bigger other class, as StratifiedKFold splits it
        y = np.r_[np.zeros(n), np.ones(50)]
        return min(int((y[train] == 0).sum()) for train, _ in StratifiedKFold(folds, shuffle=True, random_state=0).split(y, y))

    need = patients_needed(folds, inner)
    assert smallest_training_part(need) >= inner
    assert need == folds or smallest_training_part(need - 1) < inner


@pytest.fixture(scope="module")
def cohort40(tmp_path_factory):
    """40 li2025 patients: 11 and 8 per class in the smoke profile's training set."""
    return generate_cohort(tmp_path_factory.mktemp("pre") / "li", design="li2025", seed=9, n_patients=40, spacing_scale=8.0, n_jobs=1)


def test_check_study_gives_the_split_and_what_chapters_skip(tmp_path, cohort40):
    folder = tmp_path / "c"
    shutil.copytree(cohort40, folder)
    m = pd.read_csv(folder / "manifest.csv")
    m.drop(columns=[c for c in m if c.startswith("lm_")]).to_csv(folder / "manifest.csv", index=False)
    text = (folder / "manifest.dictionary.yaml").read_text(encoding="utf-8")
    (folder / "manifest.dictionary.yaml").write_text("\n".join(l for l in text.splitlines() if "lm_" not in l and "Lund-Mackay" not in l) + "\n", encoding="utf-8")
    params = load_params("smoke")
    check = check_study(params_model(params), "li2025", manifest=folder / "manifest.csv", check_images=False)
    assert check.split.train_name == "train" and set(check.split.train) <= set(check.cohort.table["patient_id"])
    assert set(check.skipped) == {"jesrec", "em_ratio"} and any("will not compute the jesrec" in n for n in check.notes)
    assert not (folder / "split.json").exists()


def test_check_studies_reports_every_study_at_once(tmp_path, tiny_cohort):
    params = load_params("smoke", {"studies.li2025.manifest": str(tiny_cohort / "manifest.csv"), "studies.mtlnet2025.manifest": str(tiny_cohort / "manifest.csv")})
    with pytest.raises(StudyCheckError) as e:
        check_studies(params_model(params))
    assert isinstance(e.value, ManifestError) and set(e.value.errors) == {"li2025", "mtlnet2025"}
    text = str(e.value)
    assert "study li2025:" in text and "study mtlnet2025:" in text and "unknown centre 'hospital_A'" in text


def test_too_few_patients_per_class_names_the_parameters_and_a_way_out(cohort40):
    params = load_params("smoke", {"deep.folds": 2, "deep.svm_folds": 2})
    with pytest.raises(ManifestError) as e:
        check_study(params_model(params), "li2025", manifest=cohort40 / "manifest.csv", check_images=False)
    text = str(e.value)
    # 8 per class: 2 folds with a 20% hold-out need 10, 2 SVM folds with 5 Platt folds need 10; more folds need fewer
    assert "has 11 eosinophilic and 8 non-eosinophilic" in text or "has 8 eosinophilic and 11 non-eosinophilic" in text
    assert "at least 10 of each" in text and "deep.folds=3 would do with 8 per class" in text and "deep.svm_folds=3 would do" in text


def test_check_every_study_says_what_stops_each(cohort40):
    from ecrs_analysis.pipeline.preflight import StudyCheck, check_every_study

    found = check_every_study(params_model(load_params("smoke")), manifest=cohort40 / "manifest.csv")
    assert set(found) == {"li2025", "mtlnet2025"}
    assert isinstance(found["li2025"], StudyCheck)
    assert isinstance(found["mtlnet2025"], ManifestError) and "unknown centre 'hospital_A'" in str(found["mtlnet2025"])
