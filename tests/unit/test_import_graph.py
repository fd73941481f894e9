"""The service's modules import one another in one direction only: no circle, hidden or not."""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_backfill_provider

PACKAGE = Path(airflow_backfill_provider.__file__).parent
PREFIX = "airflow_backfill_provider."


def _imports(path: Path) -> set[str]:
    """Every in-package module ``path`` imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX.rstrip(".")):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith(PREFIX)}
    return found


def _graph(folder: str) -> dict[str, set[str]]:
    modules = {
        f"{PREFIX}{folder}.{p.stem}": p for p in (PACKAGE / folder).glob("*.py") if p.stem != "__init__"
    }
    return {name: _imports(path) & set(modules) - {name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_service_has_no_import_circle():
    graph = _graph("service")
    assert f"{PREFIX}service.ending" in graph[f"{PREFIX}service.advance"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_plan_room_never_imports_the_service():
    for name, imports in _graph("plan").items():
        assert not [i for i in imports if i.startswith(f"{PREFIX}service")], name


def test_the_cycle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
