"""The parameters one job declared, as the schema's typed models: the one place a job's parameters are parsed.

A workflow rule declares the dotted keys its job reads (``pipeline.workflow.STAGE_PARAMS``,
e.g. ``("seed", "deep.width", "studies.li2025.split")``). :func:`declared_model` builds, from
:class:`~ecrs_analysis.config.schema.Params`, a model holding exactly those keys: a key that
names a whole section keeps the schema's own model (``SplitSettings``, ``MTLNetSettings``,
with their validators and methods); a key inside a section keeps the schema's type and
constraints of that field; the sections around them hold nothing else. So a job that reads
a key it did not declare fails (``AttributeError``) instead of silently using a value, and no
default exists outside the schema.

:func:`fingerprint` is the parameter fingerprint of a job: the canonical JSON of its declared
model, which the rule passes as its ``params`` (Snakemake re-runs the job when it changes)
and the job parses back with :func:`parse_declared`.
"""

from __future__ import annotations

import copy
import inspect
import json
import typing
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model
from pydantic_core import PydanticUndefined

from ecrs_analysis.config.schema import Params

__all__ = ["select", "declared_model", "declared", "parse_declared", "fingerprint"]


def select(params: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The nested subset of ``params`` named by dotted ``keys`` (``"studies.li2025.split"``).

    Raises
    ------
    KeyError
        Naming the dotted key that the parameters do not have.
    """
    out: dict[str, Any] = {}
    for dotted in keys:
        node: Any = params
        parts = dotted.split(".")
        for i, part in enumerate(parts):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"parameter {'.'.join(parts[: i + 1])!r} (needed as {dotted!r}) is not in the parameters")
            node = node[part]
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = node
    return out


def _section(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (also through ``Model | None``)."""
    for t in (annotation, *typing.get_args(annotation)):
        if inspect.isclass(t) and issubclass(t, BaseModel):
            return t
    return None


def _tree(keys: Iterable[str]) -> dict[str, Any]:
    """Dotted keys -> nested dict; ``None`` marks a key declared whole (it covers any key below it)."""
    tree: dict[str, Any] = {}
    for dotted in keys:
        node = tree
        parts = dotted.split(".")
        for part in parts[:-1]:
            if node.get(part, {}) is None:  # an enclosing section is declared whole already
                break
            node = node.setdefault(part, {})
        else:
            node[parts[-1]] = None
    return tree


def _required(field: Any) -> Any:
    """The schema's field (type, constraints) without its default: a declared key must be handed over."""
    out = copy.copy(field)
    out.default = PydanticUndefined
    out.default_factory = None
    return out


def _build(model: type[BaseModel], tree: Mapping[str, Any], name: str, where: str) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for key, sub in tree.items():
        dotted = f"{where}.{key}".lstrip(".")
        field = model.model_fields.get(key)
        if field is None:
            raise KeyError(f"parameter {dotted!r} is not in the schema (ecrs_analysis.config.schema); allowed here: {', '.join(model.model_fields)}")
        if sub is None:
            fields[key] = (field.annotation, _required(field))
            continue
        inner = _section(field.annotation)
        if inner is None:
            raise KeyError(f"parameter {dotted!r} is a value, not a section: declare {dotted!r} itself")
        fields[key] = (_build(inner, sub, f"{name}_{key}", dotted), ...)
    config = ConfigDict(extra="forbid", frozen=True, strict=bool(model.model_config.get("strict", False)))
    return create_model(name, __config__=config, **fields)


@cache
def _model(keys: tuple[str, ...]) -> type[BaseModel]:
    return _build(Params, _tree(keys), "Declared", "")


def declared_model(keys: Iterable[str]) -> type[BaseModel]:
    """The model of the parameters named by dotted ``keys``: the schema's types, nothing undeclared.

    Raises
    ------
    KeyError
        For a key the schema does not have.
    """
    return _model(tuple(sorted(set(keys))))


def declared(params: Mapping[str, Any], keys: Iterable[str]) -> BaseModel:
    """The declared part of validated ``params`` as the schema's models (see :func:`declared_model`)."""
    keys = tuple(keys)
    return declared_model(keys).model_validate(select(params, keys))


def parse_declared(text: str, keys: Iterable[str]) -> BaseModel:
    """A job's parameters (the JSON its rule passed, :func:`fingerprint`) as the declared model.

    Raises
    ------
    pydantic.ValidationError
        When the JSON lacks a declared key or holds an undeclared one.
    """
    return declared_model(keys).model_validate_json(text)


def fingerprint(params: Mapping[str, Any], keys: Iterable[str]) -> str:
    """The parameter fingerprint of a job: canonical JSON of its declared models' ``model_dump(mode="json")``.

    A rule passes it as its ``params``: changing a declared key changes the fingerprint of
    exactly the jobs that declare it (Snakemake re-runs them), any other key changes none.
    """
    dumped = declared(params, keys).model_dump(mode="json")
    return json.dumps(dumped, sort_keys=True, separators=(",", ":"))
