"""PostgreSQL migration against two real PostgreSQL 15 servers."""

from __future__ import annotations

import json
import re

import psycopg
import pytest
from migration_helpers import cli, fingerprint

from migration import platform_schema
from migration.errors import MigrationError
from migration.pg import catalog
from migration.pg.compare import compare
from migration.pg.connect import connect
from migration.pg.run import PgRun


def migrate(source: str, target: str, workdir, name: str = "r1", until: str = "post-checks") -> PgRun:
    run = PgRun(name, source, target, workdir, workers=2, chunk_rows=40)
    run.run(until=until)
    return run


@pytest.mark.requirement("R11.1", "R2.2", "R11.7")
def test_migration_copies_every_row_and_every_schema_object(platform_db, empty_target, tmp_path):
    before = fingerprint(platform_db)
    run = migrate(platform_db, empty_target, tmp_path)

    # the platform's real schema: its three Prisma migrations and _prisma_migrations, hostile values in every column
    assert len(before) == 40 and sum(rows for rows, _ in before.values()) > 1500
    assert fingerprint(empty_target) == before  # every row of every table, byte for byte as text
    assert fingerprint(platform_db) == before  # the source was not touched
    with connect(platform_db, role="source", autocommit=True) as s, connect(empty_target, role="target", autocommit=True) as t:
        mine, theirs = catalog.schema_description(s), catalog.schema_description(t)
        assert catalog.schema_differences(mine, theirs) == []
        foreign_keys = [d for table in theirs.values() for d in table["constraints"].values() if d.startswith("FOREIGN KEY")]
        declared = [m for _, script in platform_schema.MIGRATIONS for m in re.findall(r"FOREIGN KEY.*?ON DELETE (CASCADE|SET NULL)", script, re.S)]
        assert len(foreign_keys) == len(declared) == 56
        assert sum("ON DELETE CASCADE" in d for d in foreign_keys) == declared.count("CASCADE") == 50
        indexes = sum(len(table["indexes"]) for table in theirs.values())
        assert indexes == sum(len(table["indexes"]) for table in mine.values()) == 163  # 124 declared (some migration-2 IF NOT EXISTS repeat migration 1) + 39 primary keys
        assert "verificationtokens_token_key" in theirs["public.verificationtokens"]["indexes"]
        assert "USING gin (to_tsvector('english'::regconfig, metadata)) WHERE (metadata IS NOT NULL)" in theirs["public.content"]["indexes"]["idx_content_metadata"]
        assert theirs["public.invoices"]["columns"]["amount"].startswith("numeric(65,30)")
        assert theirs["public.moderation_logs"]["columns"]["contentid"].startswith("character varying(255)")  # unquoted: lower case
        assert catalog.sequences(t) == catalog.sequences(s) == {}  # the platform's ids are application-generated text
        extremes = 'SELECT max(amount)::text, min(amount)::text, min("dueDate")::text, max("dueDate")::text, count(*) - count("paidAt") FROM invoices'
        assert s.execute(extremes).fetchone() == t.execute(extremes).fetchone()
        assert t.execute(extremes).fetchone()[:4] == (
            "99999999999999999999999999999999999.999999999999999999999999999999",
            "-99999999999999999999999999999999999.999999999999999999999999999999", "-infinity", "infinity")
        huge = "SELECT count(*), sum(length(content)) FROM messages WHERE length(content) > 100000"
        assert s.execute(huge).fetchone() == t.execute(huge).fetchone() and t.execute(huge).fetchone()[0] > 0
    phases = run.status()["phases"]
    assert {p: s["status"] for p, s in phases.items()} == dict.fromkeys(["schema", "data", "verify", "cutover", "post-checks"], "done")
    # every milestone ran the integrity test over all 40 tables
    for milestone in ("verify", "cutover", "post-checks"):
        results = phases[milestone]["detail"]["tables"]
        assert len(results) == 40 and all(r["ok"] and r["source_rows"] == r["target_rows"] for r in results)


