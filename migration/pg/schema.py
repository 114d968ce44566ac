"""Schema transfer with pg_dump/pg_restore, split so constraints and indexes are built after the data."""

from __future__ import annotations

import os
import shutil
import subprocess

import psycopg

from migration.errors import MigrationError
from migration.pg.catalog import STATE_SCHEMA

_PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")


def pg_tool(name: str) -> str:
    """A PostgreSQL client program: PG_BIN first, then PATH, then Debian's versioned directories."""
    for directory in filter(None, (os.environ.get("PG_BIN"),)):
        if os.access(os.path.join(directory, name), os.X_OK):
            return os.path.join(directory, name)
    found = shutil.which(name) or next(
        (os.path.join(d, name) for d in _PG_BIN_DIRS if os.access(os.path.join(d, name), os.X_OK)), None
    )
    if not found:
        raise MigrationError(f"{name} not found: install the PostgreSQL client (postgresql-client-15) or set PG_BIN")
    return found


def dump_schema(source_dsn: str) -> bytes:
    """The source's schema as a custom-format archive (small: no data)."""
    return _run([pg_tool("pg_dump"), "--schema-only", "--format=custom", f"--exclude-schema={STATE_SCHEMA}", f"--dbname={source_dsn}"], None)


def section_sql(archive: bytes, section: str) -> str:
    """SQL for one section ('pre-data' or 'post-data') of a schema archive, without owners or grants
    (the target's roles differ, e.g. on RDS)."""
    script = _run([pg_tool("pg_restore"), f"--section={section}", "--no-owner", "--no-privileges", "--file=-"], archive)
    # pg_dump 15.14+ wraps scripts in psql-only \restrict lines; we execute the SQL ourselves.
    return "\n".join(line for line in script.decode().splitlines() if not line.startswith("\\"))


def apply(conn: psycopg.Connection, script: str) -> None:
    """Run a restore script inside the caller's transaction, so it lands together with the phase marker."""
    with conn.cursor() as cursor:
        cursor.execute(script)  # no parameters: sent as one simple query, several statements allowed
        cursor.execute("RESET search_path")  # the script empties it for the session


def _run(command: list[str], stdin: bytes | None) -> bytes:
    result = subprocess.run(command, input=stdin, capture_output=True, env={**os.environ, "PGCONNECT_TIMEOUT": "10"})
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise MigrationError(f"{os.path.basename(command[0])} failed: {message[-1] if message else result.returncode}")
    return result.stdout
