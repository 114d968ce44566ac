"""Cache rebuild and cluster-mode check against Redis 7: a 6-node cluster (3 primaries, 3 replicas) and a single node."""

from __future__ import annotations

import json

import psycopg
import pytest
from migration_helpers import cli
from redis.cluster import RedisCluster

from migration.cache import patterns
from migration.cache.check import check
from migration.cache.clients import connect
from migration.cache.rebuild import rebuild


@pytest.fixture(scope="module")
def cluster(redis_cluster) -> RedisCluster:
    return connect(f"redis://127.0.0.1:{redis_cluster.ports[0]}", cluster=True)


@pytest.mark.requirement("R11.3", "R3.2")
def test_rebuild_warms_the_cluster_from_postgresql(platform_db, cluster, redis_cluster):
    declared = patterns.load()
    assert {p.key.split(":")[0] for p in declared} == {"user", "artist", "content", "subscription", "session", "stream", "chat"}
    assert min(p.ttl_seconds for p in declared) == 60 and max(p.ttl_seconds for p in declared) == 86400

    written = rebuild(platform_db, cluster, declared)
    with psycopg.connect(platform_db) as conn:
        for pattern in declared:
            expected = {pattern.key.format(**row): row["value"]
                        for row in conn.cursor(row_factory=psycopg.rows.dict_row).execute(pattern.query)}
            prefix = pattern.key.split("{")[0]
            stored = {k.decode() for k in cluster.scan_iter(match=f"{prefix}*", count=1000) if k.decode().startswith(prefix)}
            assert written[pattern.name] == len(expected) > 0
            assert stored == set(expected), pattern.name
            sample = sorted(expected)[len(expected) // 2]
            assert json.loads(cluster.get(sample)) == json.loads(expected[sample])
            assert 0 < cluster.ttl(sample) <= pattern.ttl_seconds
    # keys landed on every primary (the cluster client routed them by slot), and replicas followed
    per_primary = [len(node.redis_connection.keys("user:*")) for node in cluster.get_primaries()]
    assert len(per_primary) == 3 and all(per_primary)
    assert rebuild(platform_db, cluster, declared) == written  # idempotent


@pytest.mark.requirement("R3.2", "R11.3")
def test_operation_mix_works_on_the_cluster_and_cluster_hazards_are_flagged(cluster, redis_single, tmp_path):
    on_cluster = {f.operation: f for f in check(cluster)}
    platform_ops = [f for f in on_cluster.values() if f.kind == "platform operation"]
    assert len(platform_ops) == 5 and all(f.ok for f in platform_ops), [f for f in platform_ops if not f.ok]
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
    assert not list(cluster.scan_iter(match="migration-check:*"))  # the check cleaned up after itself


@pytest.mark.requirement("R11.3")
def test_unreachable_redis_is_one_clear_line(platform_db, tmp_path):
    done = cli("cache", "rebuild", "--pg", platform_db, "--redis", "redis://127.0.0.1:9", "--cluster", "--workdir", str(tmp_path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "cannot use Redis at 127.0.0.1:9" in done.stderr, done.stderr
