"""The reference, like terraform-docs for HCL modules: docs/reference.md.

    python -m tools.views.reference               # synthesizes, then writes docs/reference.md
    python -m tools.views.reference --synth cdktf.out

- Module inputs: every dataclass in `modules/*.py` (its `<Name>Config` and the
  types it nests), read from the source: field, type, default and the comment
  beside or above the field; and the attributes each construct exposes (the
  "Exposes" line of its docstring).
- Environment settings: every pydantic model in `environments/config.py`, with
  its constraints, and each environment's values from its TOML file.
- Stack outputs: the `output` blocks of every synthesized stack.

Read from source with `ast` rather than imported, so this needs neither the
provider bindings nor a synth of the modules themselves.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import tokenize
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.views.synth import ROOT, Stack, read_stacks, synthesize_working_tree

OUTPUT = ROOT / "docs" / "reference.md"
CONSTRAINTS = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    default: str  # "required" when there is none
    doc: str


@dataclass(frozen=True)
class Model:
    name: str
    doc: str
    fields: list[Field]


def _comments(source: str) -> dict[int, str]:
    """{line number: comment text} for every comment in the source."""
    return {token.start[0]: token.string.lstrip("#").strip()
            for token in tokenize.generate_tokens(io.StringIO(source).readline) if token.type == tokenize.COMMENT}


def _field_doc(node: ast.AnnAssign, comments: dict[int, str], lines: list[str]) -> str:
    """The comment on the field's own lines, else the comment block right above it."""
    own = [comments[line] for line in range(node.lineno, (node.end_lineno or node.lineno) + 1) if line in comments]
    if own:
        return " ".join(own)
    above: list[str] = []
    line = node.lineno - 1
    while line >= 1 and lines[line - 1].strip().startswith("#"):
        above.insert(0, comments.get(line, ""))
        line -= 1
    return " ".join(above)


def _default(value: ast.expr | None) -> str:
    if value is None:
        return "required"
    if isinstance(value, ast.Call) and ast.unparse(value.func).split(".")[-1] in ("field", "Field"):
        keywords = {keyword.arg: keyword.value for keyword in value.keywords}
        if "default_factory" in keywords:
            factory = ast.unparse(keywords["default_factory"])
            return {"dict": "{}", "list": "[]", "tuple": "()"}.get(factory, f"{factory}()")
        if "default" in keywords:
            return ast.unparse(keywords["default"])
        if value.args and not (isinstance(value.args[0], ast.Constant) and value.args[0].value is Ellipsis):
            return ast.unparse(value.args[0])
        return "required"
    return ast.unparse(value)


def _constraints(value: ast.expr | None) -> str:
    if not (isinstance(value, ast.Call) and ast.unparse(value.func) == "Field"):
        return ""
    found = [f"{keyword.arg}={ast.unparse(keyword.value)}" for keyword in value.keywords if keyword.arg in CONSTRAINTS]
    return f"({', '.join(found)})" if found else ""


def _is_dataclass(node: ast.ClassDef) -> bool:
    return any(ast.unparse(decorator).startswith(("dataclass", "dataclasses.dataclass"))
               for decorator in node.decorator_list)


def _is_model(node: ast.ClassDef, models: set[str]) -> bool:
    return any(ast.unparse(base) in models for base in node.bases)


def read_models(path: Path, kind: str) -> list[Model]:
    """The dataclasses ("dataclass") or pydantic models ("pydantic") defined in a source file, in order."""
    source = path.read_text()
    tree, comments, lines = ast.parse(source), _comments(source), source.splitlines()
    pydantic_bases = {"BaseModel"}
    found: list[Model] = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        if kind == "pydantic" and _is_model(node, pydantic_bases):
            pydantic_bases.add(node.name)  # a private base (`_Model`) makes its subclasses models too
        elif not (kind == "dataclass" and _is_dataclass(node)):
            continue
        fields = [
            Field(
                name=statement.target.id,
                type=ast.unparse(statement.annotation),
                default=_default(statement.value),
                doc=" ".join(part for part in (_field_doc(statement, comments, lines), _constraints(statement.value)) if part),
            )
            for statement in node.body
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
            and not ast.unparse(statement.annotation).startswith("ClassVar")
        ]
        if fields:
            found.append(Model(node.name, (ast.get_docstring(node) or "").split("\n\n")[0].replace("\n", " "), fields))
    return found


