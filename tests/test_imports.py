"""The package's import graph: no cycles, and the layers import only downwards.

The graph is read from the source (``ast``). Every import that runs counts — at module level and
inside functions (a cycle that only a lazy import closes is still two modules that cannot be
understood apart); imports under ``if TYPE_CHECKING:`` do not, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import claude_tui

PACKAGE = Path(claude_tui.__file__).resolve().parent
NAME = "claude_tui"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of the tree except those under ``if TYPE_CHECKING:`` (its ``else`` still runs)."""
    found: list[ast.AST] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        if _type_checking_only(node):
            todo.extend(node.orelse)  # type: ignore[attr-defined]
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The claude_tui modules ``name`` imports (a package's ``__init__`` counts as the package)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _runtime_nodes(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve(name, path.name == "__init__.py", node)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            if not target.startswith(NAME):
                continue
            while target and target not in known:  # `from pkg import name`: name may be an attribute
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    edges = {name: imports_of(name, path, known) for name, path in mods.items()}
    # importing a.b.c runs a/__init__ and a/b/__init__ first: that is not an edge to follow for cycles
    for name in edges:
        edges[name] = {t for t in edges[name] if not name.startswith(t + ".")}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


#: Cycles in code other helpers were changing in the same session (closed by a lazy import inside a
#: function). Listed so that no NEW cycle can land; the test also fails when one of these is gone, so
#: the list only shrinks. Empty is the goal.
KNOWN_ELSEWHERE = [
]


def test_no_import_cycle_in_the_package() -> None:
    found = cycles(graph())
    assert [c for c in found if c not in KNOWN_ELSEWHERE] == [], "a new import cycle"
    assert [c for c in KNOWN_ELSEWHERE if c not in found] == [], "a known cycle is gone: take it off the list"


def test_no_import_cycle_in_the_front_ends_config_and_ui() -> None:
    found = cycles(graph())
    assert not [c for c in found if any(m.startswith(("claude_tui.ui", "claude_tui.config", "claude_tui.cli",
                                                       "claude_tui.headless", "claude_tui.store")) for m in c)]


def test_the_walker_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_engine_store_simulator_and_headless_import_nothing_from_the_ui() -> None:
    edges = graph()
    for name, targets in edges.items():
        if name.startswith(("claude_tui.engine", "claude_tui.store", "claude_tui.simulator", "claude_tui.headless")):
            assert not [t for t in targets if t.startswith("claude_tui.ui")], name


def test_the_engine_imports_only_the_engine() -> None:
    """The engine is a library: nothing from config, store, logs or any front end."""
    edges = graph()
    for name, targets in edges.items():
        if name.startswith("claude_tui.engine"):
            outside = [t for t in targets if not t.startswith("claude_tui.engine") and t != "claude_tui"]
            assert not outside, (name, outside)


#: Which parts of the package each part may import (docs/architecture.md has the same table).
ALLOWED: dict[str, set[str]] = {
    "engine": set(),
    "simulator": {"engine"},
    "store": {"engine", "logs", "paths"},
    "logs": {"engine", "paths"},
    "paths": set(),
    "services": {"engine", "store", "logs", "simulator", "backend"},
    "backend": {"engine", "simulator"},
    "config": {"engine", "simulator", "paths"},
    "headless": {"engine", "services", "cli_error", "logs", "store", "gc_policy"},
    "distributed": {"engine", "services", "backend", "headless", "cli_error"},
    "commands": {"store", "config", "paths"},
    "bench": {"engine", "simulator", "argtypes"},
    "ui": {"engine", "services", "backend", "simulator", "gc_policy"},
    "argtypes": set(),
    "cli_error": set(),
    "gc_policy": set(),
}


def part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "claude_tui"


def test_each_part_imports_only_what_the_map_allows() -> None:
    wrong = []
    for name, targets in graph().items():
        allowed = ALLOWED.get(part(name))
        if allowed is None:  # cli, launch, the package root: the front door may import anything
            continue
        for target in targets:
            if part(target) not in allowed | {part(name), "claude_tui"}:
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_the_architecture_map_names_every_module() -> None:
    # the repository's docs (CI tests an installed copy of the package, which ships without them)
    doc = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "__init__.py" and path.name not in doc
    ]
    missing += [f"{path.name}/" for path in sorted(PACKAGE.iterdir()) if path.is_dir() and (path / "__init__.py").exists()
                and f"{path.name}/" not in doc]
    assert missing == [], "docs/architecture.md does not name these"
