import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ecrs_analysis.fusion import DeepSpec, deep_scores, fit_integrated


@pytest.fixture
def volumes(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(48):
        y = i % 2
        img = rng.normal(0.3 + 0.4 * y, 0.2, size=(1, 12, 12, 12)).astype(np.float32)  # brighter lesions = eCRS
        p = tmp_path / f"v{i}.npz"
        np.savez(p, image=img)
        rows.append({"patient_id": f"P{i:02d}", "set": "train" if i < 32 else ("internal_test" if i < 40 else "external_test"), "label": y, "path": str(p)})
    return pd.DataFrame(rows)


def test_out_of_fold_and_test_scores(volumes, tmp_path):
    spec = DeepSpec(models=("resnet3d",), width=0.125, folds=2, epochs=10, batch_size=8, lr=3e-3, patience=10, validation_fraction=0.3)
    scores, hist = deep_scores(volumes, volumes, spec=spec, train_set="train", seed=1, checkpoint_root=tmp_path / "ckpt")
    assert scores["resnet3d"].between(0, 1).all() and len(scores) == 48
    assert set(hist["fold"]) == {0, 1} and (tmp_path / "ckpt" / "resnet3d" / "fold1" / "best.pt").exists()
    again, _ = deep_scores(volumes, volumes, spec=spec, train_set="train", seed=1)
    assert np.allclose(scores["resnet3d"], again["resnet3d"])  # deterministic on CPU
    tr = scores[scores.set == "train"]
    assert roc_auc_score(tr.label, tr.resnet3d) > 0.7  # the signal is learnable out of fold


def test_missing_volume_is_named(volumes):
    with pytest.raises(ValueError, match="no preprocessed volume"):
        deep_scores(volumes, volumes.iloc[:-1], spec=DeepSpec(models=("resnet3d",)), train_set="train", seed=0)


def test_integrated_svm_combines_complementary_scores():
    rng = np.random.default_rng(2)
    n = 400
    z = rng.normal(size=n)
    y = (z + rng.normal(0, 0.5, n) > 0).astype(int)
    df = pd.DataFrame({"label": y, "a": z + rng.normal(0, 1, n), "b": z + rng.normal(0, 1, n), "noise": rng.normal(size=n)})
    train, test = df.iloc[:300], df.iloc[300:]
    model = fit_integrated(train, ["a", "b", "noise"], seed=0, folds=3)
    p = model.predict(test)
    assert p.min() >= 0 and p.max() <= 1 and "svm__estimator__C" in model.best_params
    assert roc_auc_score(test.label, p) > max(roc_auc_score(test.label, test.a), roc_auc_score(test.label, test.b))
    with pytest.raises(ValueError, match="non-finite"):
        fit_integrated(train.assign(a=np.nan), ["a"], seed=0)
