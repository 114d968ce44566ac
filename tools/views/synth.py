"""The synthesized stacks as plain data, read from a directory or synthesized from a git revision.

Every view reads Terraform JSON (`<outdir>/stacks/<stack>/cdk.tf.json`), never
the Python constructs, so a view shows what Terraform would get.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# A reference anywhere in an interpolation, also inside an expression (`${x ? aws_a.b.arn : aws_c.d.arn}`).
REFERENCE = re.compile(r"(?<![\w.])(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)(?=[.\[}])")


@dataclass(frozen=True)
class Resource:
    type: str
    id: str  # the logical id
    body: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{self.type}.{self.id}"

    def references(self) -> set[str]:
        """Addresses of the resources this one refers to (`${type.id...}`, or inside an expression)."""
        return {f"{kind}.{logical_id}" for kind, logical_id in REFERENCE.findall(json.dumps(self.body))}


@dataclass(frozen=True)
class Stack:
    name: str
    document: dict[str, Any]

    @property
    def resources(self) -> list[Resource]:
        return [
            Resource(resource_type, logical_id, body)
            for resource_type, by_id in sorted(self.document.get("resource", {}).items())
            for logical_id, body in sorted(by_id.items())
        ]

    def of_type(self, *resource_types: str) -> list[Resource]:
        return [resource for resource in self.resources if resource.type in resource_types]

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(self.document.get("output", {}))


def read_stacks(outdir: Path) -> dict[str, Stack]:
    """Every stack under `outdir/stacks`, by name."""
    files = sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    if not files:
        raise FileNotFoundError(f"no stacks under {outdir}/stacks: run `python main.py` first")
    return {file.parent.name: Stack(file.parent.name, json.loads(file.read_text())) for file in files}


def strip_metadata(value: Any) -> Any:
    """The value without cdktf's `//` metadata (construct paths), which Terraform ignores."""
    if isinstance(value, dict):
        return {key: strip_metadata(item) for key, item in value.items() if key != "//"}
    if isinstance(value, list):
        return [strip_metadata(item) for item in value]
    return value


@contextlib.contextmanager
def synthesized(revision: str, repo: Path = ROOT) -> Iterator[Path]:
    """Synthesize a git revision in a temporary worktree; yield its cdktf.out directory."""
    with tempfile.TemporaryDirectory(prefix="views-") as scratch:
        checkout = Path(scratch) / "checkout"
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", "--quiet", str(checkout), revision],
                       check=True)
        try:
            outdir = Path(scratch) / "cdktf.out"
            environment = {**os.environ, "CDKTF_OUTDIR": str(outdir),
                           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
            subprocess.run([sys.executable, "main.py"], cwd=checkout, env=environment, check=True)
            yield outdir
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(checkout)], check=False)


def synthesize_working_tree() -> Path:
    """Synthesize the working tree into ./cdktf.out (so a generated view is never older than the code)."""
    environment = {**os.environ, "CDKTF_OUTDIR": str(ROOT / "cdktf.out"),
                   "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=environment, check=True)
    return ROOT / "cdktf.out"
