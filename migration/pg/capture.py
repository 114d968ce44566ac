"""Change capture with logical replication: a publication and a logical slot on the source, created before the
snapshot the copy reads; the changes committed after that snapshot are decoded by `pgoutput` (built into
PostgreSQL, supported by RDS and Aurora) and applied to the target.

Changes are read with `pg_logical_slot_peek_binary_changes` (plain SQL: psycopg 3 has no replication-protocol
client) and applied in one target transaction per batch that also records the commit LSN applied; only then is
the slot advanced. A follower killed at any point resumes from the slot and skips what the target already has:
every source transaction lands exactly once.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from migration.errors import MigrationError
from migration.pg.catalog import STATE_SCHEMA, SchemaQualified, Table
from migration.pg.connect import connect, scalar

BATCH_MESSAGES = 20_000  # decoding stops after the transaction that passes this many messages
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def names(run: str) -> tuple[str, str]:
    """(slot, publication) for a run: lower-case, ≤ 63 bytes, unique per run name."""
    readable = re.sub(r"[^a-z0-9_]", "_", run.lower())[:30]
    suffix = hashlib.sha256(run.encode()).hexdigest()[:8]
    return f"migration_{readable}_{suffix}", f"migration_{readable}_{suffix}"


# -- source-side objects ------------------------------------------------------------------------------------------

def source_admin(dsn: str, app: str) -> psycopg.Connection:
    """The one writable source session: it creates and drops the publication, sets REPLICA IDENTITY FULL when the
    operator asked for it, and freezes writes at cutover. Nothing else ever writes to the source."""
    conn = connect(dsn, role="source", app=app, autocommit=True)
    conn.execute("SET default_transaction_read_only = off")  # a frozen source database defaults to read-only
    return conn


def keyless(tables: list[Table]) -> list[str]:
    return [t.qualified for t in tables if not t.key]


def create_publication(admin: psycopg.Connection, publication: str, tables: list[Table], identity_full: list[str]) -> None:
    """Publish every user table; `identity_full`: the keyless tables the operator allowed REPLICA IDENTITY FULL on
    (the run refused the others before writing anything)."""
    with admin.transaction():
        for table in tables:
            if table.qualified in identity_full:
                admin.execute(sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(table.ident))
        admin.execute(sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(publication)))
        admin.execute(sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(
            sql.Identifier(publication), sql.SQL(", ").join(t.ident for t in tables)))


@contextmanager
def exported_snapshot(dsn: str, slot: str, temporary: bool, app: str) -> Iterator[tuple[str, str]]:
    """Create a logical slot over a replication connection and export its snapshot: (consistent LSN, snapshot).

    The snapshot sees exactly the transactions that committed before the LSN; the slot decodes every one after it.
    It stays importable (`SET TRANSACTION SNAPSHOT`) while this connection is open and idle, i.e. inside the block.
    """
    conninfo = psycopg.conninfo.make_conninfo(dsn, replication="database")
    try:
        conn = psycopg.connect(conninfo, autocommit=True, application_name=app, connect_timeout=10)
    except psycopg.OperationalError as error:
        raise MigrationError(f"cannot open a replication connection to the source: {str(error).strip().splitlines()[-1]}") from None
    try:
        conn.execute("SET statement_timeout = 0")
        conn.execute("SET idle_in_transaction_session_timeout = 0")
        command = f'CREATE_REPLICATION_SLOT "{slot}" {"TEMPORARY " if temporary else ""}LOGICAL pgoutput (SNAPSHOT \'export\')'
        created = conn.execute(command).fetchone()
        assert created is not None  # slot_name, consistent_point, snapshot_name, output_plugin
        yield created[1], created[2]
    finally:
        conn.close()


def drop(admin: psycopg.Connection, slot: str, publication: str, identity_full: list[str]) -> None:
    """Remove what change capture created on the source (cutover done, or rollback)."""
    for _ in range(50):  # a killed follower's session may hold the slot for a moment
        active = admin.execute("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s", (slot,)).fetchone()
        if not active:
            break
        if active[0] is None:
            admin.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
            break
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (active[0],))
    admin.execute(sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(publication)))
    for qualified in identity_full:
        schema, name = qualified.split(".", 1)
        admin.execute(sql.SQL("ALTER TABLE IF EXISTS {} REPLICA IDENTITY DEFAULT").format(sql.Identifier(schema, name)))


# -- decoding pgoutput ----------------------------------------------------------------------------------------------

@dataclass
class Relation(SchemaQualified):
    schema: str
    name: str
    columns: list[str]
    key: list[str]  # replica identity columns (the primary key), empty for REPLICA IDENTITY FULL


@dataclass
class Change:
    kind: str  # I, U, D, T
    relation: Relation
    old: dict[str, str | None] | None = None  # key (or whole old row for REPLICA IDENTITY FULL)
    new: dict[str, str | None] | None = None  # unchanged TOASTed values are absent
    truncated: list[Relation] = field(default_factory=list)
    cascade: bool = False


@dataclass
class Transaction:
    end_lsn: int
    committed_at: datetime
    changes: list[Change] = field(default_factory=list)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from("!" + fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return int(value)

    def byte(self) -> str:
        self.at += 1
        return chr(self.data[self.at - 1])

    def string(self) -> str:
        end = self.data.index(b"\0", self.at)
        text = self.data[self.at:end].decode()
        self.at = end + 1
        return text

    def tuple(self, columns: list[str]) -> dict[str, str | None]:
        values: dict[str, str | None] = {}
        for column in columns[: self.take("h")]:
            kind = self.byte()
            if kind == "n":
                values[column] = None
            elif kind == "t":
                length = self.take("i")
                values[column] = self.data[self.at:self.at + length].decode()
                self.at += length
            # "u": an unchanged TOASTed value, not sent: leave the column out
        return values


def decode(messages: list[tuple[int, bytes]], relations: dict[int, Relation]) -> list[Transaction]:
    """pgoutput protocol 1 messages (in order) to transactions; `relations` is updated as Relation messages arrive."""
    transactions: list[Transaction] = []
    current: Transaction | None = None
    for _, data in messages:
        reader = _Reader(data)
        kind = reader.byte()
        if kind == "B":
            current = Transaction(0, _PG_EPOCH)
        elif kind == "C":
            reader.take("b")
            reader.take("q")
            end_lsn, timestamp = reader.take("q"), reader.take("q")
            if current is not None:
                current.end_lsn, current.committed_at = end_lsn, _PG_EPOCH + timedelta(microseconds=timestamp)
                transactions.append(current)
            current = None
        elif kind == "R":
            oid, schema, name = reader.take("I"), reader.string(), reader.string()
            identity = reader.byte()  # d(efault: the primary key), f(ull), i(ndex), n(othing)
            columns, key = [], []
            for _ in range(reader.take("h")):
                flags, column = reader.take("b"), reader.string()
                reader.take("I")
                reader.take("i")
                columns.append(column)
                if flags & 1:
                    key.append(column)
            relations[oid] = Relation(schema, name, columns, [] if identity == "f" else key)
        elif kind in "IUD" and current is not None:
            relation = relations[reader.take("I")]
            change = Change(kind, relation)
            marker = reader.byte()
            if marker in "KO":
                change.old = reader.tuple(relation.columns)
                marker = reader.byte() if kind == "U" else ""
            if marker == "N":
                change.new = reader.tuple(relation.columns)
            current.changes.append(change)
        elif kind == "T" and current is not None:
            count, options = reader.take("i"), reader.take("b")
            truncated = [relations[reader.take("I")] for _ in range(count)]
            current.changes.append(Change("T", truncated[0], truncated=truncated, cascade=bool(options & 1)))
        # Y (type), O (origin), M (message): nothing to apply
    return transactions


# -- applying ----------------------------------------------------------------------------------------------------

def _where(relation: Relation, values: dict[str, str | None]) -> tuple[sql.Composed, list[str | None]]:
    if relation.key:  # by primary key
        columns = relation.key
        condition = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns)
        return condition, [values[c] for c in columns]
    # REPLICA IDENTITY FULL: the old row's values; one row of possibly several equal ones
    columns = [c for c in relation.columns if c in values]
    match = sql.SQL(" AND ").join(sql.SQL("{} IS NOT DISTINCT FROM %s").format(sql.Identifier(c)) for c in columns)
    condition = sql.SQL("ctid = (SELECT ctid FROM {} WHERE {} LIMIT 1)").format(relation.ident, match)
    return condition, [values[c] for c in columns]


def _statement(change: Change) -> tuple[sql.Composed, list[str | None]]:
    relation = change.relation
    if change.kind == "I":
        assert change.new is not None
        columns = list(change.new)
        return sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            relation.ident, sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(sql.Placeholder() * len(columns))
        ), list(change.new.values())
    if change.kind == "U":
        assert change.new is not None
        condition, params = _where(relation, change.old if change.old is not None else change.new)
        assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in change.new)
        return sql.SQL("UPDATE {} SET {} WHERE {}").format(relation.ident, assignments, condition), [*change.new.values(), *params]
    if change.kind == "D":
        assert change.old is not None
        condition, params = _where(relation, change.old)
        return sql.SQL("DELETE FROM {} WHERE {}").format(relation.ident, condition), params
    return sql.SQL("TRUNCATE {}{}").format(
        sql.SQL(", ").join(r.ident for r in change.truncated), sql.SQL(" CASCADE" if change.cascade else "")
    ), []


def touched_keys(change: Change) -> list[tuple[str, list[str | None] | None]]:
    """(table, key) of every row a change touched; key None = the whole table (no key, or TRUNCATE)."""
    if change.kind == "T":
        return [(r.qualified, None) for r in change.truncated]
    relation = change.relation
    if not relation.key:
        return [(relation.qualified, None)]
    keys: list[tuple[str, list[str | None] | None]] = []
    for values in (change.old, change.new):
        if values is not None and all(c in values for c in relation.key):
            keys.append((relation.qualified, [values[c] for c in relation.key]))
    return keys


def apply(target: psycopg.Connection, run: str, transactions: list[Transaction], caught_up_to: int | None, source_lsn: int) -> None:
    """Apply transactions in one target transaction that also records the last commit LSN and the touched keys.

    The session runs with session_replication_role = replica, as PostgreSQL's own apply worker does: the
    source already ran the foreign-key actions and triggers, whose effects arrive as changes of their own."""
    touched: set[tuple[str, str]] = set()
    with target.transaction():
        target.execute("SET LOCAL session_replication_role = replica")
        with target.pipeline(), target.cursor() as cursor:
            for transaction in transactions:
                for change in transaction.changes:
                    statement, params = _statement(change)
                    cursor.execute(statement, params)
                    touched.update((table, json.dumps(key)) for table, key in touched_keys(change))
        if touched:
            with target.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {STATE_SCHEMA}.touched (run, tbl, key) VALUES (%s, %s, %s::jsonb) ON CONFLICT DO NOTHING",
                    [(run, table, key) for table, key in sorted(touched)],
                )
        last = transactions[-1] if transactions else None
        applied = max(filter(None, (last.end_lsn if last else None, caught_up_to)))
        target.execute(
            f"""UPDATE {STATE_SCHEMA}.capture SET applied_lsn = %s::text::pg_lsn, source_lsn = %s::text::pg_lsn, polled_at = now(),
                    applied_commit_at = coalesce(%s, applied_commit_at), changes_applied = changes_applied + %s WHERE run = %s""",
            (lsn_text(applied), lsn_text(source_lsn), last.committed_at if last else None,
             sum(len(t.changes) for t in transactions), run),
        )


def wal_insert_end(conn: psycopg.Connection) -> int:
    """The end of the WAL inserted so far: every transaction committed before this call ends at or before it.
    `pg_current_wal_insert_lsn()` points past the page header when nothing is on the current page yet; that
    position is never flushed until another record comes, so it is taken back to the page's start."""
    position, block, segment = conn.execute(
        "SELECT pg_current_wal_insert_lsn()::text, current_setting('wal_block_size')::int,"
        " (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')"
    ).fetchone() or ("0/0", 8192, 0)
    lsn = lsn_int(position)
    header = 40 if lsn % segment == 40 else 24  # a segment's first page has the long header
    return lsn - header if lsn % block == header else lsn


