"""A cluster profile (``--cluster-profile workflow/profiles/slurm.yaml``), read and checked in one place.

The keys are Snakemake's own option names, so a site's existing Snakemake knowledge carries over::

    executor: slurm
    jobs: 30                       # jobs submitted at once
    default-resources: {slurm_account: lab, slurm_partition: cpu, runtime: 120, mem_mb: 8000}
    set-resources:                 # per rule (a GPU partition and the site's GPU form for training)
      train_fold: {slurm_partition: gpu, gres: "gpu:1", cpus_per_task: 8, mem_mb: 32000}
    set-threads: {cohort: 8, preprocess: 8}
    executor-settings: {requeue: true}   # the executor plugin's settings (its --slurm-... options)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ClusterProfileError", "ClusterSettings", "read_cluster_profile"]

KEYS = ("executor", "jobs", "default-resources", "set-resources", "set-threads", "executor-settings")


class ClusterProfileError(ValueError):
    """A cluster profile that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ClusterSettings:
    """What a cluster profile sets; the empty default is a plain local run."""

    executor: str | None = None
    jobs: int | None = None
    default_resources: Mapping[str, Any] = field(default_factory=dict)
    set_resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    set_threads: Mapping[str, int] = field(default_factory=dict)
    plugin_settings: Mapping[str, Any] = field(default_factory=dict)

    def resource_settings(self, *, cores: int, nodes: int | None) -> Any:
        """Snakemake's ``ResourceSettings`` for these settings (resources parsed as Snakemake's CLI does)."""
        from snakemake.resources import Resources
        from snakemake.settings.types import ResourceSettings

        def parse(values: Mapping[str, Any], **kw: Any) -> Any:
            exprs = [f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in values.items()]
            return Resources.parse(exprs, allow_expressions=True, **kw)

        return ResourceSettings(
            # on a cluster, the local core count caps only the jobs run here (the book), never a job's threads
            cores=cores if nodes is None else None,
            local_cores=cores,
            nodes=nodes,
            default_resources=parse(self.default_resources, defaults="full") if self.default_resources else None,
            overwrite_resources={rule: parse(res) for rule, res in self.set_resources.items()},
            overwrite_threads=dict(self.set_threads),
        )


def _mapping(path: Path, key: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ClusterProfileError(f"cluster profile {path}: {key} must be a mapping (name: value), got {value!r}")
    return value


def read_cluster_profile(path: str | Path) -> ClusterSettings:
    """Read and check a cluster profile.

    Raises
    ------
    ClusterProfileError
        On an unreadable file, an unknown key, or a value of the wrong form; the message
        names the file and the key.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ClusterProfileError(f"cluster profile {path}: cannot read it ({exc})") from None
    if not isinstance(raw, dict):
        raise ClusterProfileError(f"cluster profile {path}: expected a mapping of {', '.join(KEYS)}")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ClusterProfileError(f"cluster profile {path}: unknown key(s) {unknown}; allowed: {', '.join(KEYS)}")
    jobs = raw.get("jobs")
    if jobs is not None and (not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1):
        raise ClusterProfileError(f"cluster profile {path}: jobs must be a positive integer, got {jobs!r}")
    set_resources = _mapping(path, "set-resources", raw.get("set-resources"))
    for rule, res in set_resources.items():
        _mapping(path, f"set-resources.{rule}", res)
    threads = _mapping(path, "set-threads", raw.get("set-threads"))
    bad = {r: t for r, t in threads.items() if not isinstance(t, int) or isinstance(t, bool) or t < 1}
    if bad:
        raise ClusterProfileError(f"cluster profile {path}: set-threads must give each rule a positive integer, got {bad}")
    plugin = {str(k).replace("-", "_"): v for k, v in _mapping(path, "executor-settings", raw.get("executor-settings")).items()}
    return ClusterSettings(
        executor=raw.get("executor"),
        jobs=jobs,
        default_resources=_mapping(path, "default-resources", raw.get("default-resources")),
        set_resources={str(r): dict(v) for r, v in set_resources.items()},
        set_threads={str(r): int(t) for r, t in threads.items()},
        plugin_settings=plugin,
    )
