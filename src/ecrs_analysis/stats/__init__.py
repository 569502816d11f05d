"""ROC statistics with R pROC's conventions: AUC, DeLong and bootstrap CIs and tests, operating points.

Names are imported on first use, so that reading the parameter schema (which needs only
``stats.settings``) does not load SciPy and scikit-learn. Import the function ``roc`` from
``ecrs_analysis.stats.roc``: once that submodule is loaded, the package attribute ``roc`` is the module.
"""

import importlib
from typing import Any

_WHERE = {
    "bootstrap_auc_ci": "bootstrap", "bootstrap_test": "bootstrap", "bootstrap_test_unpaired": "bootstrap",
    "delong_ci": "delong", "delong_test": "delong", "delong_test_unpaired": "delong",
    "auc": "roc", "roc": "roc",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"ecrs_analysis.stats.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'ecrs_analysis.stats' has no attribute {name!r}")


__all__ = ["auc", "roc", "delong_ci", "delong_test", "delong_test_unpaired", "bootstrap_auc_ci", "bootstrap_test", "bootstrap_test_unpaired"]