def lsn_text(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def lsn_int(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclass
class Follower:
    """Reads the slot on the source, applies to the target; one per run at a time (a session advisory lock)."""

    source: psycopg.Connection  # read-only, autocommit
    target: psycopg.Connection  # autocommit
    run: str
    slot: str
    publication: str
    relations: dict[int, Relation] = field(default_factory=dict)

    def applied_lsn(self) -> int:
        return lsn_int(scalar(self.target, f"SELECT applied_lsn::text FROM {STATE_SCHEMA}.capture WHERE run = %s", (self.run,)))

    def step(self, upto: int | None = None) -> tuple[int, bool]:
        """Apply one batch; returns (changes applied, caught up). With `upto`, only transactions committed before it."""
        flushed = lsn_int(scalar(self.source, "SELECT pg_current_wal_flush_lsn()::text"))
        limit = min(flushed, upto) if upto is not None else flushed
        rows = self._peek(limit)
        applied = self.applied_lsn()
        self.relations.clear()  # each decoding session sends Relation messages again
        transactions = [t for t in decode(rows, self.relations) if t.end_lsn > applied]
        # fewer messages than a batch: decoding reached `limit`, so every transaction committed before it is here
        caught_up = len(rows) < BATCH_MESSAGES
        reached = limit if caught_up else None
        if transactions or (reached is not None and reached > applied):
            apply(self.target, self.run, transactions, reached, flushed)
            self.advance(max(filter(None, (transactions[-1].end_lsn if transactions else None, reached))))
        return sum(len(t.changes) for t in transactions), caught_up

    def advance(self, position: int) -> None:
        """Only after the target committed: the slot may release WAL up to `position`. A crash before this line
        leaves the slot behind the target, and the next step skips what the target already has."""
        self.source.execute("SELECT pg_replication_slot_advance(%s, %s::text::pg_lsn)", (self.slot, lsn_text(position)))

    def _peek(self, upto: int) -> list[tuple[int, bytes]]:
        for attempt in range(100):
            try:
                rows = self.source.execute(
                    "SELECT lsn::text, data FROM pg_logical_slot_peek_binary_changes(%s, %s::text::pg_lsn, %s,"
                    " 'proto_version', '1', 'publication_names', %s)",
                    (self.slot, lsn_text(upto), BATCH_MESSAGES, self.publication),
                ).fetchall()
                return [(lsn_int(lsn), bytes(data)) for lsn, data in rows]
            except psycopg.errors.ObjectInUse:  # a killed follower's session still holds the slot for a moment
                if attempt == 99:
                    raise
                time.sleep(0.1)
        return []

    def drain(self, upto: int) -> int:
        """Apply everything committed before `upto`; returns the number of changes applied. Waits for the WAL up to
        `upto` to be flushed (decoding reads only flushed WAL; with synchronous_commit = off that takes a moment)."""
        total = 0
        while True:
            count, caught_up = self.step(upto)
            total += count
            if caught_up and self.applied_lsn() >= upto:
                return total
            if not count:
                time.sleep(0.005)

