"""Scan the synthesized stacks with checkov and apply our reasoned suppressions.

checkov cannot skip a check for one resource of Terraform JSON (inline
comments are ignored there, `--skip-check ID:resource` too, and a config
file's skip list is global), so this filter reads `checkov -o json` and
applies `checkov/suppressions.toml`:

    [CKV_AWS_338]
    "*/aws_cloudwatch_log_group" = "reason"            # every resource of a type
    [CKV_AWS_145]
    "*/aws_s3_bucket.access_logs_bucket" = "reason"   # one resource, in every stack
    "state/aws_s3_bucket.bucket_bucket" = "reason"     # one resource of one stack

A failed check that no entry covers fails the gate; so does an entry with an
empty reason. Entries that matched nothing are reported as unused.

    python -m tools.checkov_gate [cdktf.out]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SUPPRESSIONS = Path(__file__).resolve().parent.parent / "checkov" / "suppressions.toml"


@dataclass(frozen=True)
class Finding:
    check_id: str
    stack: str
    address: str  # <type>.<logical id>
    name: str

    def __str__(self) -> str:
        return f"{self.check_id} {self.stack}/{self.address} ({self.name})"


@dataclass
class GateResult:
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)
    suppressed: list[tuple[Finding, str]] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    passed_by_stack: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def load_suppressions(path: Path = SUPPRESSIONS) -> dict[str, dict[str, str]]:
    table = tomllib.loads(path.read_text())
    for check_id, entries in table.items():
        for key, reason in entries.items():
            if not isinstance(reason, str) or len(reason.strip()) < 20:
                raise ValueError(f"{path.name}: {check_id} {key}: every suppression needs a written reason")
            if key.count("/") != 1 or key.split("/")[1].count(".") > 1 or key.split("/")[1] == "":
                raise ValueError(f"{path.name}: {check_id} {key}: expected <stack|*>/<type>[.<logical id>]")
    return table


def _types_by_logical_id(outdir: Path, stack: str) -> dict[str, str]:
    document = json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text())
    return {
        logical_id: resource_type
        for resource_type, resources in document.get("resource", {}).items()
        for logical_id in resources
    }


def _address(outdir: Path, stack: str, resource: str, cache: dict[str, dict[str, str]]) -> str:
    kind, _, logical_id = resource.partition(".")
    if kind != "resource":  # graph checks already name the type
        return resource
    types = cache.setdefault(stack, _types_by_logical_id(outdir, stack))
    return f"{types.get(logical_id, 'unknown')}.{logical_id}"


def run_checkov(outdir: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "checkov.main", "-d", str(outdir), "--framework", "terraform_json",
         "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode not in (0, 1) or not completed.stdout.strip():
        raise RuntimeError(f"checkov did not run: {completed.stderr.strip()[-2000:]}")
    report = json.loads(completed.stdout)
    return report[0] if isinstance(report, list) else report


def evaluate(report: dict, outdir: Path, suppressions: dict[str, dict[str, str]]) -> GateResult:
    result = GateResult()
    used: set[tuple[str, str]] = set()
    types: dict[str, dict[str, str]] = {}
    for check in report["results"]["passed_checks"]:
        stack = Path(check["file_path"]).parent.name
        result.passed_by_stack[stack] = result.passed_by_stack.get(stack, 0) + 1
        result.passed += 1
    for check in report["results"]["failed_checks"]:
        stack = Path(check["file_path"]).parent.name
        address = _address(outdir, stack, check["resource"], types)
        finding = Finding(check["check_id"], stack, address, check["check_name"])
        entries = suppressions.get(finding.check_id, {})
        resource_type = address.split(".")[0]
        for key in (f"{stack}/{address}", f"*/{address}", f"*/{resource_type}"):
            if key in entries:
                used.add((finding.check_id, key))
                result.suppressed.append((finding, entries[key]))
                break
        else:
            result.failed.append(finding)
    result.unused = sorted(
        f"{check_id} {key}" for check_id, entries in suppressions.items() for key in entries if (check_id, key) not in used
    )
    return result


def gate(outdir: Path) -> GateResult:
    return evaluate(run_checkov(outdir), outdir, load_suppressions())


def main(argv: list[str]) -> int:
    outdir = Path(argv[0] if argv else "cdktf.out")
    result = gate(outdir)
    for finding in result.failed:
        print(f"FAILED {finding}")
    for entry in result.unused:
        print(f"warning: unused suppression {entry}")
    print(f"checkov: {result.passed} passed, {len(result.failed)} failed, {len(result.suppressed)} suppressed with reasons")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
