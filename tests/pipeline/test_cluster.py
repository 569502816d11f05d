"""Cluster profiles: Snakemake's option names, checked in one place with messages that name the key."""

from pathlib import Path

import pytest
import yaml

from ecrs_analysis.pipeline.cluster import ClusterProfileError, read_cluster_profile

ROOT = Path(__file__).resolve().parents[2]


def _profile(tmp_path, **content):
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(content))
    return p


def test_the_shipped_profile_reads_with_per_rule_resources_threads_and_plugin_settings():
    c = read_cluster_profile(ROOT / "workflow" / "profiles" / "slurm.yaml")
    assert c.executor == "slurm" and c.jobs == 30
    assert c.set_resources["train_fold"]["slurm_partition"] == "gpu" and c.set_threads["cohort"] == 8
    assert c.plugin_settings == {"requeue": True}


def test_resource_settings_reach_snakemake_parsed(tmp_path):
    c = read_cluster_profile(_profile(tmp_path, **{"default-resources": {"slurm_account": "lab", "mem_mb": 4000}, "set-resources": {"train_fold": {"gres": "gpu:a100:1", "mem_mb": 32000}}, "set-threads": {"cohort": 4}, "executor-settings": {"init-seconds-before-status-checks": 5}}))
    rs = c.resource_settings(cores=2, nodes=4)
    assert rs.nodes == 4 and rs._parsed_overwrite_threads["cohort"].value == 4
    train = rs._parsed_overwrite_resources["train_fold"]
    assert train["mem_mb"].value == 32000 and rs._parsed_default_resources["mem_mb"].value == 4000
    # strings are quoted expressions, evaluated per job as Snakemake's --set-resources does (the dry run shows them)
    assert train["gres"].is_evaluable() and rs._parsed_default_resources["slurm_account"].is_evaluable()
    assert c.plugin_settings == {"init_seconds_before_status_checks": 5}  # dashes as on the command line


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"partition": "gpu"}, r"unknown key\(s\) \['partition'\]; allowed: executor, jobs, default-resources, set-resources"),
        ({"jobs": "30"}, "jobs must be a positive integer, got '30'"),
        ({"set-threads": {"cohort": 0}}, r"set-threads must give each rule a positive integer, got \{'cohort': 0\}"),
        ({"set-resources": {"train_fold": "gpu"}}, "set-resources.train_fold must be a mapping"),
    ],
)
def test_a_wrong_profile_is_refused_naming_file_and_key(tmp_path, content, message):
    with pytest.raises(ClusterProfileError, match=message) as e:
        read_cluster_profile(_profile(tmp_path, **content))
    assert str(tmp_path / "p.yaml") in str(e.value)


def test_a_wrong_plugin_setting_is_one_clear_message(tmp_path, monkeypatch):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="the SLURM executor plugin is not installed")
    from ecrs_analysis.pipeline.runner import RunError, RunOptions, run_book

    monkeypatch.chdir(ROOT)
    p = _profile(tmp_path, executor="slurm", **{"executor-settings": {"no_such_setting": 1}})
    with pytest.raises(RunError, match="executor-settings of the cluster profile.*no_such_setting"):
        run_book(RunOptions(profile="smoke", dry_run=True, results_dir=tmp_path / "r", cluster_profile=p))
