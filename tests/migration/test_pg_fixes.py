"""The PostgreSQL faults found on the real schema (issue 14: faults 1, 2, 3, 4 and 8), each proven fixed."""

from __future__ import annotations

import subprocess

import psycopg
import pytest
from conftest import create_database
from migration_helpers import cli, fingerprint

from migration.pg.run import PgRun
from migration.pg.schema import pg_tool


def dump(dsn: str) -> str:
    """Everything in a database (schema, data, ACLs, comments) as text, to show that nothing changed."""
    text = subprocess.run([pg_tool("pg_dump"), f"--dbname={dsn}"], check=True, capture_output=True, text=True).stdout
    return "\n".join(line for line in text.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))  # random per dump


def schemas(dsn: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT nspname, nspowner::regrole::text, nspacl::text, obj_description(oid, 'pg_namespace') FROM pg_namespace"
            " WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1"
        ).fetchall()


@pytest.mark.requirement("R11.5", "R11.1")
def test_refused_runs_write_nothing_to_source_or_target(platform_db, pg_target_cluster, tmp_path):
    """Fault 1: every refusal comes before the first write; the source and a refused target stay byte for byte."""
    source_before = dump(platform_db)
    same = cli("pg", "run", "x", "--source", platform_db, "--target", platform_db, "--workdir", str(tmp_path))
    assert same.returncode == 2 and "source and target are the same database" in same.stderr, same.stderr

    occupied = create_database(pg_target_cluster, "occupied")
    with psycopg.connect(occupied, autocommit=True) as conn:
        conn.execute("CREATE TABLE keep_me (id int PRIMARY KEY)")
    occupied_before = dump(occupied)
    refused = cli("pg", "run", "x", "--source", platform_db, "--target", occupied, "--workdir", str(tmp_path))
    assert refused.returncode == 2 and "is not empty" in refused.stderr

    empty = create_database(pg_target_cluster, "keyless")
    empty_before = dump(empty)
    keyless = cli("pg", "run", "x", "--source", platform_db, "--target", empty, "--capture-changes", "--workdir", str(tmp_path))
    assert keyless.returncode == 2 and "tables without a primary key cannot be followed: public.verificationtokens" in keyless.stderr

    assert dump(platform_db) == source_before
    assert dump(occupied) == occupied_before and dump(empty) == empty_before
    for dsn in (platform_db, occupied, empty):
        assert "_migration" not in [name for name, *_ in schemas(dsn)]
    with psycopg.connect(platform_db) as conn:  # no publication or slot either
        assert conn.execute("SELECT (SELECT count(*) FROM pg_publication) + (SELECT count(*) FROM pg_replication_slots)").fetchone() == (0,)


@pytest.mark.requirement("R11.1")
def test_source_and_target_databases_on_one_server(platform_db, pg_source_cluster, tmp_path):
    """Fault 2: the resume clean-up ends only the target database's leftover sessions, never this run's own."""
    target = create_database(pg_source_cluster, "same_server")
    PgRun("one-server", platform_db, target, tmp_path, workers=2, chunk_rows=40).run(until="post-checks")
    assert fingerprint(target) == fingerprint(platform_db)


@pytest.mark.requirement("R11.1", "R11.7")
def test_capitalised_sequences_are_set_and_a_changed_sequence_is_caught(scratch_source, empty_target, tmp_path):
    """Faults 3 and 4: a sequence named with capitals (as Prisma names them for an autoincrement id, e.g.
    "AuditEvent_id_seq") is set in the data phase, and `pg verify` reports a sequence whose value differs."""
    with psycopg.connect(scratch_source, autocommit=True) as conn:
        conn.execute('CREATE TABLE "AuditEvent" ("id" SERIAL PRIMARY KEY, "note" TEXT)')
        conn.execute('INSERT INTO "AuditEvent" ("note") SELECT \'event \' || i FROM generate_series(1, 7) i')
    PgRun("sequences", scratch_source, empty_target, tmp_path, workers=2, chunk_rows=40).run(until="verify")
    with psycopg.connect(empty_target) as conn:
        assert conn.execute("""SELECT last_value, is_called FROM "AuditEvent_id_seq" """).fetchone() == (7, True)

    same = cli("pg", "verify", "--source", scratch_source, "--target", empty_target)
    assert same.returncode == 0 and "identical" in same.stdout
    with psycopg.connect(empty_target, autocommit=True) as conn:
        conn.execute("""SELECT setval('"AuditEvent_id_seq"', 6)""")
    changed = cli("pg", "verify", "--source", scratch_source, "--target", empty_target)
    assert changed.returncode == 1 and "sequence public.AuditEvent_id_seq: source (7, True), target (6, True)" in changed.stdout


@pytest.mark.requirement("R11.5")
def test_rollback_restores_the_targets_schemas_exactly(platform_db, pg_target_cluster, tmp_path):
    """Fault 8: rollback recreates public with its owner, every ACL entry (grantor and grant option) and its comment."""
    default = create_database(pg_target_cluster, "default_public")
    custom = create_database(pg_target_cluster, "custom_public")
    with psycopg.connect(custom, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE migration_test_owner; CREATE ROLE migration_test_reader; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        conn.execute("ALTER SCHEMA public OWNER TO migration_test_owner")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute("GRANT USAGE ON SCHEMA public TO migration_test_reader WITH GRANT OPTION")
        conn.execute("COMMENT ON SCHEMA public IS 'the app''s schema: ✓'")
    for target in (default, custom):
        before = schemas(target)
        PgRun("undo", platform_db, target, tmp_path, workers=2, chunk_rows=40).run(until="verify")
        rolled = cli("pg", "rollback", "undo", "--target", target, "--workdir", str(tmp_path))
        assert rolled.returncode == 0, rolled.stderr
        assert schemas(target) == before
        assert fingerprint(target) == {}
    assert schemas(default)[0][1:] == ("pg_database_owner", "{pg_database_owner=UC/pg_database_owner,=U/pg_database_owner}", "standard public schema")
