"""Change review: what differs between the synthesized stacks of two revisions or two directories.

    python -m tools.views.diff HEAD~1 HEAD          # two git revisions (each synthesized in a temp worktree)
    python -m tools.views.diff old/cdktf.out cdktf.out   # two synth directories
    python -m tools.views.diff HEAD                 # a revision against the working tree's cdktf.out

Per stack it lists the resources (and data sources, outputs and provider
blocks) added, removed and changed, with the attributes that changed, and
flags every change that touches a stateful resource (`tools.views.stateful`)
and every changed argument that forces its replacement. A change to tags
alone is not a stateful change.

Exit code: 0 no stateful resource touched, 2 a stateful resource changes in
place, 3 a stateful resource is destroyed or replaced (CI asks for a second
look on anything but 0), 1 the comparison could not be made.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from tools.views.stateful import COSMETIC, STATEFUL
from tools.views.synth import ROOT, Stack, read_stacks, strip_metadata, synthesized


class Verdict(IntEnum):
    """The exit code: how much a change touches stateful resources."""

    SAFE = 0
    STATEFUL_CHANGE = 2
    STATEFUL_REPLACEMENT = 3


@dataclass(frozen=True)
class Change:
    stack: str
    address: str  # <type>.<logical id>
    action: str  # "add" | "remove" | "change"
    attributes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # path -> (before, after)

    @property
    def type(self) -> str:
        return self.address.split(".", 1)[0]

    @property
    def stateful(self) -> bool:
        if self.type not in STATEFUL:
            return False
        return self.action != "change" or any(path.split(".")[0].split("[")[0] not in COSMETIC
                                              for path in self.attributes)

    @property
    def replacing(self) -> list[str]:
        """The changed arguments that force this stateful resource to be replaced."""
        rule = STATEFUL.get(self.type)
        if rule is None or self.action != "change":
            return []
        return sorted({path for path in self.attributes if _top(path) in rule.replaced_by})

    @property
    def verdict(self) -> Verdict:
        if not self.stateful:
            return Verdict.SAFE
        if self.action == "remove" or self.replacing:
            return Verdict.STATEFUL_REPLACEMENT
        # A new stateful resource puts no data at risk: listed in the summary, not a verdict.
        return Verdict.STATEFUL_CHANGE if self.action == "change" else Verdict.SAFE


def _top(path: str) -> str:
    return path.split(".")[0].split("[")[0]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"a.b[0].c": leaf}: nested blocks as attribute paths, the way `terraform plan` names them."""
    if isinstance(value, dict) and value:
        found: dict[str, Any] = {}
        for key, item in value.items():
            found.update(flatten(item, f"{prefix}.{key}" if prefix else key))
        return found
    if isinstance(value, list) and value and any(isinstance(item, dict | list) for item in value):
        found = {}
        for index, item in enumerate(value):
            found.update(flatten(item, f"{prefix}[{index}]"))
        return found
    return {prefix: value}


def compare_bodies(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    old, new = flatten(strip_metadata(before)), flatten(strip_metadata(after))
    return {path: (old.get(path), new.get(path)) for path in sorted(old.keys() | new.keys())
            if old.get(path) != new.get(path)}


def entities(stack: Stack | None) -> dict[str, Any]:
    """Everything Terraform reads, by address: resources, data sources, outputs, providers, settings."""
    if stack is None:
        return {}
    found: dict[str, Any] = {resource.address: resource.body for resource in stack.resources}
    document = stack.document
    found |= {f"data.{kind}.{name}": body for kind, by_name in document.get("data", {}).items()
              for name, body in by_name.items()}
    found |= {f"output.{name}": body for name, body in document.get("output", {}).items()}
    # Provider blocks carry the default tags: a tag-only change shows here, on no resource.
    found |= {f"provider.{name}": {"blocks": blocks} for name, blocks in document.get("provider", {}).items()}
    if "terraform" in document:
        found["terraform"] = document["terraform"]
    return found


def compare_stacks(name: str, before: Stack | None, after: Stack | None) -> list[Change]:
    old, new = entities(before), entities(after)
    changes = [Change(name, address, "add") for address in sorted(new.keys() - old.keys())]
    changes += [Change(name, address, "remove") for address in sorted(old.keys() - new.keys())]
    for address in sorted(old.keys() & new.keys()):
        if attributes := compare_bodies(old[address], new[address]):
            changes.append(Change(name, address, "change", attributes))
    return changes


def compare(before: dict[str, Stack], after: dict[str, Stack]) -> list[Change]:
    return [change for name in sorted(before.keys() | after.keys())
            for change in compare_stacks(name, before.get(name), after.get(name))]


def verdict(changes: list[Change]) -> Verdict:
    return max((change.verdict for change in changes), default=Verdict.SAFE)


def _show(value: Any) -> str:
    text = "(absent)" if value is None else repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def render(changes: list[Change]) -> str:
    lines: list[str] = []
    for stack in sorted({change.stack for change in changes}):
        mine = [change for change in changes if change.stack == stack]
        counts = {action: sum(1 for change in mine if change.action == action) for action in ("add", "change", "remove")}
        lines.append(f"## {stack}: {counts['add']} to add, {counts['change']} to change, {counts['remove']} to remove")
        for change in mine:
            sign = {"add": "+", "remove": "-", "change": "~"}[change.action]
            flag = ""
            if change.stateful:
                flag = "  [STATEFUL: REPLACED]" if change.replacing else "  [STATEFUL]"
                if change.action == "remove":
                    flag = "  [STATEFUL: DESTROYED]"
            lines.append(f"{sign} {change.address}{flag}")
            for path, (old, new) in change.attributes.items():
                forces = "  # forces replacement" if path in change.replacing else ""
                lines.append(f"    {path}: {_show(old)} -> {_show(new)}{forces}")
        lines.append("")
    flagged = [change for change in changes if change.stateful]
    lines.append("## Summary")
    if not changes:
        lines.append("No changes.")
    for change in flagged:
        rule = STATEFUL[change.type]
        what = {"add": "added", "remove": "DESTROYED", "change": "changed"}[change.action]
        if change.replacing:
            what = f"REPLACED (forced by {', '.join(change.replacing)})"
        lines.append(f"- {change.stack}/{change.address}: {what}; holds {rule.holds}")
    outcome = verdict(changes)
    lines.append({
        Verdict.SAFE: "No stateful resource is touched.",
        Verdict.STATEFUL_CHANGE: "Stateful resources change in place: review before applying.",
        Verdict.STATEFUL_REPLACEMENT: "Stateful resources are destroyed or replaced: data may be lost. Review before applying.",
    }[outcome])
    return "\n".join(lines)


@contextlib.contextmanager
def _stacks_of(source: str) -> Iterator[dict[str, Stack]]:
    """A directory is read as it is; anything else is a git revision, synthesized first."""
    if Path(source).is_dir():
        yield read_stacks(Path(source))
    else:
        with synthesized(source) as outdir:
            yield read_stacks(outdir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.views.diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="a git revision or a cdktf.out directory")
    parser.add_argument("after", nargs="?", default=str(ROOT / "cdktf.out"),
                        help="a git revision or a cdktf.out directory (default: ./cdktf.out)")
    arguments = parser.parse_args(argv)
    try:
        with _stacks_of(arguments.before) as before, _stacks_of(arguments.after) as after:
            changes = compare(before, after)
    except (OSError, ValueError, subprocess.CalledProcessError) as error:
        print(f"diff: {error}", file=sys.stderr)
        return 1
    print(render(changes))
    return int(verdict(changes))


if __name__ == "__main__":
    sys.exit(main())
