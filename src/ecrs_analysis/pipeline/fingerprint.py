"""Code fingerprints: which package modules a stage runs, and a hash of their source.

A workflow rule passes ``code_fingerprint(...)`` as a parameter, so Snakemake's params
rerun trigger re-runs the stage when — and only when — code it imports changes. The
import closure is found by reading the modules' ``import`` statements (``ast``), not by
importing them: computing a fingerprint never runs torch or MONAI.

Model modules are deliberately *not* reached through the registry (it imports them
lazily by name), so that editing ``models/xception3d.py`` changes the fingerprint of the
Xception training jobs only.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from ecrs_analysis.pipeline.record import package_versions

__all__ = ["module_closure", "code_fingerprint", "notebook_modules", "software_versions"]

PACKAGE = "ecrs_analysis"


@cache
def _package_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


@cache
def _source(module: str) -> Path | None:
    """The source file of a package module, found on disk (nothing is imported)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = _package_dir().joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _stamp(path: Path) -> tuple[str, int, int]:
    """What identifies a version of a file within one process: its path, modification time and size."""
    st = path.stat()
    return str(path), st.st_mtime_ns, st.st_size


def _imports(path: Path, module: str) -> frozenset[str]:
    """Package modules imported by one source file (absolute and relative imports).

    Parsed once per version of the file: the Snakefile asks for the closures of many rules,
    which share most of their modules.
    """
    return _imports_of(_stamp(path), module)


@cache
def _digest(stamp: tuple[str, int, int]) -> bytes:
    return hashlib.sha256(Path(stamp[0]).read_bytes()).digest()


@cache
def _imports_of(stamp: tuple[str, int, int], module: str) -> frozenset[str]:
    path = Path(stamp[0])
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base[: len(base) - (node.level - 1)]
                target = ".".join(parent + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            found.add(target)
            for a in node.names:  # ``from pkg import module``
                if _source(f"{target}.{a.name}") is not None:
                    found.add(f"{target}.{a.name}")
    # a module's parent packages run their __init__ on import
    for m in list(found):
        parts = m.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return frozenset(found)


def module_closure(modules: Iterable[str], *, ignore: Iterable[str] = ()) -> tuple[str, ...]:
    """Every package module reached by importing ``modules`` (sorted), not entering ``ignore``."""
    seen: set[str] = set(ignore)
    start = set(seen)
    todo = list(modules)
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        path = _source(m)
        if path is None:
            continue
        seen.add(m)
        todo.extend(_imports(path, m) - seen)
    return tuple(sorted(seen - start))


def code_fingerprint(*modules: str, ignore: Iterable[str] = (), length: int = 16) -> str:
    """sha256 over the source of every module in the import closure of ``modules``.

    ``ignore`` names modules left out of the closure (e.g. the other networks of the
    model registry, for a job that trains one of them).
    """
    h = hashlib.sha256()
    for m in module_closure(modules, ignore=ignore):
        path = _source(m)
        assert path is not None
        h.update(m.encode())
        h.update(_digest(_stamp(path)))
    return h.hexdigest()[:length]


def notebook_modules(path: str | Path) -> tuple[str, ...]:
    """Package modules that a notebook's code cells import.

    The notebook is read as the JSON it is (nbformat 4: a cell's ``source`` is a string or a list
    of lines): nbformat's validator would import jsonschema, seconds of every workflow parse.
    """
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    found: set[str] = set()
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        try:
            tree = ast.parse("\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names if _source(f"{node.module}.{a.name}") is not None)
    return tuple(sorted(found))


def software_versions(*names: str) -> dict[str, str | None]:
    """Installed versions of the distributions a stage's results depend on."""
    return package_versions(tuple(names))
