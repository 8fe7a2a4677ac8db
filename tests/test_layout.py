"""The package's shape (docs/architecture.md): imports only go down, few loose modules, short
modules and functions. Read from the source with ast; nothing is imported."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "inception_cli"
PACKAGE = ROOT.name
# The package's own modules beside its sub-packages (docs/architecture.md).
LOOSE_MODULES = {"__init__", "__main__", "cli", "catalog", "errors", "hardware"}


def module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in ROOT.rglob("*.py")}


def imported(path: Path) -> set[str]:
    """The modules of the package that `path` imports, inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module_name(path):
                found.add(name)
    return found


def part(name: str) -> str:
    return ".".join(name.split(".")[:2])


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Groups of nodes that reach each other (every strongly connected group of two or more)."""

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reached = {node: reach(node) for node in graph}
    groups = {
        frozenset({node} | {o for o in reached[node] if node in reached.get(o, ())})
        for node in graph
    }
    return [set(group) for group in groups if len(group) > 1]


FILE_GRAPH = {name: imported(path) for name, path in MODULES.items()}


def test_no_import_circle_between_files() -> None:
    assert circles(FILE_GRAPH) == []


def test_no_import_circle_between_packages() -> None:
    parts: dict[str, set[str]] = defaultdict(set)
    for name, targets in FILE_GRAPH.items():
        # importing the package's face (inception_cli/__init__.py) ties nothing
        parts[part(name)] |= {part(t) for t in targets if part(t) not in (part(name), PACKAGE)}
    assert circles(parts) == []


def test_models_import_nothing_else_of_the_tool() -> None:
    outside = {
        f"{name} imports {target}"
        for name, targets in FILE_GRAPH.items()
        if name.startswith(f"{PACKAGE}.models")
        for target in targets
        if not target.startswith(f"{PACKAGE}.models")
    }
    assert outside == set()


def test_few_loose_modules_at_the_top() -> None:
    loose = {path.stem for path in ROOT.glob("*.py")}
    assert loose <= LOOSE_MODULES, f"group {sorted(loose - LOOSE_MODULES)} into a package"


@pytest.mark.parametrize("path", sorted(MODULES.values()), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_stay_short(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) <= 300, "a module over 300 lines"
    long = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 60
    ]
    assert long == []
