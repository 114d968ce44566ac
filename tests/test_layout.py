"""The shape of the code, held as tests: what a reader of docs/contributing.md is promised.

Read from the source with `ast`, so these need no synth.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _imported_modules(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_modules_never_import_the_environments() -> None:
    """Modules are the reusable layer: the app's TOML schema depends on them, never the other way round."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in _imported_modules(ast.parse(path.read_text()))
                                            if name == "environments" or name.startswith(("environments.", "stacks")))
        for path in _sources("modules")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


MAX_WIRING_LINES = 80


def test_no_function_in_stacks_is_longer_than_80_lines() -> None:
    """The stacks wire modules in short steps (a tier, a helper of one): none reads as one long list again."""
    lengths = {
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}": (node.end_lineno or node.lineno) - node.lineno + 1
        for path in _sources("stacks")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    assert lengths, "no function found in stacks/"
    assert {name: lines for name, lines in lengths.items() if lines > MAX_WIRING_LINES} == {}
