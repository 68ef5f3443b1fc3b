"""The import graph of our packages: no cycles, dependencies point inward.

Built from the source with ``ast`` (function-level imports included, so a cycle hidden by a lazy
import counts; imports under ``if TYPE_CHECKING:`` do not run and are left out). Surfaces
(``admin_api``, ``miniapp_api``, ``devices`` and the app wiring in ``realname``) call
``services``, which call ``models``; never the other way round.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "models", "services", "realname", "admin_api", "miniapp_api", "devices")
SURFACES = (
    "admin_api",
    "miniapp_api",
    "devices",
    "realname.app",
    "realname.cli",
    "realname.commands",
    "realname.console",
    "realname.openapi_contract",
    "realname.web",
)


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name → file, for every module of our packages."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Import statements that run (anywhere, also in functions), skipping TYPE_CHECKING blocks."""
    out: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the modules of ours it imports (``from pkg import sub`` names the submodule)."""
    mods = modules(root)

    def owner(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    base = ".".join(package[: len(package) - node.level + 1] + [base]).strip(".")
                names = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names
                ]
            for name in names:
                target = owner(name)
                if target is not None and target != mod:
                    graph[mod].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


GRAPH = import_graph()


def test_the_graph_sees_lazy_imports() -> None:
    # realname.db forgets the process caches through a function-level import
    assert "services.caches" in GRAPH["realname.db"]
    assert "services.attendance.clock" in GRAPH["services.attendance.settlement"]


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


def test_services_do_not_import_surfaces() -> None:
    wrong = sorted(
        f"{mod} -> {dep}"
        for mod, deps in GRAPH.items()
        if _within(mod, ("services",))
        for dep in deps
        if _within(dep, SURFACES)
    )
    assert wrong == []


def test_models_and_config_import_only_themselves() -> None:
    wrong = sorted(
        f"{mod} -> {dep}"
        for mod, deps in GRAPH.items()
        if _within(mod, ("models", "config"))
        for dep in deps
        if not _within(dep, ("models", "config"))
    )
    assert wrong == []
