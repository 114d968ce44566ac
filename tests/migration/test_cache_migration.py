"""Cache rebuild and cluster-mode check against Redis 7 (a 6-node cluster: 3 primaries, 3 replicas; and a single
node), rebuilt from the platform's real tables (tests/migration/platform_cache_tables.py)."""

from __future__ import annotations

import decimal
import json
import uuid

import platform_cache_tables
import psycopg
import pytest
import redis
from migration_helpers import cli
from redis.cluster import RedisCluster

from migration.cache import patterns
from migration.cache.check import CheckKeys, check
from migration.cache.clients import connect
from migration.cache.patterns import KeyPattern
from migration.cache.rebuild import decimal_js, rebuild
from migration.errors import MigrationError

SCALE = 60  # users; twice as many content items, a subscription and a live stream each


@pytest.fixture(scope="module")
def cluster(redis_cluster) -> RedisCluster:
    return connect(f"redis://127.0.0.1:{redis_cluster.ports[0]}", cluster=True)


@pytest.fixture(scope="module")
def platform_tables(pg_source_cluster) -> str:
    name = f"cache_source_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_source_cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = pg_source_cluster.dsn(name)
    platform_cache_tables.create(dsn, SCALE)
    return dsn


def expected_keys(dsn: str) -> dict[str, set[str]]:
    """Every key the platform's code writes for its rows, per rebuilt pattern, derived here from the tables."""
    with psycopg.connect(dsn) as conn:
        column = lambda sql: {row[0] for row in conn.execute(sql)}  # noqa: E731
        return {
            "user": {f"user:{i}" for i in column("SELECT id FROM users")},
            "content": {f"content:{i}" for i in column("SELECT id FROM content")},
            "subscriptions": {f"subscriptions:{i}" for i in column('SELECT "fanId" FROM subscriptions')},
            "users-count": {f"api:cache:users:count:{r}" for r in column("SELECT role FROM users")},
            "content-count": {f"api:cache:content:count:{t}" for t in column("SELECT type FROM content")},
            "stream": {f"stream:{i}" for i in column("SELECT id FROM live_streams")},
        }


@pytest.mark.requirement("R11.3", "R3.2")
def test_rebuild_writes_every_rebuildable_platform_key_from_the_real_tables(platform_tables, cluster):
    """Fault 5: the rebuild read subscriptions."userId" (the column is "fanId") and stopped there, so 4 of its 7
    patterns were never written on the real schema. The patterns are now the keys the platform writes; each
    one is written, for every row, with its TTL, on every primary."""
    declared = patterns.load()
    described = patterns.platform_keys()
    by_name = {key.rebuilt: key for key in described if not key.rebuilt.startswith("no:")}
    assert sorted(by_name) == sorted(p.name for p in declared)  # every pattern is a key the app writes, and back
    for pattern in declared:
        assert by_name[pattern.name].matches(pattern.key.format(**dict.fromkeys(pattern.fields, "x1")))
    assert min(p.ttl_seconds for p in declared) == 60 and max(p.ttl_seconds for p in declared) <= 86400

    written = rebuild(platform_tables, cluster, declared)
    for name, keys in expected_keys(platform_tables).items():
        pattern = next(p for p in declared if p.name == name)
        assert written[name] == len(keys) > 0, name
        pipe = cluster.pipeline(transaction=False)
        for key in sorted(keys):
            pipe.ttl(key)
        ttls = pipe.execute()
        assert all(0 < ttl <= pattern.ttl_seconds for ttl in ttls), name
    per_primary = [len(node.redis_connection.keys("user:*")) for node in cluster.get_primaries()]
    assert len(per_primary) == 3 and all(per_primary)  # the cluster client routed keys to every primary
    assert rebuild(platform_tables, cluster, declared) == written  # idempotent


@pytest.mark.requirement("R11.3")
def test_cached_values_are_what_the_app_caches(platform_tables, cluster):
    """Values are JSON.stringify of the Prisma record: TIMESTAMP(3) as toISOString() (milliseconds, Z),
    DECIMAL as decimal.js prints it (a string), jsonb as PostgreSQL returns it, no spaces, UTF-8 as is."""
    rebuild(platform_tables, cluster, patterns.load())
    assert cluster.get("user:user-ada").decode() == (
        '{"id":"user-ada","email":"ada@example.com","password":null,"role":"ARTIST","displayName":"Ada \\"the\\" Lovelace",'
        '"bio":"line one\\nété ✓","avatar":null,"socialLinks":{"x":"https://x.example/ada"},'
        '"notificationPreferences":{"push":false,"email":true},"emailVerified":null,"image":null,'
        '"createdAt":"2024-02-29T23:59:59.999Z","updatedAt":"2025-01-01T00:00:00.000Z","lastSeenAt":null}'
    )
    assert json.loads(cluster.get("subscriptions:user-ada")) == [{
        "id": "sub-1", "fanId": "user-ada", "artistId": "user-ada", "tierId": "tier-gold", "stripeSubscriptionId": "sub_stripe_1",
        "amount": "1e-30", "status": "ACTIVE", "currentPeriodStart": "2025-01-01T00:00:00.000Z",
        "currentPeriodEnd": "2025-02-01T00:00:00.000Z", "createdAt": "2025-01-01T00:00:00.500Z", "updatedAt": "2025-01-01T00:00:00.000Z",
    }]
    stream = json.loads(cluster.get("stream:l2"))
    assert (stream["paymentAmount"], stream["totalTips"], stream["isPublic"]) == ("5.5", "0.02", False)
    with psycopg.connect(platform_tables) as conn:
        artists = conn.execute("SELECT count(*) FROM users WHERE role = 'ARTIST'").fetchone()[0]
    assert cluster.get("api:cache:users:count:ARTIST") == str(artists).encode()


