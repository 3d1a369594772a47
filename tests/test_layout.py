"""The layout holds (ARCHITECTURE §7): no import circle among HEART's modules, and each layer imports only below it.

The graph counts every import of a ``heart`` module, wherever it is written: at the top of a file, inside a function,
or under ``if TYPE_CHECKING``. A lazy import hides a circle without removing it — the two modules still cannot be read
or tested apart, and which one loads first becomes a question of luck — so it counts like any other. An import of a
submodule is an edge to that submodule, not to its package's ``__init__`` (Python runs the package first, which is
harmless unless the ``__init__`` itself imports back: that edge is counted, since it is written in the ``__init__``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src"
BASE = frozenset({"heart.db", "heart.events", "heart.config", "heart.errors", "heart.inputs", "heart.yamlfile",
                  "heart.tracebacks", "heart.migrate", "heart.backup", "heart.city", "heart.city.folder",
                  "heart.city.programs"})
"""Modules every domain may use and that know no domain."""
APP = frozenset({"heart.main", "heart.cli"})
"""The two entry points: they put the domains together, so nothing imports them."""
DOMAINS = ("auth", "calls", "crosswalk", "triage", "dispatch", "encounters", "navigation", "neighbors", "metrics",
           "programs", "simulation", "demo", "public", "places")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Each ``heart`` module and the ``heart`` modules it imports."""
    files = {_module_name(path): path for path in (SOURCE / "heart").rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _imported(node, module, is_package):
                target = name if name in files else resolve(name)
                if target is not None and target != module:
                    found.add(target)
        graph[module] = frozenset(found)
    return graph


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name.split(".")[0] == "heart")
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
        if base.split(".")[0] == "heart":
            yield from (f"{base}.{alias.name}" for alias in node.names)  # a submodule, or a name in ``base``


def circles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_lazy_imports_and_finds_a_circle() -> None:
    """The checker itself: a circle through an import inside a function is found."""
    source = "def f():\n    from heart.b import g\n"
    lazy = set(_imported(ast.parse(source).body[0].body[0], "heart.a", False))  # type: ignore[attr-defined]
    assert lazy == {"heart.b.g"}
    assert circles({"heart.a": frozenset({"heart.b"}), "heart.b": frozenset({"heart.a"}), "heart.c": frozenset()}) \
        == [["heart.a", "heart.b"]]
    assert "heart.db" in import_graph()["heart.events"]


def test_no_import_circles_among_heart_modules() -> None:
    assert circles(import_graph()) == []


def test_the_base_imports_no_domain() -> None:
    wrong = {module: sorted(target for target in targets if target not in BASE)
             for module, targets in import_graph().items() if module in BASE}
    assert {module: targets for module, targets in wrong.items() if targets} == {}


def test_no_domain_imports_web_or_the_entry_points() -> None:
    wrong = {}
    for module, targets in import_graph().items():
        if module.split(".")[1:2] and module.split(".")[1] in DOMAINS:
            bad = sorted(t for t in targets if t in APP or t == "heart.web" or t.startswith("heart.web."))
            if bad:
                wrong[module] = bad
    assert wrong == {}


def test_nothing_imports_the_entry_points() -> None:
    assert {module: sorted(targets & APP) for module, targets in import_graph().items() if targets & APP} == {}
