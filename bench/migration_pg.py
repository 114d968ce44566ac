"""PostgreSQL benchmark: this tool beside `pgcopydb clone` and `pg_dump -Fd -j2` + `pg_restore -j2`, at several sizes of
the platform's real schema (migration/fixture.py), all in one session on the same two local PostgreSQL 15 clusters;
then the cutover's write freeze with change capture while a writer runs at --rate writes/s.

    python bench/migration_pg.py --scales 1000 3400    # 671k rows; ≈ 2.1 GB
Prints one JSON object per line; the numbers go into bench/RESULTS.md ("## Migration")."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "migration")]

from migration_helpers import Writer  # noqa: E402
from migration_servers import PostgresCluster, scratch_root  # noqa: E402

from migration import fixture  # noqa: E402
from migration.events import EventLog  # noqa: E402
from migration.pg.compare import compare  # noqa: E402
from migration.pg.run import PgRun  # noqa: E402
from migration.pg.schema import pg_tool  # noqa: E402


def timed(command: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    return round(time.monotonic() - started, 1)


def create(cluster: PostgresCluster, name: str) -> str:
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return cluster.dsn(name)


def drop(cluster: PostgresCluster, *names: str) -> None:
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        for name in names:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def copy_tools(source: PostgresCluster, target: PostgresCluster, root: Path, scale: int, workers: int) -> dict:
    """The three tools on one fixture size; each peer's copy is then checked with this tool's `pg verify`."""
    result: dict = {"scale": scale, "load_before": os.getloadavg()[0]}
    platform_dsn = create(source, "platform")
    started = time.monotonic()
    result["rows"] = fixture.create(platform_dsn, scale)
    result["fixture_seconds"] = round(time.monotonic() - started, 1)
    with psycopg.connect(platform_dsn) as conn:
        result["database_bytes"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]

    run = PgRun(f"bench{scale}", platform_dsn, create(target, "tool"), root / "runs", workers=workers)
    started = time.monotonic()
    run.run(until="verify")
    result["tool_seconds"] = round(time.monotonic() - started, 1)
    events = run.events.read()
    phases = {e["phase"]: e["seconds"] for e in events if e["event"] == "phase-done"}
    copied = max(e["ts"] for e in events if e["event"] == "chunk-copied") - next(e["ts"] for e in events if e["event"] == "data-plan")
    result |= {"tool_copy_seconds": round(copied, 1), "tool_post_data_seconds": round(phases["data"] - copied, 1),
               "tool_verify_seconds": round(phases["verify"], 1)}

    shutil.rmtree(root / "pgcopydb", ignore_errors=True)
    result["pgcopydb_seconds"] = timed(
        ["pgcopydb", "clone", "--source", platform_dsn, "--target", create(target, "pgcopydb"), "--dir", str(root / "pgcopydb"),
         "--table-jobs", "2", "--index-jobs", "2", "--no-owner", "--no-acl"])
    shutil.rmtree(root / "dump", ignore_errors=True)
    dump = timed([pg_tool("pg_dump"), "-Fd", "-j2", "-f", str(root / "dump"), f"--dbname={platform_dsn}"])
    restore = timed([pg_tool("pg_restore"), "-j2", "--no-owner", "--no-privileges", f"--dbname={create(target, 'dumprestore')}", str(root / "dump")])
    result["dump_restore_seconds"] = round(dump + restore, 1)
    for peer in ("pgcopydb", "dumprestore"):  # neither verifies data; this tool's verify checks their copies
        started = time.monotonic()
        result[f"{peer}_verified_identical"] = compare(platform_dsn, target.dsn(peer), workers=workers).ok
        result[f"{peer}_verify_seconds"] = round(time.monotonic() - started, 1)
    result["tool_vs_pgcopydb"] = round(result["tool_seconds"] / result["pgcopydb_seconds"], 2)
    result["load_after"] = os.getloadavg()[0]
    drop(target, "tool", "pgcopydb", "dumprestore")
    shutil.rmtree(root / "dump", ignore_errors=True)
    return result


def freeze(source: PostgresCluster, target: PostgresCluster, root: Path, scale: int, rate: float, trials: int, workers: int) -> dict:
    """Change capture with a live writer: copy + verify, follow for a few seconds, then cutover with --freeze."""
    freezes, details = [], []
    platform_dsn = create(source, "live")
    fixture.create(platform_dsn, scale)
    for trial in range(trials):
        with psycopg.connect(source.dsn(), autocommit=True) as conn:  # the previous cutover left it read-only
            conn.execute("ALTER DATABASE live RESET default_transaction_read_only")
        target_dsn = create(target, f"live{trial}")
        writer = Writer(platform_dsn, rate=rate)
        writer.start()
        time.sleep(1)
        run = PgRun(f"live{trial}", platform_dsn, target_dsn, root / "runs", workers=workers, capture_changes=True,
                    replica_identity_full=True, freeze=True)
        run.run(until="verify")
        follower = threading.Thread(target=run.follow)
        follower.start()
        time.sleep(5)
        started = time.monotonic()
        run.run(until="cutover")  # asks the follower to stop, catches up, freezes, drains, checks, makes the source read-only
        cutover_seconds = time.monotonic() - started
        follower.join()
        writer.stop()
        acknowledged = len(writer.acknowledged)
        event = next(e for e in EventLog(run.directory / "events.jsonl").read() if e["event"] == "cutover")
        missing = writer.missing_on(target_dsn)
        identical = compare(platform_dsn, target_dsn, workers=workers).ok
        freezes.append(event["freeze_seconds"])
        details.append({k: v for k, v in event.items() if k not in ("ts", "pid", "event", "run")}
                       | {"cutover_command_seconds": round(cutover_seconds, 2), "writes_acknowledged": acknowledged,
                          "writes_per_second": round(acknowledged / writer.seconds),
                          "writes_refused": writer.refused, "acknowledged_missing_on_target": len(missing), "identical": identical,
                          "load": os.getloadavg()[0]})
        drop(target, f"live{trial}")
    drop(source, "live")
    return {"freeze_trials": details, "freeze_median_seconds": statistics.median(freezes), "freeze_max_seconds": max(freezes),
            "rate": rate, "scale": scale}


def native_freeze(source: PostgresCluster, target: PostgresCluster, root: Path, scale: int, rate: float, trials: int) -> dict:
    """The reference: PostgreSQL's own publication/subscription with the same writer. Its freeze is the time from
    the same table lock until the target shows the last write acknowledged before it (commit order); it checks
    nothing else."""
    freezes = []
    source_dsn = create(source, "native")
    fixture.create(source_dsn, scale)
    with psycopg.connect(source_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE verificationtokens REPLICA IDENTITY FULL")
        conn.execute("CREATE PUBLICATION native FOR ALL TABLES")
    archive = root / "native.schema"
    subprocess.run([pg_tool("pg_dump"), "--schema-only", "--format=custom", f"--file={archive}", f"--dbname={source_dsn}"], check=True)
    for trial in range(trials):
        with psycopg.connect(source.dsn(), autocommit=True) as conn:
            conn.execute("ALTER DATABASE native RESET default_transaction_read_only")
        target_dsn = create(target, f"native{trial}")
        subprocess.run([pg_tool("pg_restore"), "--no-owner", "--no-privileges", f"--dbname={target_dsn}", str(archive)], check=True)
        writer = Writer(source_dsn, rate=rate)
        writer.start()
        with psycopg.connect(target_dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SUBSCRIPTION native{trial} CONNECTION '{source.dsn('native')}' PUBLICATION native")
            while conn.execute("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'").fetchone()[0]:
                time.sleep(0.1)
            time.sleep(5)
            with psycopg.connect(source_dsn, autocommit=True) as admin:
                started = time.monotonic()
                admin.execute("BEGIN")
                admin.execute("LOCK TABLE messages, users, comments, verificationtokens, \"_TierContent\" IN EXCLUSIVE MODE")
                table, key, value = writer.acknowledged[-1]
                while (table, key, value) in writer.missing_on_subset(target_dsn, [(table, key, value)]):
                    time.sleep(0.002)
                freezes.append(round(time.monotonic() - started, 3))
                admin.execute("ROLLBACK")
            writer.stop()
            while writer.missing_on(target_dsn):  # everything arrives in the end (the writer wrote after the lock too)
                time.sleep(0.2)
            conn.execute(f"DROP SUBSCRIPTION native{trial}")
        drop(target, f"native{trial}")
    drop(source, "native")
    return {"native_freeze_seconds": freezes, "native_freeze_median_seconds": statistics.median(freezes), "rate": rate, "scale": scale}


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--scales", type=int, nargs="*", default=[1000, 3400], help="fixture sizes (1000 = 671k rows; 3400 ≈ 2.1 GB)")
    options.add_argument("--workers", type=int, default=4)
    options.add_argument("--rate", type=float, default=250, help="writer's writes per second during the freeze trials")
    options.add_argument("--freeze-trials", type=int, default=3)
    options.add_argument("--freeze-scale", type=int, default=1000)
    options.add_argument("--native-trials", type=int, default=3, help="the same freeze with PostgreSQL's publication/subscription")
    args = options.parse_args()
    print(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.platform(),
                      "cpus": os.cpu_count(), "pgcopydb": subprocess.run(["pgcopydb", "--version"], capture_output=True, text=True).stderr.strip().splitlines()[-1:]}), flush=True)
    root = scratch_root()
    (root / "source").mkdir()
    (root / "target").mkdir()
    source, target = PostgresCluster(root / "source", "data"), PostgresCluster(root / "target", "data")
    try:
        for scale in args.scales:
            print(json.dumps(copy_tools(source, target, root, scale, args.workers)), flush=True)
            drop(source, "platform")
        if args.freeze_trials:
            print(json.dumps(freeze(source, target, root, args.freeze_scale, args.rate, args.freeze_trials, args.workers)), flush=True)
        if args.native_trials:
            print(json.dumps(native_freeze(source, target, root, args.freeze_scale, args.rate, args.native_trials)), flush=True)
    finally:
        source.stop()
        target.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
