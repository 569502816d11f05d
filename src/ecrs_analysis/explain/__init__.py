"""Explanation: where the networks look (Grad-CAM), measured against where the disease is, and 3D views.

- :mod:`~ecrs_analysis.explain.cam`: MONAI Grad-CAM / Grad-CAM++ of one volume, multitask wrapper;
- :mod:`~ecrs_analysis.explain.inverse`: maps from the network's input grid back onto the CT;
- :mod:`~ecrs_analysis.explain.metrics`: pointing game, energy share, baselines, sanity check;
- :mod:`~ecrs_analysis.explain.control`: layer grids and the positive control (a perfect map at a layer's resolution);
- :mod:`~ecrs_analysis.explain.deletion`: faithfulness (deletion curves against random deletion and the perfect map, per explained class);
- :mod:`~ecrs_analysis.explain.evidence`: which compartments carry the label given the others (the evidence regions);
- :mod:`~ecrs_analysis.explain.summaries`: what simple image summaries predict beside the networks;
- :mod:`~ecrs_analysis.explain.networks`: which networks are explained, and the tables of an explanation;
- :mod:`~ecrs_analysis.explain.outcomes`: TP/FP/FN/TN at the book's operating point, the explained patients, the scoring fold(s);
- :mod:`~ecrs_analysis.explain.regions`: the regions a map is measured against, the fold ensemble's map;
- :mod:`~ecrs_analysis.explain.views`, :mod:`~ecrs_analysis.explain.mesh`: what the figures show;
- :mod:`~ecrs_analysis.explain.settings`: the ``explain`` parameters.

A domain room: functions of typed settings and arrays or tables.  The workflow jobs that read
and write the results folder are :mod:`ecrs_analysis.jobs.explain` (bodies) and
:mod:`ecrs_analysis.jobs.explain_rules` (their inputs and outputs); what chapter 06 reads and
shows is :mod:`ecrs_analysis.report.explain_chapter`.
"""
