"""PostgreSQL copy+verify benchmark: this tool beside `pgcopydb clone` and `pg_dump -Fd -j2` + `pg_restore -j2`,
all in one session on the same two local PostgreSQL 15 clusters and the same platform-shaped fixture.

    python bench/migration_pg.py --scale 4000      # scale 4000 ≈ 1.9 M rows
Prints one JSON object; the numbers go into bench/RESULTS.md ("## Migration")."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "migration")]

from migration_servers import PostgresCluster, scratch_root  # noqa: E402

from migration import fixture  # noqa: E402
from migration.pg.compare import compare  # noqa: E402
from migration.pg.run import PgRun  # noqa: E402
from migration.pg.schema import pg_tool  # noqa: E402


def timed(command: list[str], **kwargs) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, **kwargs)
    return time.monotonic() - started


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--scale", type=int, default=4000)
    options.add_argument("--workers", type=int, default=4)
    args = options.parse_args()
    root = scratch_root()
    (root / "source").mkdir()
    (root / "target").mkdir()
    source, target = PostgresCluster(root / "source", "data"), PostgresCluster(root / "target", "data")
    results: dict = {"scale": args.scale}
    try:
        for cluster, names in ((source, ["platform"]), (target, ["tool", "pgcopydb", "dumprestore"])):
            with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
                for name in names:
                    conn.execute(f"CREATE DATABASE {name}")
        started = time.monotonic()
        results["rows"] = fixture.create(source.dsn("platform"), args.scale)
        results["fixture_seconds"] = round(time.monotonic() - started, 1)
        with psycopg.connect(source.dsn("platform")) as conn:
            results["database_bytes"] = conn.execute("SELECT pg_database_size('platform')").fetchone()[0]

        run = PgRun("bench", source.dsn("platform"), target.dsn("tool"), root / "runs", workers=args.workers)
        started = time.monotonic()
        run.run(until="verify")
        results["tool_total_seconds"] = round(time.monotonic() - started, 1)
        phases = {e["phase"]: e["seconds"] for e in run.events.read() if e["event"] == "phase-done"}
        results["tool_copy_seconds"] = round(phases["schema"] + phases["data"], 1)
        results["tool_verify_seconds"] = round(phases["verify"], 1)

        results["pgcopydb_seconds"] = round(timed(
            ["pgcopydb", "clone", "--source", source.dsn("platform"), "--target", target.dsn("pgcopydb"), "--dir", str(root / "pgcopydb"),
             "--table-jobs", "2", "--index-jobs", "2", "--no-owner", "--no-acl"]), 1)
        dump_dir = root / "dump"
        dump = timed([pg_tool("pg_dump"), "-Fd", "-j2", "-f", str(dump_dir), f"--dbname={source.dsn('platform')}"])
        restore = timed([pg_tool("pg_restore"), "-j2", "--no-owner", "--no-privileges", f"--dbname={target.dsn('dumprestore')}", str(dump_dir)])
        results["dump_restore_seconds"] = round(dump + restore, 1)
        # The peers have no data verification of their own; this tool's verify, run over their copies, is the check.
        for peer in ("pgcopydb", "dumprestore"):
            started = time.monotonic()
            results[f"{peer}_verified_identical"] = compare(source.dsn("platform"), target.dsn(peer), workers=args.workers).ok
            results[f"{peer}_verify_seconds"] = round(time.monotonic() - started, 1)
    finally:
        source.stop()
        target.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
