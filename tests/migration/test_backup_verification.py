"""Backup verification: restore the newest pg_dump archive into a scratch database and compare with the source."""

from __future__ import annotations

import os
import subprocess
import time

import psycopg
import pytest
from migration_helpers import cli

from migration.pg.schema import pg_tool


def dump(dsn: str, path) -> None:
    subprocess.run([pg_tool("pg_dump"), "--format=custom", f"--file={path}", f"--dbname={dsn}"], check=True)


@pytest.mark.requirement("R11.4", "R11.7")
def test_newest_backup_restores_and_verifies_against_the_source(scratch_source, pg_target_cluster, tmp_path):
    archives = tmp_path / "backups"
    archives.mkdir()
    with psycopg.connect(scratch_source, autocommit=True) as conn:
        deleted = conn.execute("DELETE FROM messages WHERE id = (SELECT min(id) FROM messages) RETURNING id").fetchone()[0]
        dump(scratch_source, archives / "older.dump")  # an older backup without that row
        os.utime(archives / "older.dump", (time.time() - 86400,) * 2)
        conn.execute("""INSERT INTO messages (id, "senderId", "recipientId", content, "updatedAt") SELECT %s, id, id, 'again', now() FROM users LIMIT 1""", (deleted,))
    dump(scratch_source, archives / "newest.dump")
    scratch_server = pg_target_cluster.dsn()

    def databases() -> set[str]:
        with psycopg.connect(scratch_server) as conn:
            return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}

    before = databases()
    verified = cli("backup", "verify", "--archives", str(archives), "--source", scratch_source, "--scratch-server", scratch_server,
                   "--workdir", str(tmp_path))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "newest.dump: verified identical (40 tables)" in verified.stderr.replace("\n", " ")
    assert databases() == before  # the scratch database is gone

    (archives / "newest.dump").unlink()  # now the newest is the one missing a row: the check must say which
    stale = cli("backup", "verify", "--archives", str(archives), "--source", scratch_source, "--scratch-server", scratch_server,
                "--workdir", str(tmp_path))
    assert stale.returncode == 1 and f"public.messages: missing [['{deleted}']]" in stale.stdout

    (archives / "older.dump").write_bytes(b"PGDMP truncated")
    broken = cli("backup", "verify", "--archives", str(archives), "--source", scratch_source, "--scratch-server", scratch_server,
                 "--workdir", str(tmp_path))
    assert broken.returncode == 2 and "backup older.dump does not restore" in broken.stderr
    assert databases() == before
