"""Chapter 01's section of one study: the same exhibits for each study, from its workflow artefacts."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown, display

from ecrs_analysis.atomic import read_indexed
from ecrs_analysis.report import format as F
from ecrs_analysis.report.chapter_setup import OpenChapter
from ecrs_analysis.data import splits
from ecrs_analysis.data import study as S
from ecrs_analysis.plotting import cohort as plots

__all__ = ["show_cohort"]


def show_cohort(ch: OpenChapter, study: str, *, design: str) -> S.LoadedStudy:
    """Show one study's cohort: patients per set, Table 1 by set and by endotype, example CT,
    preprocessed inputs and (synthetic cohort) the ceiling AUC; returns the loaded study.

    ``design`` names the study in captions ("Li et al. 2025 design").
    """
    ex, paths, cfg = ch.exhibits, ch.paths, ch.config
    st = S.load_study(cfg, study, paths)
    source = "a real cohort (manifest)" if cfg["studies"][study]["manifest"] else "the embedded synthetic cohort"
    display(Markdown(f"**{st.cohort.n} patients** from {source}; split mode *{st.split.mode}*; {len(st.cohort.clinical_columns)} clinical columns."))
    balance = splits.split_summary(st.cohort.table, st.split)
    ex.table(F.frame_display(balance, digits=1), f"Patients and share with eCRS per set, {design}.", data=balance)
    ex.figure(plots.plot_class_balance(balance, title=f"{design.removesuffix(' design')}: patients per set"), f"Patients per set and endotype, {design}.")
    ex.table(read_indexed(paths.table1(study, "set")), f"Baseline characteristics by set, {design}: median (IQR) or n (%); p compares the sets.")
    ex.table(read_indexed(paths.table1(study, "endotype")), f"Baseline characteristics by endotype, all sets, {design}.")
    ex.figure(plots.plot_slices(S.example_cases(st, seed=cfg["seed"])), f"Axial and coronal CT of one eosinophilic and one non-eosinophilic training patient ({design}), at the level of the lesion; sinus region yellow, lesion region of interest red.")
    index = pd.read_csv(paths.preprocessed_index(study))
    display(Markdown(f"Preprocessed model inputs: {len(index)} volumes of size {cfg['studies'][study]['preprocess']['input_size']}; "
                     f"{int(index['cached'].sum())} taken from the cache, {int((~index['cached']).sum())} computed in the run."))
    ceiling = S.ceiling_auc(st)
    if ceiling is None:
        display(Markdown("_Real cohort: no ground truth, no ceiling._"))
    else:
        ex.table(F.frame_display(ceiling), f"Ceiling AUC per set, {design}: the AUC of each patient's true probability of eCRS.")
    return st
