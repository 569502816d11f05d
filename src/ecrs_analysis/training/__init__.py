"""Training: the one training helper, per-fold training jobs and several-GPU runs."""

from .helper import (
    CachedVolumes, TrainConfig, augment, class_weights, load_checkpoint, make_loader, predict_proba, seed_everything, train,
)

__all__ = ["TrainConfig", "CachedVolumes", "make_loader", "class_weights", "seed_everything", "augment", "train", "predict_proba", "load_checkpoint"]
