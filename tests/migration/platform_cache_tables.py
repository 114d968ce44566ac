"""The platform's real tables the cache reads (users, tiers, content, subscriptions, live_streams), as its Prisma
migration 20250921115133_init creates them (columns, keys, indexes and the foreign keys among them), filled
with awkward values. Cache tests only: migration/fixture.py builds the whole schema for the PostgreSQL tests;
this is the subset the cache needs, kept apart so the two do not depend on each other."""

from __future__ import annotations

import psycopg

# Verbatim from prisma/migrations/20250921115133_init/migration.sql (the platform's repository, HEAD 7056936).
DDL = '''
CREATE TABLE "public"."users" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "password" TEXT,
    "role" TEXT NOT NULL DEFAULT 'FAN',
    "displayName" TEXT NOT NULL,
    "bio" TEXT,
    "avatar" TEXT,
    "socialLinks" JSONB,
    "notificationPreferences" JSONB,
    "emailVerified" TIMESTAMP(3),
    "image" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3),

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "public"."tiers" (
    "id" TEXT NOT NULL,
    "artistId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "minimumPrice" DECIMAL(65,30) NOT NULL,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "subscriberCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "tiers_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "public"."content" (
    "id" TEXT NOT NULL,
    "artistId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "type" TEXT NOT NULL,
    "fileUrl" TEXT NOT NULL,
    "thumbnailUrl" TEXT,
    "visibility" TEXT NOT NULL DEFAULT 'PUBLIC',
    "fileSize" INTEGER NOT NULL,
    "duration" INTEGER,
    "format" TEXT NOT NULL,
    "tags" TEXT NOT NULL,
    "totalViews" INTEGER NOT NULL DEFAULT 0,
    "uniqueViews" INTEGER NOT NULL DEFAULT 0,
    "totalLikes" INTEGER NOT NULL DEFAULT 0,
    "lastViewedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "content_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "public"."subscriptions" (
    "id" TEXT NOT NULL,
    "fanId" TEXT NOT NULL,
    "artistId" TEXT NOT NULL,
    "tierId" TEXT NOT NULL,
    "stripeSubscriptionId" TEXT NOT NULL,
    "amount" DECIMAL(65,30) NOT NULL,
    "status" TEXT NOT NULL,
    "currentPeriodStart" TIMESTAMP(3) NOT NULL,
    "currentPeriodEnd" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "public"."live_streams" (
    "id" TEXT NOT NULL,
    "artistId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "status" TEXT NOT NULL DEFAULT 'SCHEDULED',
    "streamKey" TEXT NOT NULL,
    "maxViewers" INTEGER DEFAULT 1000,
    "isRecorded" BOOLEAN NOT NULL DEFAULT false,
    "recordingUrl" TEXT,
    "thumbnailUrl" TEXT,
    "scheduledAt" TIMESTAMP(3),
    "startedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),
    "peakViewers" INTEGER NOT NULL DEFAULT 0,
    "totalViewers" INTEGER NOT NULL DEFAULT 0,
    "totalTips" DECIMAL(65,30) NOT NULL DEFAULT 0,
    "totalMessages" INTEGER NOT NULL DEFAULT 0,
    "tierIds" TEXT NOT NULL,
    "isPublic" BOOLEAN NOT NULL DEFAULT false,
    "requiresPayment" BOOLEAN NOT NULL DEFAULT false,
    "paymentAmount" DECIMAL(65,30),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "live_streams_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "content_artistId_visibility_idx" ON "public"."content"("artistId", "visibility");

CREATE INDEX "content_type_visibility_idx" ON "public"."content"("type", "visibility");

CREATE INDEX "content_createdAt_idx" ON "public"."content"("createdAt");

CREATE INDEX "content_totalViews_idx" ON "public"."content"("totalViews");

CREATE INDEX "content_artistId_type_createdAt_idx" ON "public"."content"("artistId", "type", "createdAt");

CREATE INDEX "content_visibility_createdAt_idx" ON "public"."content"("visibility", "createdAt");

CREATE INDEX "content_tags_idx" ON "public"."content"("tags");

CREATE UNIQUE INDEX "live_streams_streamKey_key" ON "public"."live_streams"("streamKey");

CREATE INDEX "live_streams_artistId_status_idx" ON "public"."live_streams"("artistId", "status");

CREATE INDEX "live_streams_scheduledAt_idx" ON "public"."live_streams"("scheduledAt");

CREATE INDEX "live_streams_isPublic_status_idx" ON "public"."live_streams"("isPublic", "status");

CREATE INDEX "live_streams_status_startedAt_idx" ON "public"."live_streams"("status", "startedAt");

CREATE UNIQUE INDEX "subscriptions_stripeSubscriptionId_key" ON "public"."subscriptions"("stripeSubscriptionId");

CREATE INDEX "subscriptions_fanId_idx" ON "public"."subscriptions"("fanId");

CREATE INDEX "subscriptions_artistId_idx" ON "public"."subscriptions"("artistId");

CREATE INDEX "subscriptions_status_idx" ON "public"."subscriptions"("status");

CREATE INDEX "subscriptions_currentPeriodEnd_idx" ON "public"."subscriptions"("currentPeriodEnd");

CREATE INDEX "subscriptions_fanId_status_idx" ON "public"."subscriptions"("fanId", "status");

CREATE INDEX "subscriptions_artistId_status_idx" ON "public"."subscriptions"("artistId", "status");

CREATE INDEX "subscriptions_status_currentPeriodEnd_idx" ON "public"."subscriptions"("status", "currentPeriodEnd");

CREATE INDEX "subscriptions_fanId_artistId_status_idx" ON "public"."subscriptions"("fanId", "artistId", "status");

CREATE UNIQUE INDEX "subscriptions_fanId_tierId_key" ON "public"."subscriptions"("fanId", "tierId");

CREATE INDEX "tiers_artistId_isActive_idx" ON "public"."tiers"("artistId", "isActive");

CREATE UNIQUE INDEX "users_email_key" ON "public"."users"("email");

CREATE INDEX "users_role_createdAt_idx" ON "public"."users"("role", "createdAt");

CREATE INDEX "users_lastSeenAt_idx" ON "public"."users"("lastSeenAt");

CREATE INDEX "users_emailVerified_idx" ON "public"."users"("emailVerified");

ALTER TABLE "public"."content" ADD CONSTRAINT "content_artistId_fkey" FOREIGN KEY ("artistId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "public"."live_streams" ADD CONSTRAINT "live_streams_artistId_fkey" FOREIGN KEY ("artistId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "public"."subscriptions" ADD CONSTRAINT "subscriptions_tierId_fkey" FOREIGN KEY ("tierId") REFERENCES "public"."tiers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "public"."subscriptions" ADD CONSTRAINT "subscriptions_fanId_fkey" FOREIGN KEY ("fanId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "public"."tiers" ADD CONSTRAINT "tiers_artistId_fkey" FOREIGN KEY ("artistId") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
'''

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
    """The tables and the known rows, then `scale` users with content, tiers, subscriptions and streams each."""
    with psycopg.connect(dsn) as conn:
        conn.execute(DDL)
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