@pytest.mark.requirement("R11.7", "R11.1")
def test_changed_deleted_and_extra_rows_are_named(platform_db, empty_target, tmp_path):
    migrate(platform_db, empty_target, tmp_path, until="data")
    with psycopg.connect(empty_target, autocommit=True) as t:
        changed = t.execute("UPDATE invoices SET amount = 0.000000000000000000000000000001 - amount WHERE id = (SELECT min(id) FROM invoices) RETURNING id").fetchone()[0]
        deleted = t.execute("DELETE FROM comments WHERE id = (SELECT max(id) FROM comments) RETURNING id").fetchone()[0]
        extra = list(t.execute("""INSERT INTO "_TierContent" ("A", "B")
            (SELECT c.id, t.id FROM content c CROSS JOIN tiers t EXCEPT SELECT "A", "B" FROM "_TierContent" ORDER BY 1, 2 LIMIT 1)
            RETURNING "A", "B" """).fetchone())
        t.execute("UPDATE verificationtokens SET expires = expires + interval '1 ms' WHERE token = (SELECT min(token) FROM verificationtokens WHERE expires BETWEEN '2000-01-01' AND '3000-01-01')")

    result = compare(platform_db, empty_target, workers=2, chunk_rows=40)
    by_table = {r.table: r for r in result.tables}
    assert not result.ok
    assert by_table["public.invoices"].altered == [[changed]]
    assert by_table["public.comments"].missing == [[deleted]]
    tokens = by_table["public.verificationtokens"]
    assert len(tokens.missing) == 1 and len(tokens.extra) == 1  # multiset: the old row is gone, the altered one is new
    assert by_table["public._TierContent"].extra == [extra]  # composite key, named in full
    assert [r.table for r in result.tables if not r.ok] == ["public._TierContent", "public.comments", "public.invoices", "public.verificationtokens"]

    # the run's own verify phase stops with one line naming the first difference, and says so in its report
    with pytest.raises(MigrationError, match=r"verify verification failed: public\._TierContent: .*extra " + "/".join(extra)):
        migrate(platform_db, empty_target, tmp_path, until="verify")
    report = json.loads((tmp_path / "r1" / "report.json").read_text())
    assert {"milestone": "verify", "table": "public.invoices", "altered": [[changed]]}.items() <= {
        k: v for row in report["verification"] if row["table"] == "public.invoices" for k, v in row.items()}.items()

    printed = cli("pg", "verify", "--source", platform_db, "--target", empty_target, "--chunk-rows", "40")
    assert printed.returncode == 1 and changed in printed.stdout and deleted in printed.stdout and "DIFFERENT" in printed.stdout


@pytest.mark.requirement("R11.6")
def test_progress_is_tracked_in_state_event_log_and_report(platform_db, empty_target, tmp_path):
    run = migrate(platform_db, empty_target, tmp_path, until="verify")
    status = cli("pg", "status", "r1", "--target", empty_target, "--workdir", str(tmp_path))
    assert status.returncode == 0
    shown = json.loads(status.stdout)
    assert {p: s["status"] for p, s in shown["phases"].items()} == {"schema": "done", "data": "done", "verify": "done"}
    source_rows = sum(rows for rows, _ in fingerprint(platform_db).values())
    assert sum(rows for _, _, rows in shown["tables"].values()) == source_rows

    events = run.events.read()
    assert [e["phase"] for e in events if e["event"] == "phase-done"] == ["schema", "data", "verify"]
    assert sum(e["rows"] for e in events if e["event"] == "chunk-copied") == source_rows
    assert all(e["seconds"] >= 0 for e in events if e["event"] == "phase-done")

    report = json.loads((tmp_path / "r1" / "report.json").read_text())
    assert sum(t["rows"] for t in report["tables moved"].values()) == source_rows
    assert len(report["verification"]) == 40 and all(v["ok"] for v in report["verification"])
    markdown = (tmp_path / "r1" / "report.md").read_text()
    assert "| public.verificationtokens |" in markdown and "## verification" in markdown