def exposed(path: Path) -> list[tuple[str, str]]:
    """(construct, what it exposes) from the docstrings of Construct subclasses."""
    tree = ast.parse(path.read_text())
    return [
        (node.name, " ".join((ast.get_docstring(node) or "").split()))
        for node in tree.body
        if isinstance(node, ast.ClassDef) and any(ast.unparse(base).endswith("Construct") for base in node.bases)
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "


def _table(fields: list[Field]) -> list[str]:
    rows = ["| Name | Description | Type | Default | Required |", "|------|-------------|------|---------|:--------:|"]
    rows += [
        f"| `{field.name}` | {_cell(field.doc)} | `{_cell(field.type)}` | "
        + ("n/a | yes |" if field.default == "required" else f"`{_cell(field.default)}` | no |")
        for field in fields
    ]
    return rows


def _flatten(raw: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _module_summary(path: Path) -> str:
    return (ast.get_docstring(ast.parse(path.read_text())) or "").split("\n\n")[0].replace("\n", " ")


def render(stacks: dict[str, Stack], root: Path = ROOT) -> str:
    out = [
        "# Reference",
        "",
        "Generated by `python -m tools.views.reference` from the typed configs and the synthesized stacks;",
        "do not edit by hand (a test fails when this file is stale).",
        "",
        "## Modules",
        "",
        "Each module takes one frozen dataclass config; its fields are the module's inputs.",
    ]
    for path in sorted((root / "modules").glob("*.py")):
        models = read_models(path, "dataclass")
        constructs = [item for item in exposed(path) if item[1]]
        if not models and not constructs:
            continue
        out += ["", f"### `modules/{path.name}`", "", _module_summary(path)]
        for model in models:
            out += ["", f"#### Inputs: `{model.name}`", ""]
            if model.doc:
                out += [model.doc, ""]
            out += _table(model.fields)
        for construct, doc in constructs:
            out += ["", f"#### Outputs: `{construct}`", "", doc]
    config = root / "environments" / "config.py"
    out += ["", "## Environment settings", "",
            "`environments/<env>.toml`, validated by `environments/config.py`. " + _module_summary(config)]
    for model in read_models(config, "pydantic"):
        out += ["", f"### `{model.name}`", ""]
        if model.doc:
            out += [model.doc, ""]
        out += _table(model.fields)
    environments = sorted((path.stem for path in (root / "environments").glob("*.toml")),
                          key=lambda name: ("dev", "staging", "prod").index(name) if name in ("dev", "staging", "prod") else 9)
    values = {name: _flatten(tomllib.loads((root / "environments" / f"{name}.toml").read_text())) for name in environments}
    keys = sorted({key for flat in values.values() for key in flat})
    out += ["", "### Values per environment", "", "| Setting | " + " | ".join(environments) + " |",
            "|---------|" + "|".join("-" * (len(name) + 2) for name in environments) + "|"]
    out += [f"| `{key}` | " + " | ".join(f"`{_cell(str(values[name].get(key, '')))}`" for name in environments) + " |"
            for key in keys]
    out += ["", "## Stack outputs", ""]
    for name, stack in sorted(stacks.items()):
        out += [f"### `{name}`", ""]
        if not stack.outputs:
            out += ["No outputs.", ""]
            continue
        out += ["| Name | Value | Description | Sensitive |", "|------|-------|-------------|-----------|"]
        out += [
            f"| `{output}` | `{_cell(str(body.get('value')))}` | {_cell(body.get('description', ''))} | "
            f"{'yes' if body.get('sensitive') else 'no'} |"
            for output, body in sorted(stack.outputs.items())
        ]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.views.reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("--synth", type=Path, help="an existing cdktf.out to read (default: synthesize now)")
    arguments = parser.parse_args(argv)
    outdir = arguments.synth or synthesize_working_tree()
    OUTPUT.write_text(render(read_stacks(outdir)))
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
