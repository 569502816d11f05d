import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ecrs_analysis.fusion import fit_integrated, held_out_operating_points


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
