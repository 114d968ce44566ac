"""`migration s3 copy NAME …`, `s3 verify NAME …`, and for S3 Batch Operations `s3 manifest NAME …` and
`s3 batch-job NAME …`."""

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

BATCH_MANIFEST = "batch-manifest.json"  # in the run directory: where `s3 manifest` wrote the job's manifest
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
            command.add_argument("--larger-than", type=int, metavar="BYTES",
                                 help="only objects above this size (after a Batch Operations job copied the rest)")
        else:
            command.add_argument("--quick", action="store_true", help="trust S3's stored full-object SHA-256 instead of hashing bytes")


    manifest = commands.add_parser("manifest", help="write the CSV manifest of an S3 Batch Operations copy job")
    manifest.add_argument("name", help="name of this copy (the manifest's key and the run directory)")
    manifest.add_argument("--source-bucket", required=True)
    manifest.add_argument("--manifest-bucket", required=True, help="the migration stack's batch bucket")
    for side in ("source", "manifest"):
        manifest.add_argument(f"--{side}-endpoint", help="S3 endpoint URL (default: AWS)")
        manifest.add_argument(f"--{side}-profile")
        manifest.add_argument(f"--{side}-region")
    manifest.add_argument("--workdir", type=Path, default=Path("migration-runs"))
    manifest.set_defaults(handler=_manifest)
    job = commands.add_parser("batch-job", help="create the S3 Batch Operations copy job for a manifest")
    job.add_argument("name", help="the name given to `s3 manifest`")
    job.add_argument("--account-id", required=True)
    job.add_argument("--target-bucket", required=True)
    job.add_argument("--role-arn", required=True, help="the migration stack's batch_role_arn output")
    job.add_argument("--report-bucket", help="completion reports (default: the manifest's bucket)")
    job.add_argument("--region", help="the target bucket's region: copy jobs run there")
    job.add_argument("--profile")
    job.add_argument("--workdir", type=Path, default=Path("migration-runs"))
    job.set_defaults(handler=_batch_job)


def _buckets(args: argparse.Namespace) -> tuple[Bucket, Bucket]:
    from migration.s3.buckets import Bucket  # boto3 is imported only by the commands that use it

    def bucket(side: str) -> Bucket:
        return Bucket(getattr(args, f"{side}_bucket"), getattr(args, f"{side}_endpoint"), getattr(args, f"{side}_profile"),
                      getattr(args, f"{side}_region"))

    return bucket("source"), bucket("target")


def _copy(args: argparse.Namespace) -> int:
    from migration.errors import MigrationError
    from migration.s3.copy import plan_copy, run_copy
    from migration.s3.manifest import Manifest

    source, target = _buckets(args)
    directory = args.workdir / args.name
    events = EventLog(directory / "events.jsonl")
    manifest = Manifest(directory / "manifest.jsonl")
    events.emit("s3-copy-start", source=source.name, target=target.name, versions=args.all_versions)
    started = time.monotonic()
    if args.larger_than is not None and args.all_versions:
        raise MigrationError("--larger-than copies latest objects only (what Batch Operations left), not --all-versions")
    plan = plan_copy(source, target, manifest, args.all_versions, args.larger_than)
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


def _manifest(args: argparse.Namespace) -> int:
    from migration.s3.batch import MANIFESTS_PREFIX, write_manifest
    from migration.s3.buckets import Bucket

    source = Bucket(args.source_bucket, args.source_endpoint, args.source_profile, args.source_region)
    into = Bucket(args.manifest_bucket, args.manifest_endpoint, args.manifest_profile, args.manifest_region)
    written = write_manifest(source, into, f"{MANIFESTS_PREFIX}{args.name}.csv")
    directory = args.workdir / args.name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / BATCH_MANIFEST).write_text(json.dumps(asdict(written), indent=2))
    EventLog(directory / "events.jsonl").emit("s3-batch-manifest", **{k: v for k, v in asdict(written).items() if k != "too_large"},
                                              too_large=len(written.too_large))
    print(json.dumps(asdict(written), indent=2))
    if written.too_large:
        console.print(f"{len(written.too_large)} objects above 5 GiB are not in the manifest: copy them with "
                      f"`s3 copy {args.name}-large --larger-than 5368709120 …`")
    return 0


def _batch_job(args: argparse.Namespace) -> int:
    import boto3

    from migration.errors import MigrationError
    from migration.s3.batch import BatchManifest, create_copy_job

    directory = args.workdir / args.name
    if not (directory / BATCH_MANIFEST).exists():
        raise MigrationError(f"no manifest for {args.name} in {directory}: run `s3 manifest {args.name} …` first")
    manifest = BatchManifest(**json.loads((directory / BATCH_MANIFEST).read_text()))
    s3control = boto3.session.Session(profile_name=args.profile, region_name=args.region).client("s3control")
    job_id = create_copy_job(s3control, account_id=args.account_id, name=args.name, manifest=manifest, target_bucket=args.target_bucket,
                             role_arn=args.role_arn, report_bucket=args.report_bucket or manifest.bucket)
    EventLog(directory / "events.jsonl").emit("s3-batch-job", job_id=job_id, objects=manifest.objects)
    print(job_id)
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
