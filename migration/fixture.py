"""The platform's real database (migration/platform_schema: its three Prisma migrations and `_prisma_migrations`)
filled with hostile values, sized by `scale` (scale 1000 ≈ 671,000 rows).

Values are generated in the server from the catalog, so they follow the real columns: NULL wherever a column allows
it, unicode (emoji, right-to-left, combining marks, CJK), quotes, backslashes, tabs and newlines, incompressible
text of 100 kB in some rows (stored out of line: TOAST), DECIMAL(65,30) at its limits, INTEGER at its limits,
timestamps from 4713 BC to 294276 AD and ±infinity, and JSONB edge cases (JSON null, empty containers, deep
nesting, escapes, huge and high-precision numbers). Rows are deterministic: the same scale gives the same data.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from migration.platform_schema import MIGRATIONS, PRISMA_MIGRATIONS_TABLE

# Rows per table for scale 1 (sum 671). Parents hold enough rows that every unique combination of foreign keys
# (content_likes (userId, contentId), subscriptions (fanId, tierId), ...) has room at any scale.
WEIGHTS: dict[str, int] = {
    "users": 40, "accounts": 20, "sessions": 30, "verificationtokens": 5, "refresh_tokens": 20, "oauth_tokens": 10,
    "artists": 4, "tiers": 8, "content": 40, "_TierContent": 30, "content_views": 70, "content_likes": 60,
    "comments": 45, "playlists": 6, "playlist_items": 30, "playlist_likes": 10, "subscriptions": 20, "invoices": 30,
    "payment_failures": 2, "messages": 45, "reports": 2, "live_streams": 3, "stream_viewers": 20,
    "stream_chat_messages": 40, "stream_tips": 6, "stream_polls": 2, "stream_poll_votes": 10, "stream_recordings": 2,
    "campaigns": 2, "campaign_analytics": 6, "campaign_rewards": 3, "reward_distributions": 4, "challenges": 2,
    "challenge_participations": 10, "challenge_submissions": 8, "challenge_leaderboards": 8, "moderation_logs": 5,
    "price_optimizations": 2, "ai_agent_logs": 11,
}
HUGE_TEXT_EVERY = 997  # one row in this many gets 100 kB of incompressible text in its long text columns
_HUGE_TEXT = "(SELECT string_agg(md5(i::text || '/' || g), '') FROM generate_series(1, 3200) g)"
_TEXTS = (  # cycled through text columns; all valid UTF-8, none empty only by accident
    "plain ascii",
    "émoji 🎵🎤 and ZWJ 👩‍👩‍👧 family",
    "right-to-left: مرحبا بالعالم",
    "combining: e\u0301 a\u0308 \u1e9b\u0323",
    "CJK 漢字かなカナ 한국어",
    "quotes ' \" `` and backslashes \\ \\\\ \\n (literal)",
    "tab\there and\nnewline and\r\ncarriage return",
    "",
    " leading and trailing spaces ",
    "sql-ish: '); DROP TABLE users; --",
    "NULL",
    "\u00a0non-breaking space and \u2028line separator",
)
_JSON = (
    "null", "{}", "[]", '""', "0", "-0.0", "1e300", "-1.5e-300", "true",
    '"escapes: \\"quoted\\" \\\\ \\n \\t \\u00e9 \\ud83c\\udfb5"',
    '{"a": {"b": {"c": {"d": {"e": {"f": [1, [2, [3, [4, [5]]]]]}}}}}}',
    '{"amount": 3.141592653589793238462643383279502884197, "big": 123456789012345678901234567890}',
    '{"key with spaces": null, "": "empty key", "émoji 🎵": ["🎤", null, false]}',
    '[{"id": 1}, {"id": 2, "tags": []}, "mixed", 1, null]',
)
_TIMESTAMPS = (
    "4713-01-01 00:00:00 BC", "294276-12-31 23:59:59.999", "infinity", "-infinity", "1970-01-01 00:00:00",
    "2000-02-29 23:59:59.999", "1999-12-31 23:59:59.999",
)
_DECIMALS = {  # (precision, scale): extremes that fit
    (65, 30): ("99999999999999999999999999999999999.999999999999999999999999999999",
               "-99999999999999999999999999999999999.999999999999999999999999999999",
               "0.000000000000000000000000000001", "0", "-0.000000000000000000000000000001"),
    (10, 2): ("99999999.99", "-99999999.99", "0.01", "0"),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type()
    not_null: bool
    varchar_length: int | None


@dataclass(frozen=True)
class TableShape:
    name: str
    columns: tuple[Column, ...]
    unique_columns: frozenset[str]  # columns in the primary key or any unique index
    indexed_columns: frozenset[str]  # columns of any b-tree index (whose entries must stay under 8 kB)
    references: tuple[tuple[str, str], ...]  # (column, parent table), columns of unique indexes first


def apply_schema(conn: psycopg.Connection) -> None:
    """The platform's schema, as `prisma migrate deploy` leaves it."""
    conn.execute(PRISMA_MIGRATIONS_TABLE)
    for _, script in MIGRATIONS:
        conn.execute(script)  # no parameters: one simple query, many statements


