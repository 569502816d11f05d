"""Training: the one training helper, per-fold training jobs, MTLNet jobs and several-GPU runs."""

from .helper import (
    CachedVolumes, ClassificationTask, Task, TrainConfig, augment, class_weights, load_checkpoint, make_loader, predict_proba, seed_everything, train,
)

__all__ = ["TrainConfig", "Task", "ClassificationTask", "CachedVolumes", "make_loader", "class_weights", "seed_everything", "augment", "train", "predict_proba", "load_checkpoint"]
