"""`migration s3 copy NAME …` and `migration s3 verify NAME …`."""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from migration import report
from migration.cli_types import Subcommands
from migration.events import EventLog, console, progress_bar

if TYPE_CHECKING:
    from migration.s3.buckets import Bucket

PROGRESS_EVERY = 1000  # objects per progress line in the event log (the manifest has a line per object)


def register(commands: Subcommands) -> None:
    for name, handler, help_text in (("copy", _copy, "copy objects (resumable, idempotent)"), ("verify", _verify, "list missing/extra/altered")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("name", help="name of this copy (its manifest, log and report live under --workdir/NAME)")
        for side in ("source", "target"):
            command.add_argument(f"--{side}-bucket", required=True)
            command.add_argument(f"--{side}-endpoint", help="S3 endpoint URL (default: AWS)")
            command.add_argument(f"--{side}-profile", help="AWS profile (default: the environment's credentials)")
            command.add_argument(f"--{side}-region")
        command.add_argument("--all-versions", action="store_true", help="every version and delete marker, not just the latest")
        command.add_argument("--workers", type=int, default=16)
        command.add_argument("--workdir", type=Path, default=Path("migration-runs"))
        command.set_defaults(handler=handler)
        if name == "copy":
            command.add_argument("--part-size-mb", type=int, default=16, help="streamed part size: memory ≈ workers × part size")
        else:
            command.add_argument("--quick", action="store_true", help="trust S3's stored full-object SHA-256 instead of hashing bytes")


def _buckets(args: argparse.Namespace) -> tuple[Bucket, Bucket]:
    from migration.s3.buckets import Bucket  # boto3 is imported only by the commands that use it

    def bucket(side: str) -> Bucket:
        return Bucket(getattr(args, f"{side}_bucket"), getattr(args, f"{side}_endpoint"), getattr(args, f"{side}_profile"),
                      getattr(args, f"{side}_region"))

    return bucket("source"), bucket("target")


def _copy(args: argparse.Namespace) -> int:
    from migration.s3.copy import plan_copy, run_copy
    from migration.s3.manifest import Manifest

    source, target = _buckets(args)
    directory = args.workdir / args.name
    events = EventLog(directory / "events.jsonl")
    manifest = Manifest(directory / "manifest.jsonl")
    events.emit("s3-copy-start", source=source.name, target=target.name, versions=args.all_versions)
    started = time.monotonic()
    plan = plan_copy(source, target, manifest, args.all_versions)
    events.emit("s3-copy-planned", listed=len(plan.listing), pending=len(plan.pending), found=len(plan.found))
    copied_count = itertools.count(1)
    with progress_bar(f"{args.name}: objects", total=len(plan.listing), unit="objects") as advance:
        advance(len(plan.listing) - len(plan.pending))

        def copied(entry: dict) -> None:  # each entry is in the manifest; the log gets a line per thousand
            if (count := next(copied_count)) % PROGRESS_EVERY == 0:
                events.emit("s3-copy-progress", copied=count, of=len(plan.pending))
            advance(1)

        new = run_copy(plan, source, target, manifest, workers=args.workers, part_size=args.part_size_mb * 1024 * 1024,
                       on_copied=copied)
    seconds = time.monotonic() - started
    events.emit("s3-copy-done", objects=len(new), found=len(plan.found), bytes=sum(e["size"] for e in new), seconds=round(seconds, 3))
    console.print(f"{len(new)} copied now, {len(plan.found)} found written by an interrupted attempt, "
                  f"{len(plan.listing)} listed, {seconds:.1f} s")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from migration.s3.verify import compare_buckets

    source, target = _buckets(args)
    directory = args.workdir / args.name
    started = time.monotonic()
    result = compare_buckets(source, target, versions=args.all_versions, quick=args.quick, workers=args.workers)
    summary = asdict(result) | {"ok": result.ok, "seconds": round(time.monotonic() - started, 3)}
    EventLog(directory / "events.jsonl").emit("s3-verified", **{k: v for k, v in summary.items() if k not in ("missing", "extra", "altered")},
                                              missing=len(result.missing), extra=len(result.extra), altered=len(result.altered))
    report.write(directory, f"S3 verification {args.name}", {"source": source.name, "target": target.name, **summary})
    print(json.dumps(summary, indent=2))
    return 0 if result.ok else 1
