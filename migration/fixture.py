"""A database shaped like the platform's (38 tables, cascading foreign keys, DECIMAL(65,30) money, jsonb,
text ids, a table without a primary key, a composite-key join table, a sequence), sized by `scale`."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Spec:
    name: str
    weight: int  # rows = weight × scale
    parents: tuple[tuple[str, str, str], ...] = ()  # (column, parent table, ON DELETE action)
    money: tuple[str, ...] = ()
    document: str | None = None  # a jsonb column
    pair_key: bool = False  # primary key is the two parent columns (a join table)


def _fk(column: str, parent: str, action: str = "CASCADE") -> tuple[str, str, str]:
    return (column, parent, action)


SPECS: tuple[Spec, ...] = (
    Spec("users", 10, money=("balance",)),
    Spec("accounts", 10, (_fk("userId", "users"),)),
    Spec("sessions", 10, (_fk("userId", "users"),)),
    Spec("artists", 3, (_fk("userId", "users"),), money=("totalEarnings", "pendingPayout")),
    Spec("tiers", 3, (_fk("artistId", "artists"),), money=("price", "minimumPrice")),
    Spec("content", 10, (_fk("artistId", "artists"),), money=("price",)),
    Spec("_TierContent", 10, (_fk("A", "tiers"), _fk("B", "content")), pair_key=True),
    Spec("content_views", 60, (_fk("contentId", "content"), _fk("userId", "users"))),
    Spec("content_likes", 30, (_fk("contentId", "content"), _fk("userId", "users"))),
    Spec("comments", 30, (_fk("contentId", "content"), _fk("userId", "users"))),
    Spec("playlists", 3, (_fk("userId", "users"),)),
    Spec("playlist_items", 10, (_fk("playlistId", "playlists"), _fk("contentId", "content"))),
    Spec("subscriptions", 8, (_fk("userId", "users"), _fk("tierId", "tiers")), money=("amount",)),
    Spec("payments", 10, (_fk("userId", "users"),), money=("amount", "fee"), document="metadata"),
    Spec("payouts", 3, (_fk("artistId", "artists"),), money=("amount",)),
    Spec("invoices", 8, (_fk("subscriptionId", "subscriptions"),), money=("total", "tax")),
    Spec("refunds", 2, (_fk("paymentId", "payments"),), money=("amount",)),
    Spec("campaigns", 2, (_fk("artistId", "artists"),), money=("goal", "raised")),
    Spec("campaign_participants", 6, (_fk("campaignId", "campaigns"), _fk("userId", "users"))),
    Spec("challenges", 2, (_fk("campaignId", "campaigns"),), money=("prize",)),
    Spec("challenge_participations", 6, (_fk("challengeId", "challenges"), _fk("userId", "users"))),
    Spec("challenge_submissions", 4, (_fk("challengeId", "challenges"), _fk("userId", "users"))),
    Spec("live_streams", 3, (_fk("artistId", "artists"),)),
    Spec("stream_viewers", 40, (_fk("streamId", "live_streams"), _fk("userId", "users"))),
    Spec("stream_chat_messages", 50, (_fk("streamId", "live_streams"), _fk("userId", "users"))),
    Spec("stream_tips", 10, (_fk("streamId", "live_streams"), _fk("userId", "users")), money=("amount",)),
    Spec("stream_recordings", 3, (_fk("streamId", "live_streams"),)),
    Spec("messages", 40, (_fk("senderId", "users"), _fk("recipientId", "users"))),
    Spec("notifications", 20, (_fk("userId", "users"),), document="data"),
    Spec("follows", 15, (_fk("followerId", "users"), _fk("artistId", "artists")), pair_key=True),
    Spec("reports", 2, (_fk("reporterId", "users"), _fk("contentId", "content", "SET NULL"))),
    Spec("referrals", 3, (_fk("referrerId", "users"), _fk("referredId", "users")), money=("reward",)),
    Spec("promo_codes", 2, (_fk("artistId", "artists"),), money=("discount",)),
    Spec("user_settings", 10, (_fk("userId", "users"),), document="preferences"),
    Spec("media_assets", 10, (_fk("contentId", "content"),)),
    Spec("upload_sessions", 5, (_fk("userId", "users", "SET NULL"),)),
    Spec("audit_logs", 20, (_fk("userId", "users", "SET NULL"),)),  # bigserial id: a sequence to carry over
    Spec("verificationtokens", 5),  # no primary key, as in the platform
)


def _id(table: str, number: str) -> str:
    """Application-style text id: deterministic, in no particular order."""
    return f"md5('{table}' || ({number})::text)"


def ddl(spec: Spec) -> str:
    q = lambda name: f'"{name}"'  # noqa: E731
    if spec.name == "verificationtokens":
        return (
            'CREATE TABLE "verificationtokens" ("identifier" TEXT NOT NULL, "token" TEXT NOT NULL, "expires" TIMESTAMP(3) NOT NULL);'
            ' CREATE UNIQUE INDEX "verificationtokens_token_key" ON "verificationtokens"("token");'
            ' CREATE UNIQUE INDEX "verificationtokens_identifier_token_key" ON "verificationtokens"("identifier", "token");'
        )
    key_column = 'BIGSERIAL' if spec.name == "audit_logs" else 'TEXT'
    columns = [] if spec.pair_key else [f'"id" {key_column} NOT NULL']
    for column, _, action in spec.parents:
        columns.append(f'{q(column)} TEXT{"" if action == "SET NULL" else " NOT NULL"}')
    columns += ['"title" TEXT', '"count" INTEGER NOT NULL DEFAULT 0', '"active" BOOLEAN NOT NULL DEFAULT true']
    columns += [f"{q(m)} DECIMAL(65,30) NOT NULL DEFAULT 0" for m in spec.money]
    if spec.document:
        columns.append(f"{q(spec.document)} JSONB")
    columns += ['"createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP', '"updatedAt" TIMESTAMP(3)']
    key = ", ".join(q(c) for c, _, _ in spec.parents) if spec.pair_key else '"id"'
    statements = [f'CREATE TABLE {q(spec.name)} ({", ".join(columns)}, CONSTRAINT {q(spec.name + "_pkey")} PRIMARY KEY ({key}))']
    for column, parent, action in spec.parents:
        statements.append(f'CREATE INDEX {q(f"{spec.name}_{column}_idx")} ON {q(spec.name)}({q(column)})')
        statements.append(
            f'ALTER TABLE {q(spec.name)} ADD CONSTRAINT {q(f"{spec.name}_{column}_fkey")} FOREIGN KEY ({q(column)})'
            f' REFERENCES {q(parent)}("id") ON DELETE {action} ON UPDATE CASCADE'
        )
    if spec.name == "users":
        statements.append('ALTER TABLE "users" ADD "email" TEXT NOT NULL')
        statements.append('CREATE UNIQUE INDEX "users_email_key" ON "users"("email")')
    return "; ".join(statements) + ";"


def rows(spec: Spec, scale: int) -> int:
    count = max(1, spec.weight * scale)
    if spec.pair_key:
        a, b = (max(1, next(s for s in SPECS if s.name == p).weight * scale) for _, p, _ in spec.parents)
        count = min(count, a * b)
    return count


def insert(spec: Spec, scale: int) -> str:
    n = rows(spec, scale)
    if spec.name == "verificationtokens":
        return (
            f"INSERT INTO \"verificationtokens\" SELECT 'user' || i || '@example.com', {_id('token', 'i')},"
            f" timestamp '2026-01-01' + i * interval '1 hour' FROM generate_series(1, {n}) i"
        )
    values, columns = [], []
    if not spec.pair_key and spec.name != "audit_logs":
        columns.append('"id"')
        values.append(_id(spec.name, "i"))
    for position, (column, parent, action) in enumerate(spec.parents):
        parent_rows = rows(next(s for s in SPECS if s.name == parent), scale)
        if spec.pair_key:  # distinct pairs: first parent cycles fastest
            first = rows(next(s for s in SPECS if s.name == spec.parents[0][1]), scale)
            number = f"1 + (i - 1) % {first}" if position == 0 else f"1 + ((i - 1) / {first}) % {parent_rows}"
        else:
            number = f"1 + (i * {7919 + position * 104} ) % {parent_rows}"
        reference = _id(parent, number)
        columns.append(f'"{column}"')
        values.append(f"CASE WHEN i % 11 = 0 THEN NULL ELSE {reference} END" if action == "SET NULL" else reference)
    columns += ['"title"', '"count"', '"active"']
    values += [
        "CASE WHEN i % 5 = 0 THEN NULL ELSE 'title ' || i || E'\\t\"quoted\" \\\\ é ✓' || CASE WHEN i % 7 = 0 THEN E'\\nsecond line' ELSE '' END END",
        "i % 1000", "i % 3 <> 0",
    ]
    for position, money in enumerate(spec.money):
        columns.append(f'"{money}"')
        values.append(f"(i * 1234567.123456789012345678901234567891 / {position + 3})::numeric(65,30)")
    if spec.document:
        columns.append(f'"{spec.document}"')
        values.append("jsonb_build_object('i', i, 'tags', jsonb_build_array('a', 'b'), 'nested', jsonb_build_object('x', i * 0.5, 'ok', i % 2 = 0))")
    columns += ['"createdAt"', '"updatedAt"']
    values += ["timestamp '2024-01-01' + i * interval '37.123 seconds'", "CASE WHEN i % 4 = 0 THEN NULL ELSE now()::timestamp(3) END"]
    if spec.name == "users":
        columns.append('"email"')
        values.append("'user' || i || '@example.com'")
    return f'INSERT INTO "{spec.name}" ({", ".join(columns)}) SELECT {", ".join(values)} FROM generate_series(1, {n}) i'


def create(dsn: str, scale: int) -> int:
    """Create and fill the fixture schema in an empty database; returns the number of rows written."""
    with psycopg.connect(dsn) as conn:
        for spec in SPECS:
            conn.execute(ddl(spec))
        for spec in SPECS:
            conn.execute(insert(spec, scale))
        conn.execute("ANALYZE")
    return sum(rows(s, scale) for s in SPECS)
