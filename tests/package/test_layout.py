"""The package's layout: at most 12 modules at its top, wings that say what they hold, imports
that flow one way between wings, and no import circle (imports inside functions count; only
those under ``if TYPE_CHECKING:`` are exempt)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import eachlabs_widgets

PACKAGE = Path(eachlabs_widgets.__file__).parent
NAME = "eachlabs_widgets"

#: Each part of the package and the parts it may import (beside itself), as the wings'
#: docstrings and the package's docstring state them. Base modules import only base modules.
BASE = {"_exceptions", "_settings", "_version", "_embedded", "emulator"}
LOWER = {
    "_schema": BASE,
    "_journal": BASE | {"_schema"},
    "_display": BASE | {"_schema", "_journal"},
    "_generation": BASE | {"_schema", "_journal", "_display"},
    # the client makes Generations (which draw themselves through _display); it draws nothing
    "_service": BASE | {"_schema", "_journal", "_generation"},
    "_notebook": BASE | {"_schema", "_journal", "_display", "_generation", "_service"},
    "forms": BASE | {"_schema", "_display"},
}
FRONT_ENDS = {
    "__init__",
    "__main__",
    "_api",
    "_batch",
    "_doctor",
    "_library",
    "_login",
    "demo",
    "magics",
    "panel",
}


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, is_package: bool, known: set[str]) -> set[str]:
    """The package's modules that ``module`` imports anywhere but under ``TYPE_CHECKING``."""
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if _is_type_checking(node.test):
                for statement in node.orelse:
                    self.visit(statement)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(alias.name for alias in node.names if alias.name.startswith(NAME))

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith(NAME):
                return
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)

        def visit_Call(self, node: ast.Call) -> None:
            # importlib.import_module("eachlabs_widgets.…") by name counts too
            func = node.func
            named = isinstance(func, ast.Attribute) and func.attr == "import_module"
            if named and node.args and isinstance(node.args[0], ast.Constant):
                value = node.args[0].value
                if isinstance(value, str) and value.startswith(NAME):
                    found.add(value)
            self.generic_visit(node)

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(module)
    return {name for name in found if name in known}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, pkg, known) for name, (path, pkg) in modules.items()}


def _part(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_the_top_holds_at_most_twelve_modules() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top


def test_every_wing_opens_with_a_docstring_that_says_what_it_may_import() -> None:
    wings = sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert {w.name for w in wings} >= {"_service", "_schema", "_journal", "_display", "_notebook"}
    for wing in wings:
        doc = ast.get_docstring(ast.parse((wing / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"{wing.name}/__init__.py has no docstring"
        assert "import" in doc.lower(), f"{wing.name}/__init__.py does not say what it imports"


def test_no_import_circle() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert circles == []


def test_imports_between_wings_flow_one_way() -> None:
    wrong = []
    for module, targets in _graph().items():
        part = _part(module)
        if part in FRONT_ENDS:
            continue
        allowed = LOWER.get(part, BASE if part in BASE else set())
        if part == "emulator":
            allowed = set()
        for target in targets:
            other = _part(target)
            if other != part and other not in allowed:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


@pytest.mark.parametrize("module", ["_display", "_journal", "_schema", "emulator"])
def test_lower_wings_never_reach_the_service(module: str) -> None:
    reach = {t for m, ts in _graph().items() if _part(m) == module for t in ts}
    assert not {t for t in reach if _part(t) in {"_service", "_notebook"} | FRONT_ENDS}
