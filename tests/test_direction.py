"""The package's direction (issue 25): every import points down the layers, and no two rooms import each other.

A *room* is a sub-package of ``ecrs_analysis`` (``data``, ``report``, ...) or a top-level module
(``paths``, ``cli``, ...). :data:`LAYERS` lists them bottom to top; a module may import its own
room and the rooms of lower layers only, never a room of its own layer or above. Every import
counts, at module level, under ``if TYPE_CHECKING:`` and inside function bodies (a function-level
import is still a dependency; it only hides it from a reader). The checker reads the source with
``ast`` and imports nothing, so it also sees imports of optional heavy dependencies.

The README's ``## Layout`` section states the same table.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "ecrs_analysis"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE

LAYERS: tuple[tuple[str, ...], ...] = (
    ("atomic", "hashing", "checkout", "settings_base"),  # base modules: files, hashes, the checkout, the settings' rule helper
    ("paths",),  # base: every artefact's path (finds the checkout)
    ("stats", "models"),  # domain rooms with no room below them
    ("data",),  # cohorts, images, splits, preprocessing (uses stats)
    ("training", "modelling", "omics"),  # what is fitted on the data
    ("explain",),  # explanations of the trained networks
    ("config",),  # the profile's schema: composes the domain rooms' settings models
    ("plotting",),  # figures
    ("report",),  # what the book shows
    ("jobs",),  # the bodies of the workflow's rules
    ("pipeline",),  # the engine
    ("cli",),  # the command line
)

# Temporary exemptions, by the importing file (relative to src/ecrs_analysis) and the imported room.
ALLOWED: Mapping[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Edge:
    """One import of one room by another."""

    source: str  # file, relative to the package folder
    line: int
    source_room: str
    target_room: str
    target: str  # the imported module (or package.name)

    def where(self) -> str:
        return f"{self.source}:{self.line}"


def _module_parts(path: Path, root: Path) -> tuple[list[str], bool]:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    is_package = parts[-1] == "__init__"
    return (parts[:-1] if is_package else parts), is_package


def _room(module: str, package: str) -> str | None:
    """``ecrs_analysis.data.study`` -> ``data``; the package itself -> ``""``; another package -> None."""
    parts = module.split(".")
    if parts[0] != package:
        return None
    return parts[1] if len(parts) > 1 else ""


def imports_of(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """Every ``(line, module)`` a file imports, anywhere in it (function bodies included), relative imports resolved."""
    parts, is_package = _module_parts(path, root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts if is_package else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module == root.name:  # ``from ecrs_analysis import data``: the names are the rooms
                for alias in node.names:
                    yield node.lineno, f"{module}.{alias.name}"
            else:
                yield node.lineno, module


def edges(root: Path) -> list[Edge]:
    """Every import between two different rooms of the package under ``root``."""
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        parts, _ = _module_parts(path, root)
        source_room = parts[1] if len(parts) > 1 else ""
        for line, module in imports_of(path, root):
            target_room = _room(module, root.name)
            if target_room is None or target_room in ("", source_room):
                continue
            out.append(Edge(rel, line, source_room, target_room, module))
    return out


def layer_of(layers: Sequence[Sequence[str]]) -> dict[str, int]:
    return {room: i for i, rooms in enumerate(layers) for room in rooms}


def rooms_of(root: Path) -> set[str]:
    return {p.relative_to(root).parts[0].removesuffix(".py") for p in root.glob("*") if p.suffix == ".py" or (p / "__init__.py").is_file()} - {"__init__", "__main__"}


def upward(found: Sequence[Edge], layers: Sequence[Sequence[str]], allowed: Mapping[tuple[str, str], str] = {}) -> list[str]:
    """One line per import of a room at the importer's layer or above (``file:line``), except ``allowed``."""
    level = layer_of(layers)
    bad = []
    for e in found:
        if (e.source, e.target_room) in allowed:
            continue
        if e.source_room not in level or e.target_room not in level:
            missing = e.source_room if e.source_room not in level else e.target_room
            bad.append(f"{e.where()}: room {missing!r} is in no layer; add it to LAYERS (tests/test_direction.py) and the README's layout table")
        elif level[e.target_room] >= level[e.source_room]:
            how = "its own layer" if level[e.target_room] == level[e.source_room] else "a higher layer"
            bad.append(f"{e.where()}: {e.source_room} imports {e.target} ({e.target_room}, {how}); a room imports only rooms below it")
    return bad


