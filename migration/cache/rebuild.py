"""Warm the cache from PostgreSQL, the source of truth (R11.3): nothing in Redis is the only copy of anything."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from migration.cache.check import Client
from migration.cache.patterns import KeyPattern
from migration.pg.connect import connect as connect_pg

BATCH = 1000


def rebuild(pg_dsn: str, client: Client, patterns: list[KeyPattern], on_batch: Callable[[str, int], None] = lambda name, n: None) -> dict[str, int]:
    """SET every key with its TTL; returns keys written per pattern. Re-running overwrites, so it is idempotent.

    A cluster pipeline sends each node the commands for its slots in one round trip per batch."""
    written = {}
    with connect_pg(pg_dsn, role="cache source", read_only=True) as conn:
        for pattern in patterns:
            written[pattern.name] = 0
            with conn.cursor(name=f"cache_{pattern.name}", row_factory=psycopg.rows.dict_row) as rows:
                rows.execute(pattern.query)
                while batch := rows.fetchmany(BATCH):
                    pipe = client.pipeline(transaction=False)
                    for row in batch:
                        pipe.set(pattern.key.format(**row), row["value"], ex=pattern.ttl_seconds)
                    pipe.execute()
                    written[pattern.name] += len(batch)
                    on_batch(pattern.name, len(batch))
            conn.commit()
    return written
