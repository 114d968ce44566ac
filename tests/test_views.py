"""Operator views: change review, reference, cost estimate, architecture picture; and the house lint.

The views read the session's synthesized JSON (`synth_dir`, `stacks`); a
changed synth is made by editing a copy of it, never by synthesizing again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tools.views import diff, reference
from tools.views.synth import ROOT, read_stacks


def _edited_copy(synth_dir: Path, tmp_path: Path, stack: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the session synth with one stack's JSON edited."""
    copy = tmp_path / "after"
    shutil.copytree(synth_dir / "stacks", copy / "stacks")
    path = copy / "stacks" / stack / "cdk.tf.json"
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document, indent=2))
    return copy


def _first(document: dict[str, Any], *resource_types: str) -> tuple[str, str, dict[str, Any]]:
    for resource_type in resource_types:
        for logical_id, body in sorted(document["resource"].get(resource_type, {}).items()):
            return resource_type, logical_id, body
    raise AssertionError(f"no resource of {resource_types} in the stack")


# -- change review --

def test_diff_of_identical_synths_is_empty_and_safe(synth_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert diff.main([str(synth_dir), str(synth_dir)]) == 0
    assert "No changes." in capsys.readouterr().out


def test_diff_tag_only_change_is_not_stateful(synth_dir: Path, tmp_path: Path) -> None:
    def tag(document: dict[str, Any]) -> None:
        for body in document["resource"]["aws_kms_key"].values():
            body.setdefault("tags", {})["Reviewed"] = "yes"

    after = _edited_copy(synth_dir, tmp_path, "prod", tag)
    completed = subprocess.run([sys.executable, "-m", "tools.views.diff", str(synth_dir), str(after)],
                               cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "tags.Reviewed: (absent) -> 'yes'" in completed.stdout
    assert "[STATEFUL" not in completed.stdout
    assert "No stateful resource is touched." in completed.stdout


def test_diff_flags_argument_that_replaces_a_stateful_resource(synth_dir: Path, tmp_path: Path) -> None:
    def rename(document: dict[str, Any]) -> None:
        body = document["resource"]["aws_dynamodb_table"]["lock_table"]
        body["name"] = body["name"] + "-v2"

    changes = diff.compare(read_stacks(synth_dir), read_stacks(_edited_copy(synth_dir, tmp_path, "state", rename)))
    assert [(change.stack, change.address, change.replacing) for change in changes] == [
        ("state", "aws_dynamodb_table.lock_table", ["name"])
    ]
    assert diff.verdict(changes) == diff.Verdict.STATEFUL_REPLACEMENT
    assert "REPLACED (forced by name)" in diff.render(changes)


def test_diff_reports_removed_stateful_resource_as_destroyed(synth_dir: Path, tmp_path: Path) -> None:
    after = _edited_copy(synth_dir, tmp_path, "prod",
                         lambda document: document["resource"]["aws_kms_key"].pop("keys_database_key"))
    changes = diff.compare(read_stacks(synth_dir), read_stacks(after))
    removed = [change for change in changes if change.action == "remove"]
    assert [change.address for change in removed] == ["aws_kms_key.keys_database_key"]
    assert removed[0].stateful and diff.verdict(changes) == diff.Verdict.STATEFUL_REPLACEMENT


def test_diff_of_stateless_change_is_safe(synth_dir: Path, tmp_path: Path) -> None:
    def widen(document: dict[str, Any]) -> None:
        document["resource"]["aws_vpc"]["network_vpc"]["enable_dns_hostnames"] = False

    changes = diff.compare(read_stacks(synth_dir), read_stacks(_edited_copy(synth_dir, tmp_path, "dev", widen)))
    assert [(change.address, list(change.attributes)) for change in changes] == [
        ("aws_vpc.network_vpc", ["enable_dns_hostnames"])
    ]
    assert diff.verdict(changes) == diff.Verdict.SAFE


# -- reference --

def test_reference_is_current(synth_dir: Path) -> None:
    expected = reference.render(read_stacks(synth_dir))
    committed = reference.OUTPUT.read_text() if reference.OUTPUT.exists() else ""
    assert committed == expected, "docs/reference.md is stale: regenerate it with `python -m tools.views.reference`"


def test_reference_lists_module_inputs_environment_settings_and_stack_outputs(synth_dir: Path) -> None:
    text = reference.render(read_stacks(synth_dir))
    network = text.split("### `modules/network.py`")[1].split("\n### ")[0]
    assert "| `nat_per_zone` | one NAT gateway per zone (prod) or one for all (cheaper, dev) | `bool` | n/a | yes |" in network
    assert "#### Outputs: `Network`" in network
    assert "| `on_demand_base` | Tasks above this many per service may run on FARGATE_SPOT (R10.1). (ge=0) |" in text
    assert "| `database.instance_class` | `db.t4g.medium` |" in text
    assert "| `state_bucket` | `${aws_s3_bucket.bucket_bucket.bucket}` |" in text
