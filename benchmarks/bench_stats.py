"""ROC statistics speed against plain baselines measured in the same run.

- Bootstrap CI of the AUC, 2000 stratified resamples: ``bootstrap_auc_ci`` vs a loop calling
  ``sklearn.metrics.roc_auc_score`` on each resample (goal: >= 50x faster).
- DeLong variance: the midrank algorithm vs the O(n^2) structural-components definition
  (goal: n = 1e5 in under one second).

    .venv/bin/python benchmarks/bench_stats.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.metrics import roc_auc_score

from ecrs_analysis.stats.bootstrap import bootstrap_auc_ci
from ecrs_analysis.stats.delong import delong_ci


def data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.45).astype(int)
    return y, rng.normal(y * 1.0, 1.0)


def loop_bootstrap(y, s, b=2000, seed=0):
    rng = np.random.default_rng(seed)
    cases, controls = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    out = np.empty(b)
    for i in range(b):
        idx = np.concatenate([rng.choice(cases, cases.size), rng.choice(controls, controls.size)])
        out[i] = roc_auc_score(y[idx], s[idx])
    return np.quantile(out, [0.025, 0.975])


def quadratic_delong(y, s):
    cases, controls = s[y == 1], s[y == 0]
    v10 = np.empty(cases.size)
    v01 = np.zeros(controls.size)
    for i in range(0, cases.size, 256):  # blocks keep memory bounded; the work is still O(m n)
        c = cases[i : i + 256, None]
        psi = (c > controls[None, :]) + 0.5 * (c == controls[None, :])
        v10[i : i + 256] = psi.mean(axis=1)
        v01 += psi.sum(axis=0)
    v01 /= cases.size
    return np.var(v10, ddof=1) / cases.size + np.var(v01, ddof=1) / controls.size


def timed(fn, *args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main() -> None:
    rows = []
    for n in (1_000, 10_000):
        y, s = data(n)
        base = timed(loop_bootstrap, y, s)
        fast = timed(lambda: bootstrap_auc_ci(y, s, n_resamples=2000, seed=0))
        rows.append((f"bootstrap CI, 2000 resamples, n={n:,}", "sklearn loop", base, fast))
    for n in (10_000, 100_000):
        y, s = data(n)
        base = timed(quadratic_delong, y, s)
        fast = timed(lambda: delong_ci(y, s))
        rows.append((f"DeLong variance, n={n:,}", "O(n^2) definition", base, fast))
    print(f"{'task':<42} {'baseline':<18} {'baseline s':>10} {'ecrs s':>8} {'speed-up':>9}")
    for task, name, b, f in rows:
        print(f"{task:<42} {name:<18} {b:>10.3f} {f:>8.3f} {b / f:>8.0f}x")


if __name__ == "__main__":
    main()
