import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ecrs_analysis.modelling.fusion import fit_integrated, fit_on_training_rows, held_out_operating_points


def _data(n=400, seed=2):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    y = (z + rng.normal(0, 0.5, n) > 0).astype(int)
    return pd.DataFrame({"label": y, "a": z + rng.normal(0, 1, n), "b": z + rng.normal(0, 1, n), "noise": rng.normal(size=n)})


def test_integrated_svm_combines_complementary_scores():
    df = _data()
    train, test = df.iloc[:300], df.iloc[300:]
    model = fit_integrated(train, ["a", "b", "noise"], seed=0, folds=3)
    p = model.predict(test)
    assert p.min() >= 0 and p.max() <= 1 and "svm__estimator__C" in model.best_params
    assert roc_auc_score(test.label, p) > max(roc_auc_score(test.label, test.a), roc_auc_score(test.label, test.b))
    with pytest.raises(ValueError, match="non-finite"):
        fit_integrated(train.assign(a=np.nan), ["a"], seed=0)


def test_held_out_threshold_keeps_its_operating_point_on_exchangeable_data():
    df = _data(n=300, seed=4)
    folds = pd.Series(np.arange(len(df)) % 3)
    t = held_out_operating_points(df, ["a", "b"], folds=folds, seed=0, svm_folds=3)
    assert list(t.index) == [0, 1, 2] and (t["patients held out"] == 100).all()
    # same distribution inside and outside: held-out sensitivity is close to the fitted one on average
    gap = (t["sensitivity (fitted folds)"] - t["sensitivity (held-out fold)"]).mean()
    assert abs(gap) < 0.12


def _fitted_parameters(model):
    """Every number the fitted pipeline holds: scaler, SVM support vectors and duals, Platt sigmoid."""
    scale = model.pipeline.named_steps["scale"]
    calibrated = model.pipeline.named_steps["svm"].calibrated_classifiers_[0]
    svc = calibrated.estimator
    sigmoid = calibrated.calibrators[0]
    return [scale.mean_, scale.scale_, svc.support_vectors_, svc.dual_coef_, svc.intercept_, np.array([sigmoid.a_, sigmoid.b_])]


def test_integrated_model_never_sees_a_non_training_row():
    df = _data(n=240, seed=6).assign(set=["train"] * 160 + ["internal_test"] * 40 + ["external_test"] * 40, patient_id=[f"p{i}" for i in range(240)])
    scored, model = fit_on_training_rows(df, ["a", "b"], train_set="train", seed=0, folds=3)
    # poison every feature and label of the test rows: no fitted parameter may move
    rng = np.random.default_rng(1)
    test = df["set"] != "train"
    poisoned = df.copy()
    poisoned.loc[test, ["a", "b"]] = rng.normal(50, 30, size=(int(test.sum()), 2))
    poisoned.loc[test, "label"] = 1 - poisoned.loc[test, "label"]
    scored_p, model_p = fit_on_training_rows(poisoned, ["a", "b"], train_set="train", seed=0, folds=3)
    assert model_p.best_params == model.best_params and model_p.cv_auc == model.cv_auc
    for before, after in zip(_fitted_parameters(model), _fitted_parameters(model_p), strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(scored.loc[~test, "integrated"], scored_p.loc[~test, "integrated"])
    # the poisoning check is live: poisoning one training row does move the fit
    leaked = df.copy()
    leaked.loc[0, "a"] = 1e3
    _, model_l = fit_on_training_rows(leaked, ["a", "b"], train_set="train", seed=0, folds=3)
    assert not np.array_equal(model_l.pipeline.named_steps["scale"].mean_, model.pipeline.named_steps["scale"].mean_)
    with pytest.raises(ValueError, match="no patient in the training set 'training'"):
        fit_on_training_rows(df, ["a"], train_set="training", seed=0)


def test_out_of_fold_integrated_scores_owe_nothing_to_the_fold_they_score():
    from ecrs_analysis.modelling.fusion import out_of_fold_integrated

    df = _data(n=150, seed=8)
    folds = np.arange(len(df)) % 3
    oof = out_of_fold_integrated(df, ["a", "b"], folds=folds, seed=0, svm_folds=3)
    poisoned = df.copy()
    poisoned.loc[folds == 0, "label"] = 1 - poisoned.loc[folds == 0, "label"]
    oof_p = out_of_fold_integrated(poisoned, ["a", "b"], folds=folds, seed=0, svm_folds=3)
    np.testing.assert_array_equal(oof[folds == 0], oof_p[folds == 0])
    assert not np.allclose(oof[folds == 1], oof_p[folds == 1])
    # the held-out features score the held-out fold: here the same as the fitted ones, so the same result
    np.testing.assert_array_equal(oof, out_of_fold_integrated(df, ["a", "b"], folds=folds, seed=0, svm_folds=3, held_out_features=df))
    assert roc_auc_score(df.label, oof) > 0.75
