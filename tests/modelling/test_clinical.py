import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from ecrs_analysis.modelling.clinical import Imputer, em_ratio, fit_signature, jesrec_score, univariable


@pytest.fixture
def train():
    rng = np.random.default_rng(0)
    n = 400
    z = rng.normal(size=n)
    df = pd.DataFrame(
        {
            "label": (z + rng.normal(0, 0.7, n) > 0).astype(int),
            "asthma": (rng.random(n) < 1 / (1 + np.exp(1.2 - z))).astype(float),
            "blood_eos_pct": np.exp(1 + 0.6 * z + rng.normal(0, 0.4, n)),
            "bmi": rng.normal(24, 3, n),
        }
    )
    df.loc[:9, "bmi"] = np.nan
    return df


def test_imputer_is_fitted_on_training_data_only(train):
    imp = Imputer.fit(train, ["bmi", "asthma"])
    assert imp.values["bmi"] == pytest.approx(train["bmi"].median())
    assert imp.values["asthma"] in (0.0, 1.0)
    test = pd.DataFrame({"bmi": [np.nan, 30.0], "asthma": [np.nan, 1.0]})
    filled, counts = imp.transform(test)
    assert filled["bmi"].tolist() == [imp.values["bmi"], 30.0] and counts == {"bmi": 1, "asthma": 1}


def test_univariable_matches_a_statsmodels_formula_fit(train):
    uni = univariable(train.dropna(), ["asthma", "bmi"])
    ref = smf.logit("label ~ asthma", data=train.dropna()).fit(disp=0)
    assert uni.loc["asthma", "OR"] == pytest.approx(np.exp(ref.params["asthma"]))
    assert uni.loc["asthma", "p"] == pytest.approx(ref.pvalues["asthma"])
    lo, hi = np.exp(ref.conf_int().loc["asthma"])
    assert (uni.loc["asthma", "CI low"], uni.loc["asthma", "CI high"]) == pytest.approx((lo, hi))


def test_signature_selects_signal_not_noise_and_predicts_other_sets(train):
    sig, uni = fit_signature(train, ["asthma", "blood_eos_pct", "bmi"])
    assert set(sig.variables) == {"asthma", "blood_eos_pct"} and not uni.loc["bmi", "selected"]
    assert (sig.table["VIF"] >= 1).all()
    lp = sig.predict(train.head(5).assign(bmi=np.nan))
    assert lp.shape == (5,) and np.isfinite(lp).all()



def test_no_clinical_signal_gives_a_constant_signature_not_an_error(train):
    # e.g. shuffled labels in a leakage check: nothing passes alpha, every patient gets the same score
    with pytest.warns(UserWarning, match="alpha=1e-12"):
        sig, uni = fit_signature(train, ["bmi"], alpha=1e-12)
    assert sig.variables == () and sig.table.empty and not uni["selected"].any()
    lp = sig.predict(train)
    assert np.allclose(lp, np.log(train["label"].mean() / (1 - train["label"].mean())))


def _lm_table(**over):
    base = {f"lm_{s}_{n}": 0 for s in ("right", "left") for n in ("maxillary", "anterior_ethmoid", "posterior_ethmoid")}
    base.update(bilateral_disease=1, nasal_polyps=1, blood_eos_pct=6.0)
    base.update(over)
    return pd.DataFrame([base])


def test_jesrec_by_hand():
    # bilateral 3 + polyps 2 + ethmoid-dominant 2 + eos 5-10% 8 = 15
    t = _lm_table(lm_right_anterior_ethmoid=2, lm_left_anterior_ethmoid=2, lm_right_posterior_ethmoid=2, lm_left_posterior_ethmoid=2, lm_right_maxillary=1)
    assert jesrec_score(t).iloc[0] == 15
    # maxillary-dominant, unilateral, eos 1.5%: polyps only
    t = _lm_table(bilateral_disease=0, blood_eos_pct=1.5, lm_right_maxillary=2, lm_right_anterior_ethmoid=1)
    assert jesrec_score(t).iloc[0] == 2
    assert jesrec_score(_lm_table(blood_eos_pct=10.5)).iloc[0] == 3 + 2 + 10


def test_em_ratio_by_hand_and_missing_columns():
    t = _lm_table(lm_right_anterior_ethmoid=2, lm_left_posterior_ethmoid=1, lm_right_maxillary=1, lm_left_maxillary=2)
    assert em_ratio(t).iloc[0] == pytest.approx(3 / 3)
    assert em_ratio(_lm_table(lm_right_anterior_ethmoid=1)).iloc[0] == pytest.approx(1 / 0.5)
    with pytest.raises(KeyError, match="lm_right_maxillary"):
        em_ratio(pd.DataFrame({"x": [1]}))


def test_out_of_fold_signature_owes_nothing_to_the_fold_it_scores(train):
    """Flip every label of fold 0: the out-of-fold scores of fold 0 stay, those of the other folds move."""
    from ecrs_analysis.modelling.clinical import out_of_fold_signature

    columns = ["asthma", "blood_eos_pct", "bmi"]
    folds = np.arange(len(train)) % 4
    oof = out_of_fold_signature(train, columns, folds=folds)
    poisoned = train.copy()
    poisoned.loc[folds == 0, "label"] = 1 - poisoned.loc[folds == 0, "label"]
    oof_p = out_of_fold_signature(poisoned, columns, folds=folds)
    np.testing.assert_array_equal(oof[folds == 0], oof_p[folds == 0])
    assert not np.allclose(oof[folds == 1], oof_p[folds == 1])
    # fold 0's scores are those of a signature fitted on the other folds alone
    signature, _ = fit_signature(train[folds != 0], columns)
    np.testing.assert_allclose(oof[folds == 0], signature.predict(train[folds == 0]))
    with pytest.raises(ValueError, match="one per row"):
        out_of_fold_signature(train, columns, folds=folds[:-1])
