"""Independent checks for the tests: they do not reuse the tool's chunking or checksums."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]


def fingerprint(dsn: str) -> dict[str, tuple[int, str]]:
    """{table: (rows, md5 of all row texts sorted)} for every user table: equal fingerprints = equal contents."""
    with psycopg.connect(dsn, options="-c TimeZone=UTC -c extra_float_digits=3") as conn:
        tables = conn.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        return {
            t: tuple(conn.execute(f"SELECT count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) FROM {t} r").fetchone())
            for (t,) in tables
        }


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m migration …` as the operator would."""
    return subprocess.run([sys.executable, "-m", "migration", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def start_cli(*args: str) -> subprocess.Popen:
    """Start `python -m migration …` in its own process group, so a SIGKILL reaches it and its children."""
    return subprocess.Popen([sys.executable, "-m", "migration", *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, "PYTHONPATH": str(REPO)})


class Writer(threading.Thread):
    """The platform's writes at a steady rate against a source: inserts, updates (some of rows with 100 kB TOASTed
    text, so unchanged values are not re-sent), deletes, on keyed, composite-key and keyless tables. Every write the
    server acknowledged is logged as (table, key, final state) in order; refused writes (after a freeze) are counted."""

    def __init__(self, dsn: str, rate: float = 200):
        super().__init__(daemon=True)
        self.dsn, self.interval = dsn, 1 / rate
        self.prefix = f"writer-{time.time_ns()}"  # new keys never collide with an earlier writer's
        self.acknowledged: list[tuple[str, str, str | None]] = []  # (table, key, value or None when deleted)
        self.refused = 0
        self.seconds = 0.0  # how long it wrote (for the rate achieved)
        self.stopping = threading.Event()

    def run(self) -> None:
        conn = None
        with psycopg.connect(self.dsn) as setup:
            users = [u for (u,) in setup.execute("SELECT id FROM users ORDER BY length(coalesce(bio, '')) DESC, id LIMIT 40")]
        started, number, inserted = time.monotonic(), 0, []
        while not self.stopping.is_set():
            number += 1
            try:
                conn = conn if conn and not conn.closed else psycopg.connect(self.dsn, autocommit=True, options="-c synchronous_commit=on")
                self._write(conn, number, users, inserted)
            except psycopg.Error:
                self.refused += 1
                if conn:
                    conn.close()
            time.sleep(max(0.0, started + number * self.interval - time.monotonic()))
        self.seconds = time.monotonic() - started
        if conn:
            conn.close()

    def _write(self, conn: psycopg.Connection, n: int, users: list[str], inserted: list[str]) -> None:
        kind = n % 6
        if kind == 0:
            key = f"{self.prefix}-{n}"
            conn.execute("""INSERT INTO messages (id, "senderId", "recipientId", content, "updatedAt") VALUES (%s, %s, %s, %s, now())""",
                         (key, users[n % len(users)], users[(n + 1) % len(users)], f"hello {n} ✓ 'quoted'"))
            inserted.append(key)
            self.acknowledged.append(("messages", key, f"hello {n} ✓ 'quoted'"))
        elif kind == 1:  # the first users hold the longest bios: their other TOASTed values are not re-sent
            key = users[n % len(users)]
            conn.execute("""UPDATE users SET "displayName" = %s, "lastSeenAt" = now() WHERE id = %s""", (f"name {n}", key))
            self.acknowledged.append(("users", key, f"name {n}"))
        elif kind == 2:
            row = conn.execute("DELETE FROM comments WHERE id = (SELECT min(id) FROM comments) RETURNING id").fetchone()
            if row:
                self.acknowledged.append(("comments", row[0], None))
        elif kind == 3 and inserted:
            key = inserted[n % len(inserted)]
            conn.execute("UPDATE messages SET content = %s WHERE id = %s", (f"edited {n}", key))
            self.acknowledged.append(("messages", key, f"edited {n}"))
        elif kind == 4:  # keyless: REPLICA IDENTITY FULL
            conn.execute("INSERT INTO verificationtokens VALUES (%s, %s, now())", (self.prefix, f"{self.prefix}-token-{n}"))
            self.acknowledged.append(("verificationtokens", f"{self.prefix}-token-{n}", self.prefix))
            if n % 4 == 0:
                conn.execute("DELETE FROM verificationtokens WHERE token = %s", (f"{self.prefix}-token-{n - 6}",))
                self.acknowledged.append(("verificationtokens", f"{self.prefix}-token-{n - 6}", None))
        else:  # composite primary key
            row = conn.execute("""DELETE FROM "_TierContent" WHERE ("A", "B") = (SELECT "A", "B" FROM "_TierContent" ORDER BY 1, 2 LIMIT 1)
                                  RETURNING "A" || '/' || "B" """).fetchone()
            if row:
                self.acknowledged.append(("_TierContent", row[0], None))

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)

    def missing_on(self, dsn: str) -> list[tuple[str, str, str | None]]:
        """Acknowledged writes whose final state is not what `dsn` holds (empty: every write arrived)."""
        return self.missing_on_subset(dsn, self.acknowledged)

    def missing_on_subset(self, dsn: str, writes: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None]]:
        final = {(table, key): value for table, key, value in writes}
        queries = {
            "messages": "SELECT content FROM messages WHERE id = %s",
            "users": 'SELECT "displayName" FROM users WHERE id = %s',
            "comments": "SELECT id FROM comments WHERE id = %s",
            "verificationtokens": "SELECT identifier FROM verificationtokens WHERE token = %s",
            "_TierContent": """SELECT "A" FROM "_TierContent" WHERE "A" || '/' || "B" = %s""",
        }
        with psycopg.connect(dsn) as conn:
            return [(table, key, value) for (table, key), value in final.items()
                    if (lambda row: (row[0] if row else None) != value)(conn.execute(queries[table], (key,)).fetchone())]