@pytest.mark.parametrize(("value", "printed"), [
    ("12.500000000000000000000000000000", "12.5"), ("100", "100"), ("-0.5", "-0.5"), ("0E-30", "0"),
    ("0.000001", "0.000001"), ("0.0000001", "1e-7"), ("0.000000123", "1.23e-7"),
    ("123456789012345678901", "123456789012345678901"),
    ("1234567890123456789012.5", "1.2345678901234567890125e+21"),
    ("9" * 35 + "." + "9" * 30, "9." + "9" * 64 + "e+34"),  # DECIMAL(65,30)'s widest value, every digit kept
])
def test_decimals_print_as_decimal_js_prints_them(value, printed):
    """Prisma returns DECIMAL columns as Decimal values (https://www.prisma.io/docs/orm/prisma-client/special-fields-and-types#working-with-decimal),
    decimal.js-light in its runtime (@prisma/internals 6.16.2 bundle: toExpNeg -7, toExpPos 21, toJSON = toString;
    decimal.js has the same defaults, https://mikemcl.github.io/decimal.js/#toExpNeg): toString uses exponential
    notation when the first digit's exponent is at most -7 or at least 21, and drops trailing zeros."""
    assert decimal_js(decimal.Decimal(value)) == printed


@pytest.mark.requirement("R11.3")
def test_a_pattern_the_schema_cannot_answer_is_refused_before_anything_is_written(platform_tables, redis_single):
    """The old subscription pattern (by "userId") against the real tables: one line naming the pattern and the
    column, and nothing written, not even the patterns before it."""
    client = redis.Redis(port=redis_single.ports[0])
    before = client.dbsize()
    old = [KeyPattern("user", "user:{id}", "SELECT * FROM users", 3600, "row"),
           KeyPattern("subscription", "subscription:{userId}",
                      'SELECT "userId", json_agg(s ORDER BY s.id)::text AS value FROM subscriptions s GROUP BY "userId"', 900, "row")]
    with pytest.raises(MigrationError, match='cache pattern subscription: column "userId" does not exist'):
        rebuild(platform_tables, client, old)
    assert client.dbsize() == before


@pytest.mark.requirement("R3.2", "R11.3")
def test_operation_mix_works_on_the_cluster_and_cluster_hazards_are_flagged(cluster, redis_single, tmp_path):
    on_cluster = {f.operation: f for f in check(cluster)}
    platform_ops = [f for f in on_cluster.values() if f.kind == "platform operation"]
    assert len(platform_ops) == 6 and all(f.ok for f in platform_ops), [f for f in platform_ops if not f.ok]
    hazards = {name: f for name, f in on_cluster.items() if f.kind == "cluster hazard"}
    assert set(hazards) == {"KEYS pattern", "multi-key DEL across slots", "MGET across slots", "SELECT db",
                            "FLUSHDB / DBSIZE on one node", "client without MOVED redirects"}
    assert not any(f.ok for f in hazards.values())
    assert "ClusterCrossSlotError" in hazards["multi-key DEL across slots"].detail
    assert "MovedError" in hazards["client without MOVED redirects"].detail
    assert "SELECT is not allowed in cluster mode" in hazards["SELECT db"].detail

    # The same hazards are harmless on a single node: that is why today's code gets away with them.
    single = cli("cache", "check", "--redis", f"redis://127.0.0.1:{redis_single.ports[0]}", "--json", "--workdir", str(tmp_path))
    assert single.returncode == 0, single.stderr
    assert all(f["ok"] for f in json.loads(single.stdout))
    assert not list(cluster.scan_iter(match="*migration-check-*"))  # the check cleaned up after itself


def test_the_check_uses_the_platform_key_shapes():
    """Every key the check writes is a key shape the platform writes (patterns.toml), so its slots and its
    cross-slot operations are the platform's."""
    described = patterns.platform_keys()
    for key in CheckKeys("migration-check-0a1b2c3d").all:
        assert any(shape.matches(key) for shape in described), key


@pytest.mark.requirement("R11.3")
def test_unreachable_redis_is_one_clear_line(platform_tables, tmp_path):
    done = cli("cache", "rebuild", "--pg", platform_tables, "--redis", "redis://127.0.0.1:9", "--cluster", "--workdir", str(tmp_path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "cannot use Redis at 127.0.0.1:9" in done.stderr, done.stderr
