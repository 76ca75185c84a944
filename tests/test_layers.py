"""The layer rule and the absence of import cycles, read from the source with ast only.

Every import counts: at module level, inside functions and under TYPE_CHECKING, because an
import moved into a function to dodge a cycle is still a cycle.

Layers, lowest first: ``core`` imports nothing of ours; ``ingest`` imports ``core``;
``dashboard`` and ``baton`` (the command line) import ``core`` and ``ingest``, never each other.
``core``, ``ingest`` and ``baton`` never import streamlit.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "ingest", "dashboard", "baton")
ALLOWED = {
    "core": {"core"},
    "ingest": {"core", "ingest"},
    "dashboard": {"core", "ingest", "dashboard"},
    "baton": {"core", "ingest", "baton"},
}
NO_STREAMLIT = ("core", "ingest", "baton")
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    path = _modules()[module]
    base = module.split(".")
    # A package's __init__ is its own package; a plain module's package is its parent.
    keep = len(base) - node.level + (1 if path.name == "__init__.py" else 0)
    prefix = base[:keep]
    return ".".join(prefix + ([node.module] if node.module else []))


@cache
def _imports(module: str) -> tuple[tuple[str, int], ...]:
    """Every module name this module imports (ours or not), with the line of the import."""
    tree = ast.parse(_modules()[module].read_text(encoding="utf-8"))
    names: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                names.append((submodule if submodule in _modules() else target, node.lineno))
    return tuple(names)


def _our_edges(module: str) -> set[str]:
    ours = _modules()
    edges = set()
    for name, _ in _imports(module):
        # `import core.store.rows` names core.store.rows; a name below a module (a function
        # imported from it) is the module itself.
        while name and name not in ours:
            name = name.rpartition(".")[0]
        if name and name != module:
            edges.add(name)
    return edges


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    graph = {module: sorted(_our_edges(module)) for module in _modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return found


def test_the_packages_exist() -> None:
    for package in PACKAGES:
        assert (REPO / package).is_dir(), f"there is no {package}/"
        assert any(m.split(".")[0] == package for m in _modules()), f"{package}/ holds no module"


def test_no_import_cycles() -> None:
    cycles = _cycles()
    assert not cycles, "import cycles (imports inside functions count):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_imports_point_down_only() -> None:
    wrong = []
    for module in _modules():
        layer = module.split(".")[0]
        for target in _our_edges(module):
            if target.split(".")[0] not in ALLOWED[layer]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


@pytest.mark.parametrize("package", NO_STREAMLIT)
def test_no_streamlit_below_the_dashboard(package: str) -> None:
    wrong = [
        f"{module}:{line} imports {name}"
        for module in _modules()
        if module.split(".")[0] == package
        for name, line in _imports(module)
        if name.split(".")[0] == "streamlit"
    ]
    assert not wrong, "\n".join(wrong)


def test_no_module_over_500_lines() -> None:
    long = [
        f"{path.relative_to(REPO)}: {n} lines"
        for path in _modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, "modules over 500 lines:\n" + "\n".join(long)


def test_the_checker_sees_a_cycle(tmp_path: Path) -> None:
    """The cycle finder itself can fail: two modules importing each other inside functions."""
    global REPO
    saved = REPO
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "__init__.py").write_text("")
    (tmp_path / "core" / "a.py").write_text("def f():\n    from core import b\n")
    (tmp_path / "core" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n"
    )
    for package in PACKAGES[1:]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    REPO = tmp_path
    _modules.cache_clear()
    _imports.cache_clear()
    try:
        assert _cycles() == [["core.a", "core.b"]]
    finally:
        REPO = saved
        _modules.cache_clear()
        _imports.cache_clear()
