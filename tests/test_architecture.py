"""The package's shape: a declared public API, no import cycles, and imports that only point
down the module map of docs/design.md (a module imports only modules listed above it)."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "emosign"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
#: Modules that run a program when imported (``python -m``): they declare and define nothing.
SCRIPTS = {name for name in MODULES if name.endswith(".__main__")}

import emosign  # noqa: E402

#: The package root's lazily imported names and the module that defines each.
ROOT_NAMES: dict[str, str] = dict(emosign._LAZY)


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path) -> set[str]:
    """Every emosign module that ``path`` imports, at module level or inside a function
    (imports only made for type checkers are left out)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.startswith("emosign"))
            elif isinstance(child, ast.ImportFrom) and (child.module or "").startswith("emosign"):
                for alias in child.names:
                    submodule = f"{child.module}.{alias.name}"
                    if submodule in MODULES:
                        found.add(submodule)
                    elif child.module == "emosign":
                        # A public name of the package root: it comes from its defining module.
                        found.add(ROOT_NAMES.get(alias.name, "emosign"))
                    else:
                        found.add(child.module)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(_module_name(path))
    return {name for name in found if name in MODULES}


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _design_order() -> list[str]:
    """Modules in the order docs/design.md lists them, as dotted names."""
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `(emosign/[\w/]+\.py)` \|", text, flags=re.MULTILINE)
    return [_module_name(ROOT / p) for p in listed]


def test_the_public_names_import_from_the_package():
    import emosign
    from emosign import compare, evaluate, load_emosign  # noqa: F401  (the documented entry points)

    missing = [name for name in emosign.__all__ if not hasattr(emosign, name)]
    assert not missing
    with pytest.raises(AttributeError, match="no attribute 'evaluat'"):
        emosign.evaluat  # noqa: B018


def test_importing_the_package_imports_neither_datasets_nor_pandas():
    code = ("import sys, emosign; "
            "print(sorted(m for m in ('datasets', 'pandas', 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(set(MODULES) - SCRIPTS))
def test_every_module_declares_its_names(name):
    module = importlib.import_module(name)
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    declared = [node for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                and any(isinstance(t, ast.Name) and t.id == "__all__"
                        for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))]
    assert declared, f"{name} has no __all__"
    absent = [n for n in module.__all__ if not hasattr(module, n)]
    assert not absent, f"{name}.__all__ names what it does not define: {absent}"
    assert len(set(module.__all__)) == len(module.__all__), f"{name}.__all__ repeats a name"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
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


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_point_down_the_module_map():
    order = _design_order()
    assert len(order) == len(set(order)), "docs/design.md lists a module twice"
    position = {name: i for i, name in enumerate(order)}
    upward = [f"{name} imports {target}"
              for name, targets in GRAPH.items() if name in position
              for target in sorted(targets)
              if target in position and position[target] > position[name]]
    assert not upward, "imports of a module listed below in docs/design.md:\n" + "\n".join(upward)