def rows(table: str, scale: int) -> int:
    return 3 if table == "_prisma_migrations" else max(1, WEIGHTS[table] * scale)


def create(dsn: str, scale: int) -> int:
    """Create and fill the platform's schema in an empty database; returns the number of rows written."""
    with psycopg.connect(dsn) as conn:
        apply_schema(conn)
        shapes = _shapes(conn)
        conn.execute(_prisma_history())
        for table in _parents_first(shapes):
            if table != "_prisma_migrations":
                conn.execute(_insert(shapes[table], scale))
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")
    return sum(rows(t, scale) for t in shapes)


def _shapes(conn: psycopg.Connection) -> dict[str, TableShape]:
    columns: dict[str, list[Column]] = {}
    for table, name, type_, not_null, length in conn.execute(
        """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  CASE WHEN a.atttypid = 'varchar'::regtype AND a.atttypmod > 0 THEN a.atttypmod - 4 END
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY c.relname, a.attnum"""
    ):
        columns.setdefault(table, []).append(Column(name, type_, not_null, length))
    unique: dict[str, set[str]] = {}
    indexed: dict[str, set[str]] = {}
    for table, name, is_unique in conn.execute(
        """SELECT c.relname, a.attname, i.indisunique FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
           WHERE c.relnamespace = 'public'::regnamespace"""
    ):
        indexed.setdefault(table, set()).add(name)
        if is_unique:
            unique.setdefault(table, set()).add(name)
    references: dict[str, list[tuple[str, str]]] = {}
    for table, column, parent in conn.execute(
        """SELECT c.relname, a.attname, p.relname FROM pg_constraint k
           JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
           WHERE k.contype = 'f' AND c.relnamespace = 'public'::regnamespace ORDER BY c.relname, k.conname"""
    ):
        references.setdefault(table, []).append((column, parent))
    return {
        table: TableShape(
            table, tuple(cols), frozenset(unique.get(table, ())), frozenset(indexed.get(table, ())),
            tuple(sorted(references.get(table, []), key=lambda ref: ref[0] not in unique.get(table, set()))),
        )
        for table, cols in columns.items()
    }


def _parents_first(shapes: dict[str, TableShape]) -> list[str]:
    ordered: list[str] = []

    def visit(table: str) -> None:
        if table not in ordered:
            for _, parent in shapes[table].references:
                if parent != table:
                    visit(parent)
            ordered.append(table)

    for table in sorted(shapes):
        visit(table)
    return ordered


def identifier(table: str, number: str) -> str:
    """The text id of row `number` of `table` (Prisma ids are application-generated text)."""
    return f"md5('{table}/' || ({number}))"


