"""The 82 acceptance criteria, read from docs/requirements.md (a copy of the specification)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "docs" / "requirements.md"
CRITERION_ID = re.compile(r"^R(\d+)\.(\d+)$")


@cache
def criteria() -> dict[str, str]:
    """{"R1.1": "THE Container_Service SHALL run ...", ...} in document order."""
    found: dict[str, str] = {}
    area = None
    for line in REQUIREMENTS.read_text().splitlines():
        if heading := re.match(r"^### Requirement (\d+):", line):
            area = heading.group(1)
        elif area and (item := re.match(r"^(\d+)\. (.+)$", line)):
            found[f"R{area}.{item.group(1)}"] = item.group(2).strip()
    return found


def requirement_areas() -> dict[str, str]:
    return {
        f"R{m.group(1)}": m.group(2).strip()
        for m in re.finditer(r"^### Requirement (\d+): (.+)$", REQUIREMENTS.read_text(), re.M)
    }
