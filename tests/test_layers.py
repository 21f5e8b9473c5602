"""The package's layers: no import cycle, and no module reaching up to what it should not know.

Imports are read from the source with :mod:`ast` (no module is executed). An import inside
``if TYPE_CHECKING:`` never runs, so it cannot make an import cycle at run time; function-level
(lazy) imports do run and count.

Reasoning about type-only imports: cycles made only of ``TYPE_CHECKING`` imports are harmless at
run time, but they tie modules together all the same (the agents typed their ``model`` as
``WPIModel`` while the model built the agents: ``model → agents → model``, and ``finance``). The
core restructuring (``wpi_abm/sim``) removed them, so that check is strict too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "wpi_abm"
LOADER = {"wpi_abm.config", "wpi_abm.validation", "wpi_abm.yamlio"}
"""The experiment loader: YAML reading, resolution, errors with file and line."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@cache
def _imports(name: str) -> list[tuple[str, list[str], bool]]:
    """(imported module, names taken from it, type-only?) for every import in module ``name``."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[str, list[str], bool]] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            out.extend((alias.name, [], type_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.append((base, [alias.name for alias in node.names], type_only))
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree, False)
    return out


@cache
def graph(*, type_only: bool) -> dict[str, set[str]]:
    """Module → the package's modules it imports (at run time; with ``type_only`` also those
    imported for type checking only)."""
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for name in MODULES:
        for module, names, guarded in _imports(name):
            if guarded and not type_only:
                continue
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES]
            if module in MODULES and len(targets) < max(1, len(names)):
                targets.append(module)
            edges[name].update(t for t in targets if t != name)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for w in edges[todo.pop()] - seen:
            seen.add(w)
            todo.append(w)
    return seen


def test_the_graph_sees_the_imports():
    # guards against a parser that finds nothing and so finds no cycle
    edges = graph(type_only=False)
    assert "wpi_abm.outcomes" in edges["wpi_abm.experiment.analysis"]
    assert "wpi_abm.experiment.store" in edges["wpi_abm.plots.results"]
    assert "wpi_abm.report.sections" in edges["wpi_abm.report"]
    # a TYPE_CHECKING import is seen, and kept out of the run-time graph
    assert "wpi_abm.policy" in graph(type_only=True)["wpi_abm.tables"]
    assert "wpi_abm.policy" not in graph(type_only=False)["wpi_abm.tables"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_at_run_time():
    assert cycles(graph(type_only=False)) == []


def test_no_import_cycle_even_for_type_checking():
    assert cycles(graph(type_only=True)) == []


@pytest.mark.parametrize(
    "module",
    ["wpi_abm.metrics", *(m for m in MODULES if m.startswith("wpi_abm.plots"))],
)
def test_metrics_and_figures_never_reach_the_loader(module: str):
    """They need the models (wpi_abm.schema), never the YAML loader, not even indirectly."""
    assert not reachable(graph(type_only=True), module) & LOADER


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("wpi_abm.schema")))
def test_the_schema_never_reaches_the_loader(module: str):
    assert not reachable(graph(type_only=True), module) & LOADER


def test_report_and_figures_use_the_stores_public_api_only():
    from wpi_abm.experiment import store

    for name in MODULES:
        if not name.startswith(("wpi_abm.report", "wpi_abm.plots", "wpi_abm.cli")):
            continue
        for module, names, _ in _imports(name):
            if module == "wpi_abm.experiment.store":
                private = [n for n in names if n not in store.__all__]
                assert not private, f"{name} imports store internals {private}"


@pytest.mark.parametrize(
    ("module", "allowed"),
    [("wpi_abm.outcomes", set()), ("wpi_abm.text", set()), ("wpi_abm.presets", {"yaml"})],
)
def test_light_modules_import_nothing_heavy(module: str, allowed: set[str]):
    """The outcome registry, the words and the presets can be read by any stage, cheaply."""
    heavy = {"numpy", "pandas", "pyarrow", "scipy", "pydantic", "matplotlib", "mesa", "yaml"}
    code = f"import sys, {module}; print(' '.join({{m.split('.')[0] for m in sys.modules}}))"
    loaded = set(subprocess.check_output([sys.executable, "-c", code], text=True).split())
    assert loaded & heavy <= allowed
