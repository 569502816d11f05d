"""ROC statistics with R pROC's conventions: AUC, DeLong and bootstrap CIs and tests, operating points."""

from ecrs_analysis.stats.bootstrap import bootstrap_auc_ci, bootstrap_test, bootstrap_test_unpaired
from ecrs_analysis.stats.delong import delong_ci, delong_test, delong_test_unpaired
from ecrs_analysis.stats.roc import auc, roc

__all__ = ["auc", "roc", "delong_ci", "delong_test", "delong_test_unpaired", "bootstrap_auc_ci", "bootstrap_test", "bootstrap_test_unpaired"]
