"""Reading a synthesized stack's Terraform JSON in tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StackJson:
    name: str
    document: dict[str, Any]

    @classmethod
    def read(cls, outdir: Path, name: str) -> StackJson:
        return cls(name, json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text()))

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """{logical id: body} of every resource of a type (empty if none)."""
        return self.document.get("resource", {}).get(resource_type, {})

    def resource(self, resource_type: str, logical_id: str) -> dict[str, Any]:
        found = self.resources(resource_type)
        assert logical_id in found, f"{self.name}: no {resource_type}.{logical_id}; have {sorted(found)}"
        return found[logical_id]

    def data(self, data_type: str) -> dict[str, dict[str, Any]]:
        return self.document.get("data", {}).get(data_type, {})

    @property
    def resource_types(self) -> set[str]:
        return set(self.document.get("resource", {}))

    def all_resources(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            (resource_type, logical_id, body)
            for resource_type, by_id in self.document.get("resource", {}).items()
            for logical_id, body in by_id.items()
        ]

    @property
    def resource_count(self) -> int:
        return len(self.all_resources())

    @property
    def outputs(self) -> dict[str, Any]:
        return self.document.get("output", {})

    @property
    def providers(self) -> list[dict[str, Any]]:
        return self.document["provider"]["aws"]

    @property
    def backend(self) -> dict[str, Any]:
        return self.document["terraform"]["backend"]


def ref(resource_type: str, logical_id: str, attribute: str) -> str:
    """The interpolation Terraform JSON uses for a reference, e.g. ${aws_kms_key.x.arn}."""
    return f"${{{resource_type}.{logical_id}.{attribute}}}"
