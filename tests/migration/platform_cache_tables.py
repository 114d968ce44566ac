"""The platform's real tables the cache reads (users, tiers, content, subscriptions, live_streams), built by its
Prisma migrations (migration/platform_schema, as migration/fixture.py applies them), filled with awkward values
the cache tests spell out. The PostgreSQL tests fill every table through migration/fixture.py instead."""

from __future__ import annotations

import psycopg

from migration.fixture import apply_schema

# Rows with values whose cached JSON the tests spell out by hand: a leap-second-edge timestamp, a 30-digit
# fraction, money below decimal.js's exponent threshold, quotes, a newline and non-ASCII text, jsonb, NULLs.
KNOWN_ROWS = '''
INSERT INTO users (id, email, password, role, "displayName", bio, "socialLinks", "notificationPreferences",
                   "emailVerified", "createdAt", "updatedAt")
VALUES ('user-ada', 'ada@example.com', NULL, 'ARTIST', 'Ada "the" Lovelace', E'line one\\nété ✓', '{"x": "https://x.example/ada"}',
        '{"email": true, "push": false}', NULL, '2024-02-29 23:59:59.999', '2025-01-01 00:00:00');
INSERT INTO tiers (id, "artistId", name, description, "minimumPrice", "updatedAt")
VALUES ('tier-gold', 'user-ada', 'Gold', 'All of it', 12.500000000000000000000000000000, '2025-01-01 00:00:00');
INSERT INTO subscriptions (id, "fanId", "artistId", "tierId", "stripeSubscriptionId", amount, status,
                           "currentPeriodStart", "currentPeriodEnd", "createdAt", "updatedAt")
VALUES ('sub-1', 'user-ada', 'user-ada', 'tier-gold', 'sub_stripe_1', 0.000000000000000000000000000001, 'ACTIVE',
        '2025-01-01 00:00:00', '2025-02-01 00:00:00', '2025-01-01 00:00:00.5', '2025-01-01 00:00:00');
'''


def create(dsn: str, scale: int) -> None:
    """The platform's schema and the known rows, then `scale` users with content, tiers, subscriptions and streams
    each (the other tables stay empty)."""
    with psycopg.connect(dsn) as conn:
        apply_schema(conn)
        conn.execute(KNOWN_ROWS)
        conn.execute(f"""
            INSERT INTO users (id, email, role, "displayName", "socialLinks", "createdAt", "updatedAt", "lastSeenAt")
            SELECT 'u' || i, 'user' || i || '@example.com', (ARRAY['FAN', 'ARTIST', 'ADMIN'])[1 + i % 3],
                   'Ünïcode ' || i || E'\\t"q"', CASE WHEN i % 2 = 0 THEN jsonb_build_object('n', i, 'ok', i % 4 = 0) END,
                   timestamp '2024-01-01' + i * interval '37.123 seconds', now()::timestamp(3),
                   CASE WHEN i % 5 <> 0 THEN timestamp '2025-06-01' + i * interval '1 minute' END
            FROM generate_series(1, {scale}) i;
            INSERT INTO tiers (id, "artistId", name, description, "minimumPrice", "updatedAt")
            SELECT 't' || i, 'u' || i, 'Tier ' || i, 'd', (i * 1234567.123456789012345678901234567891 / 3)::numeric(65,30),
                   now()::timestamp(3)
            FROM generate_series(1, {scale}) i;
            INSERT INTO content (id, "artistId", title, type, "fileUrl", "fileSize", format, tags, "createdAt", "updatedAt")
            SELECT 'c' || i, 'u' || (1 + i % {scale}), 'Title ' || i, (ARRAY['VIDEO', 'AUDIO', 'IMAGE'])[1 + i % 3],
                   'https://cdn.example/' || i, i * 1000, 'mp4', 'a,b', timestamp '2024-03-01' + i * interval '1 hour',
                   now()::timestamp(3)
            FROM generate_series(1, {2 * scale}) i;
            INSERT INTO subscriptions (id, "fanId", "artistId", "tierId", "stripeSubscriptionId", amount, status,
                                       "currentPeriodStart", "currentPeriodEnd", "createdAt", "updatedAt")
            SELECT 's' || i, 'u' || (1 + i % {scale}), 'u' || (1 + (i * 7) % {scale}), 't' || (1 + (i * 7) % {scale}),
                   'sub_' || i, (i * 9.99)::numeric(65,30), 'ACTIVE', timestamp '2025-01-01', timestamp '2025-02-01',
                   timestamp '2025-01-01' + i * interval '1 second', now()::timestamp(3)
            FROM generate_series(1, {scale}) i WHERE (1 + i % {scale}) <> (1 + (i * 7) % {scale});
            INSERT INTO live_streams (id, "artistId", title, "streamKey", "tierIds", "paymentAmount", "totalTips", "updatedAt")
            SELECT 'l' || i, 'u' || i, 'Live ' || i, 'key-' || i, '[]', CASE WHEN i % 2 = 0 THEN 5.5 END, i * 0.01,
                   now()::timestamp(3)
            FROM generate_series(1, {scale}) i;
        """)
