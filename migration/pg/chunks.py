"""Chunks: primary-key ranges (lower, upper] that are the unit of copy, progress, resume and verification."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from migration.pg.catalog import Table


@dataclass(frozen=True)
class Chunk:
    table: Table
    number: int
    lower: list[str] | None  # exclusive; None = from the start
    upper: list[str] | None  # inclusive; None = to the end

    def where(self) -> tuple[sql.Composable, list[str]]:
        """WHERE clause selecting this chunk's rows (all rows for a table without a key)."""
        if not self.table.key:
            return sql.SQL("true"), []
        key = sql.SQL("({})").format(sql.SQL(", ").join(map(sql.Identifier, self.table.key)))
        conditions, params = [], []
        for bound, operator in ((self.lower, ">"), (self.upper, "<=")):
            if bound is not None:
                values = sql.SQL(", ").join(sql.SQL("%s::{}").format(sql.SQL(t)) for t in self.table.key_types)
                conditions.append(sql.SQL("{} {} ({})").format(key, sql.SQL(operator), values))
                params.extend(bound)
        return (sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true")), params

    def order_by(self) -> sql.Composable:
        return sql.SQL(", ").join(map(sql.Identifier, self.table.key))


def plan(conn: psycopg.Connection, table: Table, rows_per_chunk: int) -> list[Chunk]:
    """Split a table into ranges of about rows_per_chunk rows; a table without a key is one chunk."""
    if not table.key:
        return [Chunk(table, 0, None, None)]
    key_text = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in table.key)
    boundaries = conn.execute(
        sql.SQL(
            "SELECT k FROM (SELECT ARRAY[{key_text}] AS k, row_number() OVER (ORDER BY {key}) AS n FROM {table}) numbered"
            " WHERE n % {size} = 0 ORDER BY n"
        ).format(key_text=key_text, key=sql.SQL(", ").join(map(sql.Identifier, table.key)), table=table.ident, size=rows_per_chunk)
    ).fetchall()
    edges = [None] + [row[0] for row in boundaries] + [None]
    return [Chunk(table, i, edges[i], edges[i + 1]) for i in range(len(edges) - 1)]