@pytest.mark.requirement("R11.5")
def test_rollback_before_cutover_empties_target_and_never_touches_source(platform_db, empty_target, tmp_path):
    before = fingerprint(platform_db)
    migrate(platform_db, empty_target, tmp_path, until="verify")
    rolled = cli("pg", "rollback", "r1", "--target", empty_target, "--workdir", str(tmp_path))
    assert rolled.returncode == 0, rolled.stderr
    assert fingerprint(empty_target) == {}
    with psycopg.connect(empty_target) as t:
        assert t.execute("SELECT count(*) FROM pg_namespace WHERE nspname = '_migration'").fetchone()[0] == 0
    assert fingerprint(platform_db) == before
    migrate(platform_db, empty_target, tmp_path)  # the same run can start over after a rollback
    assert fingerprint(empty_target) == before


@pytest.mark.requirement("R11.5")
def test_after_cutover_rollback_is_the_verified_reverse_run(platform_db, empty_target, pg_source_cluster, tmp_path):
    from conftest import create_database

    migrate(platform_db, empty_target, tmp_path)
    refused = cli("pg", "rollback", "r1", "--target", empty_target, "--workdir", str(tmp_path))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "past cutover" in refused.stderr
    with psycopg.connect(empty_target, autocommit=True) as t:  # the new primary takes writes after cutover
        t.execute("""INSERT INTO users (id, email, "displayName", "updatedAt") VALUES ('after-cutover', 'late@example.com', 'Late', now())""")
    old_side = create_database(pg_source_cluster, "reverse")
    migrate(empty_target, old_side, tmp_path, name="r1-reverse")
    assert fingerprint(old_side) == fingerprint(empty_target)
    with psycopg.connect(old_side) as o:
        assert o.execute("SELECT email FROM users WHERE id = 'after-cutover'").fetchone() == ("late@example.com",)


@pytest.mark.requirement("R11.5")
def test_source_sessions_are_read_only(platform_db):
    with connect(platform_db, role="source", read_only=True) as source, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        source.execute("DELETE FROM users")


@pytest.mark.requirement("R11.1", "R11.6")
def test_bad_input_gets_one_clear_line_and_loses_nothing(platform_db, empty_target, pg_target_cluster, tmp_path):
    from conftest import create_database

    def fails(*args) -> str:
        done = cli(*args, "--workdir", str(tmp_path)) if args[1] in ("run",) else cli(*args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
        return done.stderr

    wrong_password = platform_db.replace("migration-test-pw", "wrong")
    assert "password authentication failed" in fails("pg", "run", "x", "--source", wrong_password, "--target", empty_target)
    unreachable = "postgresql://postgres:pw@127.0.0.1:9/nowhere"
    assert "cannot connect to source 127.0.0.1:9/nowhere" in fails("pg", "run", "x", "--source", unreachable, "--target", empty_target)

    occupied = create_database(pg_target_cluster, "occupied")
    with psycopg.connect(occupied, autocommit=True) as t:
        t.execute("CREATE TABLE keep_me (id int)")
        t.execute("INSERT INTO keep_me VALUES (1)")
    assert "is not empty (1 tables, e.g. public.keep_me)" in fails("pg", "run", "x", "--source", platform_db, "--target", occupied)
    assert fingerprint(occupied)["public.keep_me"][0] == 1

    migrate(platform_db, empty_target, tmp_path, until="data")
    with psycopg.connect(empty_target, autocommit=True) as t:
        t.execute('ALTER TABLE invoices ALTER COLUMN amount TYPE numeric(66,30)')
    assert "schema drift: public.invoices.amount is 'numeric(65,30) not null" in fails("pg", "verify", "--source", platform_db, "--target", empty_target)
    with psycopg.connect(empty_target, autocommit=True) as t:
        t.execute("DROP TABLE stream_tips")
    assert "target is missing table public.stream_tips (and 1 more)" in fails("pg", "verify", "--source", platform_db, "--target", empty_target)
