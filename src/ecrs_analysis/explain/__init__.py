"""Explanation: where the networks look (Grad-CAM), measured against where the disease is, and 3D views.

- :mod:`~ecrs_analysis.explain.cam`: MONAI Grad-CAM / Grad-CAM++ of one volume, multitask wrapper;
- :mod:`~ecrs_analysis.explain.inverse`: maps from the network's input grid back onto the CT;
- :mod:`~ecrs_analysis.explain.metrics`: pointing game, energy share, baselines, sanity check;
- :mod:`~ecrs_analysis.explain.run`: a whole test set, cached per (model, fold, patient);
- :mod:`~ecrs_analysis.explain.views`, :mod:`~ecrs_analysis.explain.mesh`: what the figures show;
- :mod:`~ecrs_analysis.explain.settings`: the ``explain`` parameters.
"""
