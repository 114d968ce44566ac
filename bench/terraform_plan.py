"""Time the offline Terraform check of each stack, step by step, one stack at a time.

    python main.py && python -m bench.terraform_plan [cdktf.out]

prints a Markdown section for bench/RESULTS.md ("## Terraform plan"): the
machine, then per stack the resources to add and the seconds of `terraform
init`, `validate`, `plan -refresh=false` and `show -json`.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

from tools.terraform_plan import find_toolchain, plan_stacks

STEPS = ("init", "validate", "plan", "show")


def machine() -> list[str]:
    def run(*command: str) -> str:
        return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()

    return [
        f"- date: {datetime.date.today().isoformat()}",
        f"- `uname -a`: `{run('uname', '-a')}`",
        f"- `nproc`: {os.cpu_count()}; load average at start {os.getloadavg()[0]:.1f} (other work inflates every time)",
        "- `free -g`:",
        "",
        "```",
        run("free", "-g"),
        "```",
    ]


def main(argv: list[str]) -> int:
    outdir = Path(argv[0] if argv else "cdktf.out")
    stacks = sorted(path.parent.name for path in (outdir / "stacks").glob("*/cdk.tf.json"))
    toolchain = find_toolchain()
    lines = [*machine(), "",
             f"terraform at `{toolchain.terraform}`, hashicorp/aws {toolchain.provider_version} from `{toolchain.mirror}`; "
             "one stack at a time.", "",
             "| stack | to add | " + " | ".join(f"{step} s" for step in STEPS) + " | total s |",
             "| --- | ---: | " + " | ".join("---:" for _ in STEPS) + " | ---: |"]
    for result in plan_stacks(outdir, stacks):
        seconds = [result.seconds[step] for step in STEPS]
        lines.append(f"| {result.stack} | {len(result.to_add)} | " + " | ".join(f"{s:.1f}" for s in seconds)
                     + f" | {sum(seconds):.1f} |")
    lines.append(f"\nload average at end: {os.getloadavg()[0]:.1f}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
