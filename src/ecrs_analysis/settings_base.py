"""What every section model of ``params/<profile>.yaml`` shares: strict fields and rules reported per key.

Each domain room owns the model of its own section (``data.settings``, ``stats.settings``,
``training.settings``, ...); ``config.schema`` composes them into the whole profile. They all
build on :class:`Section` and raise broken rules through :func:`problems`, which
``config.params`` turns into one line per offending dotted key. A base module (below the
domain rooms), so that no domain room imports ``config``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

__all__ = ["RULE_ERROR", "Section", "problems", "duplicates"]

RULE_ERROR = "ecrs_rules"


def problems(issues: list[tuple[str, str]]) -> None:
    """Raise every broken rule of one model at once: ``[(key relative to the model, what is wrong), ...]``."""
    if issues:
        text = "; ".join(f"{k}: {m}" for k, m in issues)
        raise PydanticCustomError(RULE_ERROR, "{text}", {"text": text, "issues": issues})


def duplicates(values: list[Any]) -> list[Any]:
    """The values listed more than once, sorted."""
    return sorted({v for v in values if values.count(v) > 1}, key=str)


class Section(BaseModel):
    """A section of the parameters: unknown keys and silent conversions are errors."""

    model_config = ConfigDict(extra="forbid", strict=True)
