"""The run report, in Markdown for people and JSON for tools (R11.6)."""

from __future__ import annotations

import json
from pathlib import Path


def write(directory: Path, title: str, report: dict) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    as_json, as_markdown = directory / "report.json", directory / "report.md"
    as_json.write_text(json.dumps(report, indent=2, default=str))
    as_markdown.write_text(markdown(title, report))
    return as_markdown, as_json


def markdown(title: str, report: dict) -> str:
    lines = [f"# {title}", ""]
    for name, value in report.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines += [f"## {name}", "", *_table(value), ""]
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            lines += [f"## {name}", "", *_table([{"name": k, **v} for k, v in value.items()]), ""]
        elif isinstance(value, list):
            lines += [f"## {name}", "", *(f"- {item}" for item in value or ["none"]), ""]
        else:
            lines.append(f"- **{name}**: {value}")
    return "\n".join(lines) + "\n"


def _table(rows: list[dict]) -> list[str]:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cell = lambda v: (json.dumps(v, default=str) if isinstance(v, (list, dict)) else str(v)).replace("|", "\\|")  # noqa: E731
    return [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows),
    ]
