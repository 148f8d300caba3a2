"""The import rules of docs/architecture.md, checked on the source: no cycles, one direction."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "worker", "shared", "cli", "sandbox")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _imports(path: Path) -> Iterator[str]:
    """Modules imported at run time (``if TYPE_CHECKING:`` blocks left out)."""
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


MODULES = _modules()
GRAPH = {
    name: {imported for imported in _imports(path) if imported in MODULES and imported != name}
    for name, path in MODULES.items()
}


def _top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("shared", {"api", "worker", "cli", "sandbox", "fastapi", "arq.worker"}),
        ("api", {"worker", "cli", "sandbox"}),
        ("worker", {"api", "cli", "sandbox", "fastapi"}),
        ("shared.github", {"shared.settings", "shared.errors", "shared.budget", "shared.projects"}),
        ("shared.budget", {"shared.github", "shared.settings", "shared.errors", "shared.projects"}),
    ],
)
def test_imports_flow_one_way(importer: str, forbidden: set[str]) -> None:
    offenders = [
        (module, imported)
        for module, path in MODULES.items()
        if module == importer or module.startswith(importer + ".")
        for imported in _imports(path)
        if any(imported == f or imported.startswith(f + ".") for f in forbidden)
    ]
    assert offenders == []


def test_library_packages_import_nothing_else_of_the_project() -> None:
    for library in ("shared.github", "shared.budget"):
        for module, imports in GRAPH.items():
            if module == library or module.startswith(library + "."):
                outside = {i for i in imports if not i.startswith(library + ".")}
                assert outside == set(), (module, outside)


def test_there_is_no_import_cycle() -> None:
    done: set[str] = set()
    stack: list[str] = []

    def visit(module: str) -> None:
        if module in stack:
            cycle = [*stack[stack.index(module) :], module]
            raise AssertionError(" → ".join(cycle))
        if module in done:
            return
        stack.append(module)
        for imported in sorted(GRAPH[module]):
            visit(imported)
        stack.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)


def test_no_module_outside_the_sandbox_and_tests_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for package in ("api", "worker", "shared", "cli", "bench", "migrations")
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert long == {}
