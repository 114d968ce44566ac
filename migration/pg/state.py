"""Run state kept in the target database (schema _migration), so progress commits with the data it describes."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from migration.pg.catalog import STATE_SCHEMA
from migration.pg.connect import scalar

PHASES = ("schema", "data", "verify", "cutover", "post-checks")

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA};
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.runs (
    run text PRIMARY KEY, source text NOT NULL, schema_archive bytea, created_at timestamptz NOT NULL DEFAULT now(),
    target_schemas jsonb NOT NULL DEFAULT '[]');  -- the target's schemas before the run: owner, ACL, comment
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.post_data (  -- post-data steps done (indexes, keys, foreign keys)
    run text REFERENCES {STATE_SCHEMA}.runs ON DELETE CASCADE, step text, done_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run, step));
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.capture (  -- change capture: the slot, and what is applied
    run text PRIMARY KEY REFERENCES {STATE_SCHEMA}.runs ON DELETE CASCADE, slot text NOT NULL, publication text NOT NULL,
    identity_full jsonb NOT NULL DEFAULT '[]', consistent_lsn pg_lsn, applied_lsn pg_lsn, source_lsn pg_lsn,
    applied_commit_at timestamptz, polled_at timestamptz, changes_applied bigint NOT NULL DEFAULT 0,
    stop_requested boolean NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.touched (  -- rows changed by applied changes, checked again at cutover
    run text REFERENCES {STATE_SCHEMA}.runs ON DELETE CASCADE, tbl text, key jsonb, PRIMARY KEY (run, tbl, key));
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.phases (
    run text REFERENCES {STATE_SCHEMA}.runs ON DELETE CASCADE, phase text, status text NOT NULL,
    started_at timestamptz, finished_at timestamptz, detail jsonb NOT NULL DEFAULT '{{}}', PRIMARY KEY (run, phase));
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.chunks (
    run text REFERENCES {STATE_SCHEMA}.runs ON DELETE CASCADE, tbl text, chunk_no int, lower jsonb, upper jsonb,
    rows bigint, copied_at timestamptz, PRIMARY KEY (run, tbl, chunk_no));
"""


def ensure(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('_migration ddl'))")
        conn.execute(_DDL)


def exists(conn: psycopg.Connection, run: str) -> bool:
    found = scalar(conn, "SELECT to_regclass(%s)", (f"{STATE_SCHEMA}.runs",))
    return bool(found) and bool(conn.execute(f"SELECT 1 FROM {STATE_SCHEMA}.runs WHERE run = %s", (run,)).fetchone())


def create_run(conn: psycopg.Connection, run: str, source: str, archive: bytes, target_schemas: list[dict]) -> None:
    conn.execute(
        f"INSERT INTO {STATE_SCHEMA}.runs (run, source, schema_archive, target_schemas) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (run, source, archive, Jsonb(target_schemas)),
    )


def target_schemas(conn: psycopg.Connection, run: str) -> list[dict]:
    return list(scalar(conn, f"SELECT target_schemas FROM {STATE_SCHEMA}.runs WHERE run = %s", (run,)))


def capture(conn: psycopg.Connection, run: str) -> dict | None:
    """The run's change-capture state, or None when the run copies a frozen source."""
    row = conn.execute(
        f"""SELECT slot, publication, identity_full, consistent_lsn::text, applied_lsn::text, source_lsn::text,
                   applied_commit_at, polled_at, changes_applied, stop_requested,
                   pg_wal_lsn_diff(source_lsn, applied_lsn)::bigint
            FROM {STATE_SCHEMA}.capture WHERE run = %s""", (run,)).fetchone()
    if row is None:
        return None
    keys = ("slot", "publication", "identity_full", "consistent_lsn", "applied_lsn", "source_lsn", "applied_commit_at",
            "polled_at", "changes_applied", "stop_requested", "lag_bytes")
    return dict(zip(keys, row, strict=True))


def schema_archive(conn: psycopg.Connection, run: str) -> bytes:
    return bytes(scalar(conn, f"SELECT schema_archive FROM {STATE_SCHEMA}.runs WHERE run = %s", (run,)))


def phase_status(conn: psycopg.Connection, run: str) -> dict[str, dict]:
    rows = conn.execute(
        f"SELECT phase, status, started_at, finished_at, detail FROM {STATE_SCHEMA}.phases WHERE run = %s", (run,)
    ).fetchall()
    return {p: {"status": s, "started_at": a, "finished_at": f, "detail": d} for p, s, a, f, d in rows}


def mark(conn: psycopg.Connection, run: str, phase: str, status: str, detail: dict | None = None) -> None:
    """Record a phase transition; call inside the transaction that did the phase's work."""
    conn.execute(
        f"""INSERT INTO {STATE_SCHEMA}.phases (run, phase, status, started_at, finished_at, detail)
            VALUES (%(run)s, %(phase)s, %(status)s, now(), CASE WHEN %(status)s = 'running' THEN NULL ELSE now() END, %(detail)s)
            ON CONFLICT (run, phase) DO UPDATE SET status = excluded.status,
              started_at = CASE WHEN excluded.status = 'running' THEN coalesce({STATE_SCHEMA}.phases.started_at, now())
                                ELSE {STATE_SCHEMA}.phases.started_at END,
              finished_at = excluded.finished_at, detail = {STATE_SCHEMA}.phases.detail || excluded.detail""",
        {"run": run, "phase": phase, "status": status, "detail": Jsonb(detail or {})},
    )


def chunk_progress(conn: psycopg.Connection, run: str) -> dict[str, tuple[int, int, int]]:
    """{table: (chunks, chunks copied, rows copied)}"""
    return {
        t: (n, done, rows)
        for t, n, done, rows in conn.execute(
            f"SELECT tbl, count(*), count(copied_at), coalesce(sum(rows), 0)::bigint FROM {STATE_SCHEMA}.chunks WHERE run = %s GROUP BY tbl ORDER BY tbl",
            (run,),
        )
    }