def cycles(found: Sequence[Edge], allowed: Mapping[tuple[str, str], str] = {}) -> list[str]:
    """One line per set of rooms that import each other (a strongly connected component), with the imports that close it."""
    graph: dict[str, set[str]] = {}
    for e in found:
        if (e.source, e.target_room) not in allowed:
            graph.setdefault(e.source_room, set()).add(e.target_room)
            graph.setdefault(e.target_room, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components (a room graph has a few dozen nodes)
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    out = []
    for comp in components:
        within = [e for e in found if e.source_room in comp and e.target_room in comp and (e.source, e.target_room) not in allowed]
        out.append(f"rooms {', '.join(sorted(comp))} import each other: " + "; ".join(f"{e.where()} -> {e.target}" for e in within))
    return out


def test_every_room_has_a_layer() -> None:
    level = layer_of(LAYERS)
    assert sum(len(r) for r in LAYERS) == len(level), "a room is listed twice in LAYERS"
    assert sorted(rooms_of(SRC) - set(level)) == [], "rooms of src/ecrs_analysis missing from LAYERS"
    assert sorted(set(level) - rooms_of(SRC)) == [], "LAYERS names rooms that no longer exist"


def test_imports_point_down_the_layers() -> None:
    bad = upward(edges(SRC), LAYERS, ALLOWED)
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_two_rooms_import_each_other() -> None:
    bad = cycles(edges(SRC), ALLOWED)
    assert not bad, "\n".join(bad)


def test_exemptions_are_still_needed() -> None:
    used = {(e.source, e.target_room) for e in edges(SRC)}
    assert sorted(set(ALLOWED) - used) == [], "an exemption of ALLOWED matches no import any more: delete it"


def _package(tmp_path: Path, files: Mapping[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


LOW, HIGH = ("low",), ("high",)


def test_the_checker_finds_a_planted_upward_import_inside_a_function(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "low/__init__.py": "",
        "low/a.py": "import os\n\n\ndef f():\n    from pkg.high.b import g  # hidden in a function\n    return g\n",
        "high/__init__.py": "",
        "high/b.py": "from pkg.low.a import f\n\n\ndef g():\n    return f\n",
    })
    found = edges(root)
    assert sorted((e.source, e.line, e.target_room) for e in found) == [("high/b.py", 1, "low"), ("low/a.py", 5, "high")]
    assert upward(found, (LOW, HIGH)) == ["low/a.py:5: low imports pkg.high.b (high, a higher layer); a room imports only rooms below it"]
    assert cycles(found) == ["rooms high, low import each other: high/b.py:1 -> pkg.low.a; low/a.py:5 -> pkg.high.b"]
    assert upward(found, (LOW, HIGH), {("low/a.py", "high"): "planted"}) == []


def test_the_checker_resolves_relative_imports_type_checking_and_package_imports(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "base.py": "",
        "low/__init__.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from ..high import b\n",
        "low/sub/__init__.py": "",
        "low/sub/c.py": "from ... import high\nfrom ...low import a\nfrom .. import sub\nfrom . import d\n",
        "low/a.py": "",
        "high/__init__.py": "",
        "high/b.py": "from .. import base\nfrom pkg import low\n",
    })
    found = {(e.source, e.line, e.target_room, e.target) for e in edges(root)}
    assert found == {
        ("low/__init__.py", 4, "high", "pkg.high"),
        ("low/sub/c.py", 1, "high", "pkg.high"),
        ("high/b.py", 1, "base", "pkg.base"),
        ("high/b.py", 2, "low", "pkg.low"),
    }
    bad = upward(edges(root), (("base",), LOW, HIGH))
    assert [b.split(":")[0] + ":" + b.split(":")[1] for b in bad] == ["low/__init__.py:4", "low/sub/c.py:1"]


def test_a_peer_of_the_same_layer_and_an_unknown_room_fail(tmp_path: Path) -> None:
    root = _package(tmp_path, {"__init__.py": "", "x/__init__.py": "import pkg.y\n", "y/__init__.py": "", "z.py": "from pkg import x\n"})
    bad = upward(edges(root), (("x", "y"),))
    assert bad == [
        "x/__init__.py:1: x imports pkg.y (y, its own layer); a room imports only rooms below it",
        "z.py:1: room 'z' is in no layer; add it to LAYERS (tests/test_direction.py) and the README's layout table",
    ]


@pytest.mark.parametrize("room", ["data", "models", "training", "stats", "explain", "omics", "modelling"])
def test_domain_rooms_sit_below_config_and_the_book(room: str) -> None:
    level = layer_of(LAYERS)
    assert level[room] < min(level[r] for r in ("config", "plotting", "report", "jobs", "pipeline", "cli"))
