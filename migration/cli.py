"""Command line: `python -m migration …` (or the `directfanz-migrate` entry point)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from migration.cli_types import Subcommands
from migration.errors import MigrationError
from migration.events import console

if TYPE_CHECKING:
    from migration.pg.run import PgRun


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except MigrationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        if not isinstance(error, _service_errors()):
            raise  # a bug in the tool: keep the traceback
        print(f"error: {type(error).__name__}: {str(error).strip().splitlines()[0]}", file=sys.stderr)
        return 2


def _service_errors() -> tuple[type[Exception], ...]:
    """Errors reported by a server or service (not by the tool), from the client libraries this command loaded;
    looked up lazily so that a PostgreSQL command does not pay for importing boto3."""
    known = {"psycopg": "Error", "redis": "RedisError", "botocore.exceptions": ("BotoCoreError", "ClientError")}
    return tuple(
        getattr(sys.modules[module], name)
        for module, names in known.items() if module in sys.modules
        for name in ((names,) if isinstance(names, str) else names)
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="migration", description="DirectFanz data migration to AWS (R11)")
    areas = root.add_subparsers(required=True, metavar="AREA")
    _pg(areas.add_parser("pg", help="PostgreSQL: run, follow, status, rollback, verify").add_subparsers(required=True, metavar="COMMAND"))
    _s3(areas.add_parser("s3", help="S3 content: copy, verify, manifest and batch-job (S3 Batch Operations)").add_subparsers(required=True, metavar="COMMAND"))
    _cache(areas.add_parser("cache", help="Redis: rebuild, check").add_subparsers(required=True, metavar="COMMAND"))
    _backup(areas.add_parser("backup", help="backups: verify").add_subparsers(required=True, metavar="COMMAND"))
    fixture = areas.add_parser("fixture", help="create the platform's real schema filled with hostile values (tests, benchmarks, rehearsals)")
    fixture.add_argument("--dsn", required=True)
    fixture.add_argument("--scale", type=int, default=1000, help="1000 ≈ 671,000 rows (≈ 0.6 GB); 3400 ≈ 2.1 GB")
    fixture.set_defaults(handler=_fixture)
    return root


# -- PostgreSQL -------------------------------------------------------------------------------------------------

def _pg(commands: Subcommands) -> None:
    from migration.pg.state import PHASES

    def common(command: argparse.ArgumentParser, source: bool | None = True) -> None:
        """source: True = required, None = optional, False = not taken."""
        command.add_argument("name", help="run name")
        if source is not False:
            command.add_argument("--source", required=bool(source), default="", help="source PostgreSQL URL (only read, see docs)")
        command.add_argument("--target", required=True, help="target PostgreSQL URL (holds the run state)")
        command.add_argument("--workdir", type=Path, default=Path("migration-runs"), help="event log and report directory")
        command.add_argument("--workers", type=int, default=4, help="parallel COPY streams")
        command.add_argument("--chunk-rows", type=int, default=50_000)

    run = commands.add_parser("run", help="run or resume the phases up to --until")
    common(run)
    run.add_argument("--until", choices=PHASES, default="verify")
    run.add_argument("--capture-changes", action="store_true",
                     help="new run: follow the source with logical replication (a publication and a slot on the source) so writes freeze for seconds")
    run.add_argument("--replica-identity-full", action="store_true",
                     help="with --capture-changes: set REPLICA IDENTITY FULL on source tables without a primary key (else they are refused)")
    run.add_argument("--freeze", action="store_true",
                     help="cutover with change capture: the tool freezes the source's writes (table locks, then the database read-only)")
    run.set_defaults(handler=_pg_run)
    follow = commands.add_parser("follow", help="apply the source's changes to the target until cutover (or Ctrl-C)")
    common(follow)
    follow.add_argument("--until-caught-up", action="store_true", help="stop once every change so far is applied")
    follow.set_defaults(handler=_pg_follow)
    status = commands.add_parser("status", help="where a run is")
    common(status, source=False)
    status.set_defaults(handler=_pg_status)
    rollback = commands.add_parser("rollback", help="undo a run that has not cut over (empties the target)")
    common(rollback, source=None)
    rollback.set_defaults(handler=_pg_rollback)
    verify = commands.add_parser("verify", help="compare two databases (no run needed)")
    verify.add_argument("--source", required=True)
    verify.add_argument("--target", required=True)
    verify.add_argument("--workers", type=int, default=4)
    verify.add_argument("--chunk-rows", type=int, default=50_000)
    verify.add_argument("--json", action="store_true", help="print the comparison as JSON")
    verify.set_defaults(handler=_pg_verify)


def _pg_runner(args: argparse.Namespace) -> PgRun:
    from migration.pg.run import PgRun

    return PgRun(args.name, getattr(args, "source", ""), args.target, args.workdir, args.workers, args.chunk_rows,
                 capture_changes=getattr(args, "capture_changes", False),
                 replica_identity_full=getattr(args, "replica_identity_full", False), freeze=getattr(args, "freeze", False))


def _pg_run(args: argparse.Namespace) -> int:
    runner = _pg_runner(args)
    phases = runner.run(until=args.until)
    console.print(f"run {args.name}: " + ", ".join(f"{p} {s['status']}" for p, s in phases.items()))
    console.print(f"report: {runner.directory / 'report.md'}")
    return 0


def _pg_follow(args: argparse.Namespace) -> int:
    applied = _pg_runner(args).follow(stop_when_caught_up=args.until_caught_up)
    console.print(f"run {args.name}: {applied} changes applied")
    return 0


def _pg_status(args: argparse.Namespace) -> int:
    status = _pg_runner(args).status()
    print(json.dumps(status, indent=2, default=str))
    return 0


def _pg_rollback(args: argparse.Namespace) -> int:
    _pg_runner(args).rollback()
    console.print(f"run {args.name} rolled back: target emptied" + (", slot and publication removed from the source" if args.source else ", source untouched"))
    return 0


def _pg_verify(args: argparse.Namespace) -> int:
    from migration.pg.compare import compare

    result = compare(args.source, args.target, args.workers, args.chunk_rows)
    if args.json:
        print(json.dumps({"ok": result.ok, "schema_differences": result.schema_differences,
                          "sequence_differences": result.sequence_differences,
                          "tables": [asdict(t) | {"ok": t.ok} for t in result.tables]}, indent=2))
    else:
        for line in result.schema_differences:
            print(f"schema: {line}")
        for line in result.sequence_differences:
            print(line)
        for table in result.tables:
            if not table.ok:
                print(f"{table.table}: {table.source_rows} vs {table.target_rows} rows; missing {table.missing} extra {table.extra} altered {table.altered}")
        print(f"{'identical' if result.ok else 'DIFFERENT'}: {len(result.tables)} tables, {sum(t.source_rows for t in result.tables)} rows")
    return 0 if result.ok else 1


def _s3(commands: Subcommands) -> None:
    from migration.s3.cli import register

    register(commands)


def _cache(commands: Subcommands) -> None:
    from migration.cache.cli import register

    register(commands)


def _backup(commands: Subcommands) -> None:
    from migration.backup import register

    register(commands)


def _fixture(args: argparse.Namespace) -> int:
    from migration import fixture

    print(f"{fixture.create(args.dsn, args.scale)} rows written")
    return 0
