"""Benchmark: synthesizing every stack, beside a bare import of the provider bindings.

Measures wall time and peak resident memory of the whole process tree (python
plus the jsii node child), sampled from /proc every 20 ms, for:

- `import cdktf_cdktf_provider_aws` the normal way (its __init__ loads all 2,212 resource modules);
- `python main.py`, which loads only the modules it uses (modules/__init__.py);
- the same synthesis after a normal full import (the stub then stands aside),
  whose output must be byte-identical.

    python bench/synth.py [--runs 3]

Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int((Path("/proc") / str(current) / "statm").read_text().split()[1]) * PAGE
        stack.extend(children.get(current, []))
    return total


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{command} failed: {process.stderr.read().decode()[-500:]}")
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    full_import_then_main = "import cdktf_cdktf_provider_aws, runpy; runpy.run_path('main.py', run_name='__main__')"
    with tempfile.TemporaryDirectory() as outdir, tempfile.TemporaryDirectory() as full_outdir:
        cases = {
            "bare `import cdktf_cdktf_provider_aws`": ([sys.executable, "-c", "import cdktf_cdktf_provider_aws"], outdir),
            "`python main.py`, all stacks (only the modules used)": ([sys.executable, "main.py"], outdir),
            "all stacks after the normal full import": ([sys.executable, "-c", full_import_then_main], full_outdir),
        }
        results = {
            name: [measure(command, {**env, "CDKTF_OUTDIR": out}) for _ in range(runs)]
            for name, (command, out) in cases.items()
        }
        identical = all(
            path.read_bytes() == (Path(full_outdir) / path.relative_to(outdir)).read_bytes()
            for path in Path(outdir).glob("stacks/*/cdk.tf.json")
        )
        stacks = sorted(p.parent.name for p in Path(outdir).glob("stacks/*/cdk.tf.json"))
        resources = sum(
            sum(len(v) for v in __import__("json").loads(p.read_text()).get("resource", {}).values())
            for p in Path(outdir).glob("stacks/*/cdk.tf.json")
        )
    print(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}")
    print(f"- stacks: {', '.join(stacks)} ({resources} resources in all); {runs} runs each, median shown")
    print(f"- output of the two syntheses byte-identical: {'yes' if identical else 'NO'}")
    print()
    print("| case | wall time (s) | peak RSS, python + node (MiB) |")
    print("| --- | ---: | ---: |")
    for name, samples in results.items():
        wall = statistics.median(s[0] for s in samples)
        peak = statistics.median(s[1] for s in samples) / 2**20
        print(f"| {name} | {wall:.1f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
