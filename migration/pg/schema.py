"""Schema transfer with pg_dump/pg_restore, split so constraints and indexes are built after the data."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from migration.errors import MigrationError
from migration.pg.catalog import STATE_SCHEMA
from migration.pg.connect import connect
from migration.pg.workers import drain

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


@dataclass(frozen=True)
class Step:
    """One statement of the post-data section, the unit of parallel work and of resume."""

    key: str  # unique within the run, e.g. "12" or "40:validate"
    stage: int  # 1 indexes and keys (parallel), 2 foreign keys added NOT VALID (serial), 3 validated (parallel), 4 the rest
    sql: str


def post_data_steps(script: str) -> tuple[str, list[Step]]:
    """(preamble, steps) of a post-data script. Foreign keys are added NOT VALID, then validated separately:
    validation takes only a SHARE UPDATE EXCLUSIVE lock on the table (and ROW SHARE on the referenced one), so
    many validations run at once; adding a foreign key directly would lock the referenced table against the others."""
    parts = re.split(r"\n--\n-- Name: [^\n]*; Type: ([A-Z ]+); Schema: [^\n]*\n--\n", "\n" + script)
    steps: list[Step] = []
    for number, (kind, body) in enumerate(zip(parts[1::2], parts[2::2], strict=True)):
        statement = "\n".join(line for line in body.splitlines() if not line.startswith("--")).strip()
        if kind in ("CONSTRAINT", "INDEX"):
            steps.append(Step(str(number), 1, statement))
            continue
        added = re.fullmatch(r"(ALTER TABLE ONLY (.+?)\s+ADD CONSTRAINT (.+?) FOREIGN KEY .*?);", statement, re.S)
        if kind == "FK CONSTRAINT" and added and not added.group(1).endswith("NOT VALID"):
            steps.append(Step(str(number), 2, f"{added.group(1)} NOT VALID;"))
            steps.append(Step(f"{number}:validate", 3, f"ALTER TABLE ONLY {added.group(2)} VALIDATE CONSTRAINT {added.group(3)};"))
        else:
            steps.append(Step(str(number), 4, statement))
    return parts[0], steps


def apply_steps(dsn: str, run: str, preamble: str, steps: list[Step], workers: int, app: str) -> None:
    """Run steps on `workers` target sessions; each step commits together with its marker, so a resumed run
    skips exactly the steps already done."""

    @contextmanager
    def session() -> Iterator[Callable[[Step], None]]:
        with connect(dsn, role="target", app=app, autocommit=True) as conn:
            conn.execute(preamble)

            def apply(step: Step) -> None:
                with conn.transaction():
                    conn.execute(step.sql)  # no parameters: sent as a simple query
                    conn.execute(f"INSERT INTO {STATE_SCHEMA}.post_data (run, step) VALUES (%s, %s)", (run, step.key))

            yield apply

    drain(list(reversed(steps)), min(workers, len(steps)), "post-data", session)
