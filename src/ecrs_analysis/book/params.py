"""Profile parameters: ``params/<profile>.yaml`` plus ``--set key=value`` overrides, checked in one place."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ecrs_analysis.data.synth.cohort import DESIGNS

__all__ = ["ParamsError", "PROFILES", "params_dir", "load_params", "notebook_params", "apply_overrides", "parse_set", "validate_params"]

PROFILES = ("smoke", "demo", "full")


class ParamsError(ValueError):
    """Parameters that cannot be used; the message names the key."""


def params_dir() -> Path:
    """The ``params/`` folder of the checkout (override with ``ECRS_PARAMS_DIR``)."""
    env = os.environ.get("ECRS_PARAMS_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "params" / "smoke.yaml").exists():
            return parent / "params"
    raise ParamsError("cannot find the params/ folder; run from the ecrs-book checkout or set ECRS_PARAMS_DIR")


def parse_set(items: list[str]) -> dict[str, Any]:
    """``["a.b=1", "c=[1, 2]"]`` -> ``{"a.b": 1, "c": [1, 2]}`` (values parsed as YAML)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParamsError(f"--set {item!r}: expected key=value, e.g. seed=7 or studies.li2025.synthetic.n_patients=200")
        out[key.strip()] = yaml.safe_load(value)
    return out


def apply_overrides(params: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of ``params`` with dotted-key overrides applied; an unknown key is an error."""
    out = copy.deepcopy(dict(params))
    for dotted, value in overrides.items():
        node: Any = out
        parts = dotted.split(".")
        for i, part in enumerate(parts[:-1]):
            if not isinstance(node, dict) or part not in node:
                raise ParamsError(f"unknown parameter {'.'.join(parts[: i + 1])!r} in --set {dotted}")
            node = node[part]
        if not isinstance(node, dict) or parts[-1] not in node:
            raise ParamsError(f"unknown parameter {dotted!r}; known here: {sorted(node) if isinstance(node, dict) else []}")
        node[parts[-1]] = value
    return out


def _need(cond: bool, key: str, what: str) -> None:
    if not cond:
        raise ParamsError(f"parameter {key}: {what}")


def validate_params(p: Mapping[str, Any]) -> None:
    """Check types and ranges of every parameter the package reads."""
    _need(isinstance(p.get("seed"), int), "seed", "must be an integer")
    _need(isinstance(p.get("n_jobs"), int) and p["n_jobs"] >= 1, "n_jobs", "must be an integer >= 1")
    st = p.get("stats", {})
    _need(isinstance(st.get("n_resamples"), int) and st["n_resamples"] >= 100, "stats.n_resamples", "must be an integer >= 100")
    _need(isinstance(st.get("roc_band_resamples"), int) and st["roc_band_resamples"] >= 20, "stats.roc_band_resamples", "must be an integer >= 20")
    _need(0 < float(st.get("alpha", 0)) < 1, "stats.alpha", "must be between 0 and 1")
    _need(st.get("threshold_rule") in ("youden", "sensitivity", "specificity"), "stats.threshold_rule", "must be youden, sensitivity or specificity")
    deep = p.get("deep", {})
    _need(isinstance(deep.get("models"), list) and deep["models"], "deep.models", "must be a non-empty list of model names")
    _need(isinstance(deep.get("folds"), int) and deep["folds"] >= 2, "deep.folds", "must be an integer >= 2")
    _need(isinstance(deep.get("epochs"), int) and deep["epochs"] >= 1, "deep.epochs", "must be an integer >= 1")
    _need(float(deep.get("width", 0)) > 0, "deep.width", "must be > 0")
    studies = p.get("studies")
    _need(isinstance(studies, dict) and bool(studies), "studies", "must map study names to settings")
    for name, s in studies.items():  # type: ignore[union-attr]
        k = f"studies.{name}"
        _need(name in DESIGNS, k, f"unknown study; valid: {sorted(DESIGNS)}")
        _need(s.get("manifest") is None or isinstance(s["manifest"], str), f"{k}.manifest", "must be a path or null")
        if s.get("manifest"):
            _need(Path(s["manifest"]).is_file(), f"{k}.manifest", f"file {s['manifest']} not found")
        if s.get("dictionary"):
            _need(Path(s["dictionary"]).is_file(), f"{k}.dictionary", f"file {s['dictionary']} not found")
        _need(isinstance(s.get("centers"), list) and s["centers"], f"{k}.centers", "must be a non-empty list")
        syn = s.get("synthetic", {})
        _need(isinstance(syn.get("n_patients"), int) and syn["n_patients"] >= 20, f"{k}.synthetic.n_patients", "must be an integer >= 20")
        _need(isinstance(syn.get("spacing_scale"), (int, float)) and syn["spacing_scale"] > 0, f"{k}.synthetic.spacing_scale", "must be > 0")
        split = s.get("split", {})
        _need(split.get("mode") in ("random", "center", "temporal"), f"{k}.split.mode", "must be random, center or temporal")
        for frac in ("internal_fraction", "validation_fraction"):
            if frac in split:
                _need(0 < float(split[frac]) < 1, f"{k}.split.{frac}", "must be between 0 and 1")
        pre = s.get("preprocess", {})
        _need(len(pre.get("spacing_mm", [])) == 3 and all(float(x) > 0 for x in pre["spacing_mm"]), f"{k}.preprocess.spacing_mm", "must be three positive numbers")
        _need(len(pre.get("input_size", [])) == 3 and all(int(x) >= 8 for x in pre["input_size"]), f"{k}.preprocess.input_size", "must be three integers >= 8")
        hw = pre.get("hu_window", [])
        _need(len(hw) == 2 and hw[0] < hw[1], f"{k}.preprocess.hu_window", "must be [low, high] with low < high")


def load_params(profile: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Parameters of a profile with overrides applied and validated; ``profile`` is stored in them."""
    path = params_dir() / f"{profile}.yaml"
    if not path.exists():
        raise ParamsError(f"unknown profile {profile!r}; valid profiles: {list(PROFILES)} ({path} not found)")
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params = apply_overrides(params, overrides or {})
    validate_params(params)
    params["profile"] = profile
    return params


def notebook_params(profile: str, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The parameters a notebook works with.

    The workflow injects ``config``: exactly the parameters the chapter declares it uses
    (so nothing undeclared can change its numbers). Opened by hand in Jupyter, a notebook
    has ``config = None`` and gets the whole validated profile instead.
    """
    if config is not None:
        out = copy.deepcopy(dict(config))
        out.setdefault("profile", profile)
        return out
    return load_params(profile)