def _insert(shape: TableShape, scale: int) -> str:
    n = rows(shape.name, scale)
    # Foreign keys: mixed-radix digits of the row number, so unique combinations of references stay distinct.
    radix, expressions = 1, {}
    for name, parent in shape.references:
        parent_rows = rows(parent, scale)
        reference = identifier(parent, f"1 + ((i::bigint - 1) / {radix}) % {parent_rows}")
        radix *= parent_rows
        nullable = not next(c for c in shape.columns if c.name == name).not_null
        expressions[name] = f"CASE WHEN i % 11 = 5 THEN NULL ELSE {reference} END" if nullable else reference
    values = []
    for position, column in enumerate(shape.columns):
        if column.name in expressions:
            values.append(expressions[column.name])
        elif column.name == "id" and column.type in ("text", "character varying(255)"):
            values.append(identifier(shape.name, "i"))
        else:
            values.append(_value(column, position, column.name in shape.unique_columns, column.name in shape.indexed_columns))
    names = ", ".join(f'"{c.name}"' for c in shape.columns)  # catalog names: none contains a double quote
    return f'INSERT INTO public."{shape.name}" ({names}) SELECT {", ".join(values)} FROM generate_series(1, {n}) i'


def _cycle(options: tuple[str, ...], position: int, cast: str) -> str:
    literals = ", ".join(_literal(o) for o in options)
    return f"(ARRAY[{literals}]::{cast}[])[1 + (i + {position}) % {len(options)}]"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _value(column: Column, position: int, unique: bool, indexed: bool) -> str:
    """A hostile value for one column of row i; unique columns get a value distinct per row, never NULL."""
    kind = column.type
    whens = [] if column.not_null or unique else [f"(i + {position}) % 7 = 0 THEN NULL"]
    if kind == "text" or kind.startswith("character varying"):
        limit = column.varchar_length
        value = f"'{column.name}-' || i || ' ' || {_cycle(_TEXTS, position, 'text')}"
        if not limit and not indexed:
            whens.append(f"i % {HUGE_TEXT_EVERY} = {position % 10} THEN {_HUGE_TEXT}")
        return _case(whens, f"left({value}, {limit})" if limit else value)
    if kind == "integer":
        if not unique:
            whens += ["i % 89 = 1 THEN 2147483647", "i % 89 = 2 THEN -2147483648", "i % 89 = 3 THEN 0"]
        return _case(whens, f"(i * 7 + {position})::int")
    if kind == "boolean":
        return _case(whens, f"(i + {position}) % 3 <> 0")
    if kind.startswith("numeric"):
        precision, digits = (int(p) for p in kind[kind.index("(") + 1 : -1].split(","))
        extremes = _DECIMALS[(precision, digits)]
        whens.append(f"i % 53 < {len(extremes)} THEN {_cycle(extremes, 0, 'text')}::{kind}")
        ordinary = "i * 1234567.123456789012345678901234567891 / 7" if precision > 20 else "i % 100000 * 7.77"
        return _case(whens, f"({ordinary})::{kind}")
    if kind.startswith("timestamp"):
        if not unique:
            whens.append(f"i % 61 < {len(_TIMESTAMPS)} THEN {_cycle(_TIMESTAMPS, 0, 'text')}::{kind}")
        return _case(whens, f"(timestamp '2024-01-01' + (i * 37.123 + {position}) * interval '1 second')::{kind}")
    if kind == "jsonb":
        whens.append(f"i % 3 = 0 THEN {_cycle(_JSON, position, 'text')}::jsonb")
        return _case(whens, "jsonb_build_object('i', i, 'tags', jsonb_build_array('a', 'é'), 'ratio', i * 0.5)")
    raise ValueError(f"no generator for {column.name} {kind}")


def _case(whens: list[str], otherwise: str) -> str:
    return f"CASE {' '.join('WHEN ' + w for w in whens)} ELSE {otherwise} END" if whens else otherwise


def _prisma_history() -> str:
    """`_prisma_migrations` as `prisma migrate deploy` leaves it: one finished row per migration."""
    values = ", ".join(
        f"(md5('{name}')::uuid::text, md5('checksum {name}') || md5('{name}'), timestamptz '2025-09-2{n} 12:00:00+00', '{name}',"
        f" NULL, NULL, timestamptz '2025-09-2{n} 11:59:59.123456+00', 1)"
        for n, (name, _) in enumerate(MIGRATIONS, start=1)
    )
    return f'INSERT INTO "_prisma_migrations" VALUES {values}'
