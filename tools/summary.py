"""Print what the main job produced: stacks, resources per stack, checkov, criteria proven.

    python -m tools.summary [cdktf.out]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from tools.checkov_gate import gate
from tools.criteria import criteria

TRACEABILITY = Path(__file__).resolve().parent.parent / "docs" / "traceability.md"


def main(argv: list[str]) -> int:
    outdir = Path(argv[0] if argv else "cdktf.out")
    result = gate(outdir)
    print(f"{'stack':<10} {'resources':>9} {'checkov passed':>15} {'failed':>7}")
    for stack_file in sorted((outdir / "stacks").glob("*/cdk.tf.json")):
        stack = stack_file.parent.name
        document = json.loads(stack_file.read_text())
        count = sum(len(by_id) for by_id in document.get("resource", {}).values())
        failed = sum(1 for finding in result.failed if finding.stack == stack)
        print(f"{stack:<10} {count:>9} {result.passed_by_stack.get(stack, 0):>15} {failed:>7}")
    for finding in result.failed:
        print(f"FAILED {finding}")
    for entry in result.unused:
        print(f"warning: unused suppression {entry}")
    print(f"checkov: {result.passed} passed, {len(result.failed)} failed, {len(result.suppressed)} suppressed with reasons")
    proven = re.search(r"\*\*(\d+) of (\d+) criteria proven", TRACEABILITY.read_text()) if TRACEABILITY.exists() else None
    if proven:
        print(f"criteria proven by a passing test (docs/traceability.md, last test run): {proven.group(1)} of {len(criteria())}")
    else:
        print("criteria proven: run scripts/test to write docs/traceability.md")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
