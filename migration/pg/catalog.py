"""What a database holds, read from pg_catalog: user tables with their keys, and a comparable schema description."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from migration.errors import MigrationError

STATE_SCHEMA = "_migration"
_USER_SCHEMAS = f"n.nspname NOT IN ('pg_catalog', 'information_schema', '{STATE_SCHEMA}') AND n.nspname NOT LIKE 'pg\\_%'"


class SchemaQualified:
    """A table named by its schema and name: as text for messages and run state, as an identifier for SQL."""

    schema: str
    name: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


@dataclass(frozen=True)
class Table(SchemaQualified):
    schema: str
    name: str
    columns: tuple[str, ...]  # stored (non-generated) columns, in table order
    key: tuple[str, ...]  # primary key columns; empty when the table has none
    key_types: tuple[str, ...]
    column_types: tuple[str, ...] = ()  # format_type() of each column


def user_tables(conn: psycopg.Connection) -> list[Table]:
    rows = conn.execute(
        f"""
        SELECT n.nspname, c.relname,
               array(SELECT a.attname FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
                     ORDER BY a.attnum),
               array(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
                     ORDER BY a.attnum),
               coalesce(array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.ord), '{{}}'),
               coalesce(array(SELECT format_type(a.atttypid, a.atttypmod) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.ord), '{{}}')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {_USER_SCHEMAS}
        ORDER BY n.nspname, c.relname
        """
    ).fetchall()
    return [Table(s, n, tuple(cols), tuple(key), tuple(key_types), tuple(types)) for s, n, cols, types, key, key_types in rows]


def schema_description(conn: psycopg.Connection) -> dict[str, dict]:
    """{table: {"columns": {name: "type null default"}, "constraints": {...}, "indexes": {...}}} for comparison."""
    with conn.transaction():
        conn.execute("SET LOCAL search_path TO pg_catalog")  # definitions then name every schema, the same way on both sides
        return _describe(conn)


def _describe(conn: psycopg.Connection) -> dict[str, dict]:
    described: dict[str, dict] = {}
    for table, column, definition in conn.execute(
        f"""
        SELECT n.nspname || '.' || c.relname, a.attname,
               format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
               || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE c.relkind IN ('r', 'p') AND {_USER_SCHEMAS} ORDER BY 1, a.attnum
        """
    ):
        described.setdefault(table, {"columns": {}, "constraints": {}, "indexes": {}})["columns"][column] = definition
    for table, name, definition in conn.execute(
        f"""
        SELECT n.nspname || '.' || c.relname, k.conname, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_USER_SCHEMAS}
        """
    ):
        described[table]["constraints"][name] = definition
    for table, name, definition in conn.execute(
        f"SELECT n.schemaname || '.' || n.tablename, n.indexname, n.indexdef FROM pg_indexes n WHERE {_USER_SCHEMAS.replace('n.nspname', 'n.schemaname')}"
    ):
        described[table]["indexes"][name] = definition
    return described


def require_same_tables(source: dict[str, dict], target: dict[str, dict]) -> None:
    """Missing tables or columns make data comparison meaningless: stop with one line naming the first."""
    problems = [f"target is missing table {table}" for table in source if table not in target]
    for table, described in source.items():
        if table not in target:
            continue
        for column, definition in described["columns"].items():
            theirs = target[table]["columns"].get(column)
            if theirs is None:
                problems.append(f"schema drift: {table}.{column} is missing on the target")
            elif theirs.split(" default ")[0] != definition.split(" default ")[0]:
                problems.append(f"schema drift: {table}.{column} is '{definition}' on the source, '{theirs}' on the target")
        for column in target[table]["columns"].keys() - described["columns"].keys():
            problems.append(f"schema drift: {table}.{column} exists only on the target")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise MigrationError(problems[0] + more)


def schema_differences(source: dict[str, dict], target: dict[str, dict]) -> list[str]:
    """Every table, column, constraint and index that is not identical on both sides (R2.2)."""
    differences = []
    for table in sorted(source.keys() | target.keys()):
        if table not in target or table not in source:
            differences.append(f"table {table} only on the {'source' if table in source else 'target'}")
            continue
        for part in ("columns", "constraints", "indexes"):
            mine, theirs = source[table][part], target[table][part]
            for name in sorted(mine.keys() | theirs.keys()):
                if mine.get(name) != theirs.get(name):
                    differences.append(f"{part[:-1]} {table}.{name}: source {mine.get(name)!r}, target {theirs.get(name)!r}")
    return differences


def sequences(conn: psycopg.Connection) -> dict[tuple[str, str], tuple[int, bool]]:
    """{(schema, name): (value, is_called)} of every user sequence."""
    return {
        (schema, name): (value, called)
        for schema, name, value, called in conn.execute(
            "SELECT schemaname, sequencename, coalesce(last_value, start_value), last_value IS NOT NULL FROM pg_sequences"
            f" WHERE schemaname <> '{STATE_SCHEMA}' ORDER BY 1, 2"
        )
    }


def sequence_differences(mine: dict[tuple[str, str], tuple[int, bool]], theirs: dict[tuple[str, str], tuple[int, bool]]) -> list[str]:
    """Sequences whose value (or is_called) differs, or that exist on one side only."""
    return [
        f"sequence {schema}.{name}: source {mine.get((schema, name))}, target {theirs.get((schema, name))}"
        for schema, name in sorted(mine.keys() | theirs.keys()) if mine.get((schema, name)) != theirs.get((schema, name))
    ]


def set_sequences(source: psycopg.Connection, target: psycopg.Connection) -> None:
    """Give every target sequence the source's value, in one target transaction."""
    with target.transaction():
        for (schema, name), (value, called) in sequences(source).items():
            target.execute(sql.SQL("SELECT setval({}, %s, %s)").format(sql.Literal(sql.Identifier(schema, name).as_string(target))), (value, called))
