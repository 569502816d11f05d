"""Training: the one training helper (:mod:`.helper`), per-fold CNN jobs (:mod:`.folds`), MTLNet jobs
(:mod:`.mtl`, settings in :mod:`.mtl_settings`).

Nothing is imported here, so that reading the parameter schema does not load torch.
"""
