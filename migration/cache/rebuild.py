"""Warm the cache from PostgreSQL, the source of truth (R11.3): nothing in Redis is the only copy of anything.

Values are what the app itself caches: JSON.stringify of the Prisma record. Prisma reads TIMESTAMP(3) as a
UTC Date (ISO 8601 with milliseconds and Z), DECIMAL as a decimal.js Decimal (a string: trailing zeros
dropped, exponent notation below 1e-7 and from 1e21) and Json as its value."""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Callable, Iterator
from itertools import groupby
from typing import Any

import psycopg
import psycopg.rows

from migration.cache.check import Client
from migration.cache.patterns import KeyPattern
from migration.errors import MigrationError
from migration.pg.connect import connect as connect_pg

BATCH = 1000
_WIDE = decimal.Context(prec=100)  # DECIMAL(65,30) holds 65 digits; the default context keeps 28


def rebuild(pg_dsn: str, client: Client, patterns: list[KeyPattern], on_batch: Callable[[str, int], None] = lambda name, n: None) -> dict[str, int]:
    """SET every key with its TTL; returns keys written per pattern. Re-running overwrites, so it is idempotent.

    Every pattern is checked against the database before anything is written. A cluster pipeline sends each
    node the commands for its slots in one round trip per batch."""
    written = {}
    with connect_pg(pg_dsn, role="cache source", read_only=True) as conn:
        for pattern in patterns:
            _check(conn, pattern)
        for pattern in patterns:
            written[pattern.name] = 0
            with conn.cursor(name=f"cache_{pattern.name.replace('-', '_')}", row_factory=psycopg.rows.dict_row) as rows:
                rows.execute(pattern.query)
                for batch in _batches(_values(pattern, rows)):
                    pipe = client.pipeline(transaction=False)
                    for key, value in batch:
                        pipe.set(key, value, ex=pattern.ttl_seconds)
                    pipe.execute()
                    written[pattern.name] += len(batch)
                    on_batch(pattern.name, len(batch))
            conn.commit()
    return written


def _check(conn: psycopg.Connection, pattern: KeyPattern) -> None:
    """The query runs on this schema and returns the key's fields (and `count` for a count): one clear line if not."""
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT * FROM ({pattern.query}) AS pattern LIMIT 0")
            columns = {column.name for column in cursor.description or ()}
    except psycopg.errors.Error as error:
        conn.rollback()
        raise MigrationError(f"cache pattern {pattern.name}: {error.diag.message_primary or error}") from None
    conn.rollback()
    missing = pattern.fields - columns | ({"count"} - columns if pattern.value == "count" else set())
    if missing:
        raise MigrationError(f"cache pattern {pattern.name}: the query returns no column {', '.join(sorted(missing))}")


def _values(pattern: KeyPattern, rows: Iterator[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    keyed = ((pattern.key.format(**row), row) for row in rows)
    if pattern.value == "row":
        yield from ((key, app_json(row)) for key, row in keyed)
    elif pattern.value == "rows":
        yield from ((key, app_json([row for _, row in group])) for key, group in groupby(keyed, key=lambda item: item[0]))
    else:
        yield from ((key, str(row["count"])) for key, row in keyed)


def _batches(items: Iterator[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def app_json(value: Any) -> str:
    """JSON.stringify's output for a Prisma record (or list of records): no spaces, non-ASCII as is."""
    return json.dumps(value, default=_prisma_scalar, ensure_ascii=False, separators=(",", ":"))


def _prisma_scalar(value: Any) -> str:
    if isinstance(value, datetime.datetime):  # TIMESTAMP(3) holds UTC; Date.toISOString()
        utc = value.astimezone(datetime.UTC).replace(tzinfo=None) if value.tzinfo else value
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if isinstance(value, decimal.Decimal):
        return decimal_js(value)
    raise TypeError(f"no JSON form for {type(value).__name__}")


def decimal_js(value: decimal.Decimal) -> str:
    """decimal.js's toString (what Decimal#toJSON returns): no trailing zeros; exponent notation when the
    exponent of the first digit is at most -7 or at least 21 (its toExpNeg and toExpPos defaults)."""
    if value.is_zero():
        return "0"
    normal = value.normalize(_WIDE)
    sign, digits, exponent = normal.as_tuple()
    assert isinstance(exponent, int)  # finite: PostgreSQL numeric columns of the schema hold no NaN
    first = len(digits) + exponent - 1
    text = "".join(map(str, digits))
    if first <= -7 or first >= 21:
        mantissa = text[0] + (f".{text[1:]}" if len(text) > 1 else "")
        return f"{'-' if sign else ''}{mantissa}e{'+' if first >= 0 else '-'}{abs(first)}"
    return format(normal, "f")
