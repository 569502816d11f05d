"""The seed spread: each headline metric over k training seeds, and how the book shows it.

``ecrs spread`` (``pipeline.spread``) trains every network under training seeds 0 ... k-1 on
one cohort and split; :func:`collect_seed_spread` reads each run's headline table
(:func:`ecrs_analysis.report.summary.evidence_summary`, the table of ``ecrs summary``) and
:func:`spread_table` reduces them to one row per (model, set, metric): k, mean, SD, min, max
and each seed's value. :func:`write_seed_spread` writes it, with the record of how it was made
(seeds, commit, CPU, torch), to ``tables/seed_spread.csv`` and ``.json``.

The appendix shows it beside the build's own AUCs (:func:`seed_spread_view`) when it is there,
and otherwise says which command makes it. The table is optional, so it cannot be a declared
input that the workflow must make: the appendix rule lists it only when it exists when the
workflow is planned (``pipeline.workflow.seed_spread_inputs``), so a new or removed table
re-runs the appendix, and a build without it never waits for a spread.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ecrs_analysis.atomic import write_csv, write_json
from ecrs_analysis.paths import ResultPaths
from ecrs_analysis.report.format import CI_DASH, fmt_ci, fmt_num, label
from ecrs_analysis.report.summary import evidence_summary

__all__ = ["HEADLINE_METRICS", "SPREAD_COMMAND", "spread_table", "collect_seed_spread", "write_seed_spread", "SpreadView", "seed_spread_view"]

HEADLINE_METRICS = ("AUC", "Dice")
"""The columns of the headline table whose spread is measured (any other column is ignored)."""

SPREAD_COMMAND = "make spread"
"""What makes the table (``ecrs spread --profile <profile> --seeds 3``)."""

KEYS = ["model", "set", "metric"]

# Parameters that no job behind the headline tables reads: a build and a spread that differ only here are comparable.
_NOT_HEADLINE = ("profile", "training_seed", "n_jobs", "explain", "omics")


def spread_table(summaries: Mapping[int, pd.DataFrame], *, metrics: Sequence[str] = HEADLINE_METRICS) -> pd.DataFrame:
    """One row per (model, set, metric) over the training seeds: ``k, mean, sd, min, max, seed-<offset>...``.

    Parameters
    ----------
    summaries : mapping
        Training-seed offset -> that run's headline table, indexed (or with columns) ``model, set``;
        of its columns only ``metrics`` are read (others, e.g. ``learned`` or CIs, are ignored).
    metrics : sequence of str
        The metric columns; one absent from every table gives no rows.

    Returns
    -------
    DataFrame
        Columns ``model, set, metric, k, mean, sd, min, max`` and one ``seed-<offset>`` column per seed,
        rows in the order of the first table. ``k`` counts the seeds with a value (a network that did
        not learn under a seed has no AUC row then); ``sd`` is the sample SD (``ddof=1``), missing for k = 1.
    """
    if not summaries:
        raise ValueError("no runs to summarise: a spread needs at least one seed's headline table")
    parts = []
    for offset, summary in summaries.items():
        t = summary.reset_index() if set(("model", "set")) <= set(summary.index.names) else summary
        missing = [c for c in ("model", "set") if c not in t.columns]
        if missing:
            raise ValueError(f"training seed {offset}: the headline table has no {missing} (columns: {list(t.columns)})")
        for m in metrics:
            if m in t.columns:
                parts.append(t[["model", "set", m]].rename(columns={m: "value"}).assign(metric=m, seed=int(offset)))
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["model", "set", "value", "metric", "seed"])
    long = long.assign(value=pd.to_numeric(long["value"], errors="coerce")).dropna(subset=["value"])
    if long.empty:
        raise ValueError(f"none of the metrics {list(metrics)} has a value in any seed's headline table")
    g = long.groupby(KEYS, sort=False)["value"]
    out = pd.DataFrame({"k": g.count(), "mean": g.mean(), "sd": g.std(ddof=1), "min": g.min(), "max": g.max()})
    per_seed = long.pivot(index=KEYS, columns="seed", values="value")
    per_seed = per_seed[sorted(per_seed.columns)].rename(columns=lambda k: f"seed-{k}")
    return out.join(per_seed).reset_index()


def collect_seed_spread(folders: Mapping[int, str | Path], *, metrics: Sequence[str] = HEADLINE_METRICS) -> pd.DataFrame:
    """:func:`spread_table` of the runs in ``folders`` (offset -> results folder of that training seed)."""
    return spread_table({k: evidence_summary(f) for k, f in folders.items()}, metrics=metrics)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_seed_spread(paths: ResultPaths, table: pd.DataFrame, record: Mapping[str, Any]) -> tuple[Path, Path]:
    """Write the table (``paths.seed_spread``), then its record with the table's sha256 (``paths.seed_spread_record``); each atomically.

    A record that does not match the table (a spread killed between the two writes) is caught by :func:`seed_spread_view`.
    """
    csv = write_csv(table, paths.seed_spread)
    return csv, write_json({**record, "table_sha256": _sha256(csv)}, paths.seed_spread_record)


@dataclass(frozen=True)
class SpreadView:
    """What the appendix shows: a paragraph, and the table (``None`` when there is no spread to show)."""

    text: str
    table: pd.DataFrame | None = None
    data: pd.DataFrame | None = None
    caption: str = ""


def _absent(profile: str, why: str) -> SpreadView:
    return SpreadView(
        f"**Seed spread.** {why} `{SPREAD_COMMAND}` (or `ecrs spread --profile {profile} --seeds 3`) trains every network under "
        "3 training seeds on this cohort and split and writes `tables/seed_spread.csv`; the next build shows each headline metric's "
        "mean and range over the seeds here. It measures how far training randomness alone moves the numbers on one machine, the "
        "yardstick for a difference between two builds (two machines' float sums differ, and training amplifies such differences)."
    )


def _cell(row: pd.Series | None, k_all: int) -> str:
    if row is None:
        return "–"
    text = f"{fmt_num(row['mean'])} ({fmt_num(row['min'])}{CI_DASH}{fmt_num(row['max'])})"
    return text + (f", {int(row['k'])} of {k_all} seeds" if int(row["k"]) < k_all else "")


def seed_spread_view(paths: ResultPaths, *, record: Mapping[str, Any] | None = None, profile: str | None = None) -> SpreadView:
    """The seed spread beside this build's headline metrics, or a paragraph saying how to make it.

    Parameters
    ----------
    paths : ResultPaths
        This build's results (the spread table lies in its ``tables/``).
    record : mapping, optional
        This build's run record (``run_record.json``): its commit and parameters are compared with the spread's.
    profile : str, optional
        The profile, for the command shown when there is no spread (default: the record's, else ``demo``).
    """
    profile = profile or (record or {}).get("profile") or "demo"
    if not paths.seed_spread.exists():
        return _absent(profile, "This build has no seed spread.")
    made = json.loads(paths.seed_spread_record.read_text(encoding="utf-8")) if paths.seed_spread_record.exists() else {}
    if made.get("table_sha256") != _sha256(paths.seed_spread):
        return _absent(profile, f"`{paths.seed_spread.name}` has no matching record (`{paths.seed_spread_record.name}`): it was not finished.")
    spread = pd.read_csv(paths.seed_spread)
    k_all = len(made.get("seeds", [])) or int(spread["k"].max())
    rows = {(r["model"], r["set"], r["metric"]): r for _, r in spread.iterrows()}

    own = evidence_summary(paths.root).reset_index()
    shown, data = [], []
    for _, r in own.iterrows():
        auc, dice = rows.get((r["model"], r["set"], "AUC")), rows.get((r["model"], r["set"], "Dice"))
        line = {"model": label(r["model"]), "set": label(r["set"]), "AUC (95% CI), this build": fmt_ci(r["AUC"], r.get("CI low"), r.get("CI high")),
                f"AUC over {k_all} training seeds: mean (range)": _cell(auc, k_all), "AUC SD": fmt_num(auc["sd"]) if auc is not None else "–"}
        if "Dice" in own.columns and pd.notna(r.get("Dice")):
            line["Dice, this build"] = fmt_num(r["Dice"])
            line["Dice over seeds: mean (range)"] = _cell(dice, k_all)
        shown.append(line)
        data.append({"model": r["model"], "set": r["set"], "auc": r["AUC"], **{f"auc_{c}": (auc[c] if auc is not None else float("nan")) for c in ("k", "mean", "sd", "min", "max")}})
    table = pd.DataFrame(shown).fillna("").set_index(["model", "set"])
    cpu = made.get("cpu", "an unrecorded CPU")
    where = f"measured on {cpu} ({made.get('cpu_count', '?')} cores; torch {made.get('torch', '?')}, {made.get('cpu_capability', '?')} kernels)"
    commit = (made.get("git") or {}).get("commit") or "an unknown commit"
    dirty = " (with uncommitted changes)" if (made.get("git") or {}).get("dirty") else ""
    notes = []
    this_commit = ((record or {}).get("git") or {}).get("commit")
    if this_commit and this_commit != commit:
        notes.append(f"the spread was made at commit {commit[:10]}, this build at {this_commit[:10]}")
    if record is not None and _comparable(made.get("params", {})) != _comparable(record.get("params", {})):
        notes.append("the spread was made with other parameters than this build: re-run `" + SPREAD_COMMAND + "`")
    caption = (f"Each headline metric of this build beside its mean (min{CI_DASH}max) and SD over {k_all} training seeds "
               f"(offsets {', '.join(str(s) for s in made.get('seeds', []))}: `training_seed`; same cohort, split and preprocessed volumes), "
               f"{where}, commit {commit[:10]}{dirty}, `{made.get('command', SPREAD_COMMAND)}`."
               + (" **Note:** " + "; ".join(notes) + "." if notes else ""))
    text = ("**Seed spread.** Training randomness alone (weight initialisation, batch order, augmentation, CV folds, the SVM's shuffles) "
            "moves each headline metric over the range below, on the cohort and split of this build. It is the yardstick for a difference "
            "between two builds (for instance on two machines, whose float sums differ and whose training amplifies that): a difference "
            "inside the range is what training randomness alone gives; the table does not show how large the difference between machines is.")
    return SpreadView(text, table, pd.DataFrame(data), caption)


def _comparable(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in _NOT_HEADLINE}
