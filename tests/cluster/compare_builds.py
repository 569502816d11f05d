"""Claims and score tables of two builds are equal (run ids and other run metadata aside).

    python tests/cluster/compare_builds.py RESULTS_A RESULTS_B
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

RUN_COLUMNS = ["run"]  # the claims' run id: metadata of the run, not a result


def tables(results: Path) -> dict[str, Path]:
    files = sorted(results.glob("claims/*.csv")) + sorted(results.glob("*/scores_*.csv"))
    return {str(f.relative_to(results)): f for f in files}


def main(a: str, b: str) -> int:
    ta, tb = tables(Path(a)), tables(Path(b))
    if not ta or set(ta) != set(tb):
        print(f"FAIL: different tables: only in {a}: {sorted(set(ta) - set(tb))}; only in {b}: {sorted(set(tb) - set(ta))}")
        return 1
    bad = []
    for name in ta:
        x = pd.read_csv(ta[name]).drop(columns=RUN_COLUMNS, errors="ignore")
        y = pd.read_csv(tb[name]).drop(columns=RUN_COLUMNS, errors="ignore")
        if not x.equals(y):
            bad.append(name)
    if bad:
        print(f"FAIL: {len(bad)} of {len(ta)} table(s) differ: {bad}")
        return 1
    n_claims = sum(len(pd.read_csv(f)) for k, f in ta.items() if k.startswith("claims/"))
    print(f"equal: {len(ta)} tables ({n_claims} claims) of {a} and {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
