"""Backup verification (R11.4): restore the newest backup into a scratch database and compare it with the source
of truth, table by table and chunk by chunk, then drop the scratch database.

Locally the backup is a pg_dump archive; on AWS it is the newest automated RDS snapshot, restored through the API
to a temporary instance (the scheduled form of the same check is the data tier's AWS Backup restore-testing plan)."""

from __future__ import annotations

import argparse
import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from psycopg import sql

from migration import report
from migration.cli_types import Subcommands
from migration.errors import MigrationError
from migration.events import EventLog, console
from migration.pg.compare import Comparison, compare
from migration.pg.connect import connect
from migration.pg.schema import pg_tool


def register(commands: Subcommands) -> None:
    verify = commands.add_parser("verify", help="restore the newest backup into a scratch database and compare with the source")
    where = verify.add_mutually_exclusive_group(required=True)
    where.add_argument("--archives", type=Path, help="directory of pg_dump custom-format archives (*.dump); the newest is used")
    where.add_argument("--rds-instance", help="RDS instance whose newest automated snapshot is restored (AWS)")
    verify.add_argument("--source", required=True, help="the source of truth to compare with (quiesced, or as of the backup)")
    verify.add_argument("--scratch-server", help="PostgreSQL URL of a server where a scratch database may be created (local)")
    verify.add_argument("--rds-instance-class", default="db.t4g.medium")
    verify.add_argument("--rds-subnet-group")
    verify.add_argument("--rds-security-group", action="append", default=[])
    verify.add_argument("--workers", type=int, default=4)
    verify.add_argument("--workdir", type=Path, default=Path("migration-runs"))
    verify.set_defaults(handler=_verify)


def newest_archive(directory: Path) -> Path:
    archives = sorted(directory.glob("*.dump"), key=lambda p: p.stat().st_mtime)
    if not archives:
        raise MigrationError(f"no pg_dump archives (*.dump) in {directory}")
    return archives[-1]


def verify_archive(archive: Path, source_dsn: str, scratch_server_dsn: str, workers: int = 4) -> Comparison:
    scratch = f"backup_verify_{int(time.time() * 1000)}"
    with connect(scratch_server_dsn, role="scratch server", autocommit=True) as server:
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
    try:
        scratch_dsn = _with_database(scratch_server_dsn, scratch)
        restored = subprocess.run([pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", f"--jobs={workers}",
                                   f"--dbname={scratch_dsn}", str(archive)], capture_output=True, text=True)
        if restored.returncode != 0:
            raise MigrationError(f"backup {archive.name} does not restore: {restored.stderr.strip().splitlines()[-1]}")
        return compare(source_dsn, scratch_dsn, workers)
    finally:
        with connect(scratch_server_dsn, role="scratch server", autocommit=True) as server:
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))


def verify_rds_snapshot(instance: str, source_dsn: str, instance_class: str, subnet_group: str | None,
                        security_groups: list[str], workers: int = 4) -> Comparison:
    """Restore the newest automated snapshot to a temporary instance, compare, delete the instance."""
    import boto3

    rds = boto3.client("rds")
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=instance, SnapshotType="automated")["DBSnapshots"]
    available = [s for s in snapshots if s["Status"] == "available"]
    if not available:
        raise MigrationError(f"RDS instance {instance} has no available automated snapshot")
    newest = max(available, key=lambda s: s["SnapshotCreateTime"])
    scratch = f"{instance}-verify-{int(time.time())}"[:63]
    rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier=scratch, DBSnapshotIdentifier=newest["DBSnapshotIdentifier"], DBInstanceClass=instance_class,
        PubliclyAccessible=False, MultiAZ=False, VpcSecurityGroupIds=security_groups,
        **({"DBSubnetGroupName": subnet_group} if subnet_group else {}),
        Tags=[{"Key": "purpose", "Value": "backup-verification"}],
    )
    try:
        rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=scratch, WaiterConfig={"Delay": 30, "MaxAttempts": 120})
        endpoint = rds.describe_db_instances(DBInstanceIdentifier=scratch)["DBInstances"][0]["Endpoint"]
        source = urlsplit(source_dsn)  # the snapshot keeps the source's users, so its credentials work
        scratch_dsn = urlunsplit(source._replace(netloc=f"{source.username}:{source.password}@{endpoint['Address']}:{endpoint['Port']}"))
        return compare(source_dsn, scratch_dsn, workers)
    finally:
        rds.delete_db_instance(DBInstanceIdentifier=scratch, SkipFinalSnapshot=True, DeleteAutomatedBackups=True)


def _with_database(dsn: str, database: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{database}"))


def _verify(args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.archives:
        if not args.scratch_server:
            raise MigrationError("--scratch-server is needed to restore a local archive")
        backup = newest_archive(args.archives)
        result, label = verify_archive(backup, args.source, args.scratch_server, args.workers), backup.name
    else:
        result = verify_rds_snapshot(args.rds_instance, args.source, args.rds_instance_class, args.rds_subnet_group,
                                     args.rds_security_group, args.workers)
        label = f"newest automated snapshot of {args.rds_instance}"
    summary = {"backup": label, "ok": result.ok, "seconds": round(time.monotonic() - started, 3),
               "schema differences": result.schema_differences, "tables": [asdict(t) | {"ok": t.ok} for t in result.tables]}
    EventLog(args.workdir / "backup" / "events.jsonl").emit("backup-verified", backup=label, ok=result.ok, tables=len(result.tables))
    report.write(args.workdir / "backup", "Backup verification", summary)
    console.print(f"backup {label}: {'verified identical' if result.ok else 'DIFFERS'} ({len(result.tables)} tables)")
    for table in result.tables:
        if not table.ok:
            print(f"{table.table}: missing {table.missing} extra {table.extra} altered {table.altered}")
    return 0 if result.ok else 1
