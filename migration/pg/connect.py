"""Connections with the session settings every comparison relies on, and one-line connection errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import psycopg

from migration.errors import MigrationError

# Row text (used for checksums) depends on these settings, so both servers must render rows the same way.
_SESSION_OPTIONS = (
    "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=postgres "
    "-c extra_float_digits=3 -c bytea_output=hex"
)


def describe(dsn: str) -> str:
    """host:port/dbname, without credentials, for messages and reports."""
    parts = urlsplit(dsn)
    if parts.scheme.startswith("postgres"):
        return f"{parts.hostname}:{parts.port or 5432}{parts.path}"
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def connect(dsn: str, *, role: str, read_only: bool = False, app: str = "migration", autocommit: bool = False) -> psycopg.Connection:
    """Open a connection; the source is always opened read-only so the tool cannot write to it (R11.5)."""
    options = _SESSION_OPTIONS + (" -c default_transaction_read_only=on" if read_only else "")
    try:
        return psycopg.connect(dsn, options=options, application_name=app, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as error:
        raise MigrationError(f"cannot connect to {role} {describe(dsn)}: {_first_line(error)}") from None


def scalar(conn: psycopg.Connection, query: Any, params: Any = None) -> Any:
    """The first column of the single row a query returns (aggregates, catalog look-ups)."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise LookupError(f"no row from {query!r}")
    return row[0]


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    # libpq prefixes the interesting part with 'connection to server at ... failed:'
    return lines[-1].split("failed: ")[-1] if lines else type(error).__name__
