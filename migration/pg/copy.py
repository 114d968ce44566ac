"""Parallel COPY of chunks from the source server straight into the target server (no intermediate files)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from migration.pg.catalog import STATE_SCHEMA
from migration.pg.chunks import Chunk
from migration.pg.connect import connect
from migration.pg.workers import drain


def copy_chunk(source: psycopg.Connection, target: psycopg.Connection, run: str, chunk: Chunk) -> int | None:
    """Copy one chunk in one target transaction that also marks it copied.

    The marker is claimed first: if a previous (killed) attempt's transaction is still finishing, this one waits
    for it and then finds the chunk taken, so a chunk's rows can never land twice. Returns rows copied, or None
    when the chunk was already copied.
    """
    table = chunk.table
    where, params = chunk.where()
    columns = sql.SQL(", ").join(map(sql.Identifier, table.columns))
    marker = (run, table.qualified, chunk.number)
    with target.transaction():
        claimed = target.execute(
            f"UPDATE {STATE_SCHEMA}.chunks SET copied_at = now() WHERE run = %s AND tbl = %s AND chunk_no = %s AND copied_at IS NULL",
            marker,
        ).rowcount
        if not claimed:
            return None
        reader, writer = source.cursor(), target.cursor()
        with reader.copy(
            sql.SQL("COPY (SELECT {} FROM {} WHERE {}) TO STDOUT (FORMAT binary)").format(columns, table.ident, where), params
        ) as out, writer.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(table.ident, columns)) as into:
            for block in out:
                into.write(block)
        rows = writer.rowcount
        target.execute(f"UPDATE {STATE_SCHEMA}.chunks SET rows = %s WHERE run = %s AND tbl = %s AND chunk_no = %s", (rows, *marker))
    source.commit()
    return rows


def copy_all(
    source_dsn: str, target_dsn: str, run: str, chunks: Iterable[Chunk], workers: int, snapshot: str | None,
    on_copied: Callable[[Chunk, int], None],
) -> None:
    """Copy chunks with `workers` parallel source→target COPY streams, all reading the same source snapshot."""

    @contextmanager
    def streams() -> Iterator[Callable[[Chunk], None]]:
        source = connect(source_dsn, role="source", read_only=True, app=f"migration:{run}")
        target = connect(target_dsn, role="target", app=f"migration:{run}")
        source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ

        def copy(chunk: Chunk) -> None:
            if snapshot:  # first statement of the chunk's source transaction
                source.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            rows = copy_chunk(source, target, run, chunk)
            if rows is not None:
                on_copied(chunk, rows)

        try:
            yield copy
        finally:
            source.close()
            target.close()

    drain(list(chunks), workers, "copy", streams)
