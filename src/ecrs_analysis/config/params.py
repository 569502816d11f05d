"""Profile parameters: ``params/<profile>.yaml`` plus ``--set key=value`` overrides, checked in one place.

The checking is :class:`ecrs_analysis.config.schema.Params`; this module reads the files, applies
the overrides and turns every schema error into one line naming the dotted key, the value
and what is allowed, all reported together before anything runs.
"""

from __future__ import annotations

import copy
import inspect
import os
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ecrs_analysis.checkout import CheckoutError, checkout_root
from ecrs_analysis.config.schema import RULE_ERROR, Params

__all__ = ["ParamsError", "PROFILES", "params_dir", "load_params", "notebook_params", "apply_overrides", "parse_set", "validate_params", "params_model"]

PROFILES = ("smoke", "demo", "full")


class ParamsError(ValueError):
    """Parameters that cannot be used; the message names every offending key."""


class _Loader(yaml.SafeLoader):
    """Safe YAML with YAML 1.2 numbers (PyYAML reads ``1e-4``, without a dot, as a string) and dates
    left as text, so that the schema, not PyYAML, judges them (``2024-13-01`` gets a clear message)."""


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"] for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+|\.[0-9_]+(?:[eE][-+]?[0-9]+)?)$"),
    list("-+0123456789."),
)


def params_dir() -> Path:
    """The ``params/`` folder of the checkout the command runs in (override with ``ECRS_PARAMS_DIR``)."""
    env = os.environ.get("ECRS_PARAMS_DIR")
    if env:
        if not Path(env).is_dir():
            raise ParamsError(f"ECRS_PARAMS_DIR={env} is not a folder")
        return Path(env)
    try:
        return checkout_root() / "params"
    except CheckoutError as exc:
        raise ParamsError(f"{exc}, or set ECRS_PARAMS_DIR") from None


def parse_set(items: list[str]) -> dict[str, Any]:
    """``["a.b=1", "c=[1, 2]"]`` -> ``{"a.b": 1, "c": [1, 2]}`` (values parsed as YAML)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParamsError(f"--set {item!r}: expected key=value, e.g. seed=7 or studies.li2025.synthetic.n_patients=200")
        try:
            out[key.strip()] = yaml.load(value, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise ParamsError(f"--set {item!r}: the value is not valid YAML ({exc.problem if hasattr(exc, 'problem') else exc})") from None
    return out


def apply_overrides(params: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of ``params`` with dotted-key overrides applied (the schema then rejects unknown keys)."""
    out = copy.deepcopy(dict(params))
    for dotted, value in overrides.items():
        node: Any = out
        parts = dotted.split(".")
        for i, part in enumerate(parts[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ParamsError(f"--set {dotted}: parameter {'.'.join(parts[: i + 1])!r} is a value ({node!r}), not a section")
        node[parts[-1]] = value
    return out


def _key(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _join(key: str, sub: str) -> str:
    """``key`` extended by a rule's relative key ('', '[0]' or 'a.b')."""
    return key + sub if not sub or sub.startswith("[") or not key else f"{key}.{sub}"


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()
    return text if len(text) <= 80 else text[:77] + "..."


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (also through ``Model | None``)."""
    for t in (annotation, *typing.get_args(annotation)):
        if inspect.isclass(t) and issubclass(t, BaseModel):
            return t
    return None


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] | None = Params
    for part in loc[:-1]:
        field = model.model_fields.get(part) if model else None
        model = _section_model(field.annotation) if field else None
    return list(model.model_fields) if model else []


_TYPES = {
    "int": "an integer", "float": "a number", "string": "a text", "bool": "true or false", "list": "a list like [a, b]",
    "dict": "a section of key: value lines", "model": "a section of key: value lines", "date": "a date like 2024-03-01",
}
_BOUNDS = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="), "less_than": ("lt", "<"), "less_than_equal": ("le", "<=")}


def _lines(err: Mapping[str, Any]) -> list[str]:
    """One pydantic error -> our message line(s): ``key: what is allowed, got value``."""
    kind, loc, ctx = err["type"], tuple(err["loc"]), err.get("ctx") or {}
    key, got = _key(loc), _show(err.get("input"))
    if kind == RULE_ERROR:
        return [f"{_join(key, sub)}: {msg}" for sub, msg in ctx["issues"]]
    if kind == "extra_forbidden":
        return [f"unknown parameter {key!r} (= {got}); allowed here: {', '.join(_allowed_keys(loc))}"]
    if kind == "missing":
        return [f"{key}: missing; every profile sets it (see params/smoke.yaml)"]
    if kind == "literal_error":
        return [f"{key}: must be {ctx['expected']}, got {got}"]
    if kind in _BOUNDS:
        name, sign = _BOUNDS[kind]
        return [f"{key}: must be {sign} {ctx[name]}, got {got}"]
    if kind in ("too_short", "too_long"):
        bound = f"at least {ctx['min_length']}" if kind == "too_short" else f"at most {ctx['max_length']}"
        return [f"{key}: must have {bound} item(s), got {got}"]
    if kind == "value_error":
        return [f"{key}: {ctx.get('error', err['msg'])}"]
    base = kind.split("_")[0]
    if base in _TYPES:
        return [f"{key}: must be {_TYPES[base]}, got {got}"]
    return [f"{key}: {err['msg'].lower()}, got {got}"]


def validate_params(params: Mapping[str, Any], *, source: str = "the parameters") -> dict[str, Any]:
    """Check ``params`` against the schema; returns them as a plain dict with defaults filled in.

    Raises
    ------
    ParamsError
        Listing every problem, one line per key.
    """
    try:
        return Params.model_validate(dict(params)).model_dump(mode="json")
    except ValidationError as exc:
        lines = [ln for err in exc.errors() for ln in _lines(err)]
        raise ParamsError(f"{len(lines)} problem(s) in {source}:\n  - " + "\n  - ".join(lines)) from None


def load_params(profile: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Parameters of a profile with overrides applied and validated; ``profile`` is stored in them."""
    path = params_dir() / f"{profile}.yaml"
    if not path.exists():
        raise ParamsError(f"unknown profile {profile!r}; valid profiles: {list(PROFILES)} ({path} not found)")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path} must hold sections of key: value lines (seed, n_jobs, stats, deep, studies)")
    source = f"{path}" + (f" with --set {', '.join(f'{k}={_show(v)}' for k, v in overrides.items())}" if overrides else "")
    params = validate_params(apply_overrides(raw, overrides or {}), source=source)
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


def params_model(params: Mapping[str, Any]) -> Params:
    """The typed :class:`Params` of a loaded parameter dict (:func:`load_params`; the ``profile`` it stores is not a parameter).

    Raises
    ------
    ParamsError
        Listing every problem, one line per key (a dict changed after loading, e.g. by ``ecrs validate --centers``).
    """
    return Params.model_validate(validate_params({k: v for k, v in params.items() if k != "profile"}))
