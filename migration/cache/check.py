"""Run the platform's Redis operation mix against a server and flag what breaks in cluster mode (R3.2).

Every key it writes has the shape of a key the platform writes (patterns.toml: `user:<id>`, `tag:<tag>`,
`failed_login:<id>`, `stream:viewers:<id>`, `query_cache:<id>:<hash>` ...), with one random marker as the id, so
slots spread as the platform's do; they are removed afterwards. It never runs FLUSHDB: on a cluster, FLUSHDB's
single-node scope is shown with DBSIZE, which has the same scope and changes nothing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from redis.cluster import RedisCluster

# redis.Redis or RedisCluster; typed Any because redis-py's reply types (bytes | str | Awaitable …) are too
# loose to check usefully.
Client = Any
Attempt = Callable[[], tuple[bool, str]]


@dataclass
class Finding:
    operation: str
    kind: str  # "platform operation" (must work) or "cluster hazard" (code to change before cluster mode)
    ok: bool
    detail: str


class CheckKeys:
    """The keys one check writes, shaped like the platform's, all carrying `marker`."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.user = f"user:{marker}"
        self.tag = f"tag:{marker}"
        # what the cache manager tags: user and content entries, on many slots
        self.tagged = [f"user:{marker}-{n}" for n in range(3)] + [f"content:{marker}-{n}" for n in range(3)]
        self.failed_login = f"failed_login:{marker}"
        self.locked = f"locked:{marker}"
        self.window = f"rate_limit:{marker}"
        self.viewers = f"stream:viewers:{marker}"
        # one user's cached query results, invalidated with KEYS query_cache:<id>:*; 12 keys: on one node of 3 by
        # chance 1 in 177,000
        self.query_cache = [f"query_cache:{marker}:{n:04x}" for n in range(12)]
        self.all = [self.user, self.tag, *self.tagged, self.failed_login, self.locked, self.window, self.viewers, *self.query_cache]


def check(client: Client) -> list[Finding]:
    keys = CheckKeys(f"migration-check-{uuid.uuid4().hex[:8]}")
    findings = []

    def record(operation: str, kind: str, attempt: Attempt) -> None:
        try:
            ok, detail = attempt()
        except (redis.RedisError, redis.exceptions.RedisClusterException) as error:  # the latter is no RedisError
            ok, detail = False, f"{type(error).__name__}: {error}"
        findings.append(Finding(operation, kind, ok, detail))

    try:
        for operation, attempt in _platform_operations(client, keys):
            record(operation, "platform operation", attempt)
        for operation, attempt in _hazards(client, keys):
            record(operation, "cluster hazard", attempt)
    finally:
        for key in keys.all:
            client.delete(key)  # one key per call: safe on any topology
    return findings


def _platform_operations(client: Client, keys: CheckKeys) -> list[tuple[str, Attempt]]:
    def json_cache() -> tuple[bool, str]:
        value = {"id": keys.marker, "displayName": "Ada", "createdAt": "2024-02-29T23:59:59.999Z"}
        client.set(keys.user, json.dumps(value), ex=3600)
        ttl = client.ttl(keys.user)
        return json.loads(client.get(keys.user)) == value and 0 < ttl <= 3600, f"GET returned the value, TTL {ttl}s"

    def tag_invalidation() -> tuple[bool, str]:
        for key in keys.tagged:
            client.set(key, "{}", ex=300)
        client.sadd(keys.tag, *keys.tagged)
        members = sorted(m.decode() for m in client.smembers(keys.tag))
        for key in members:  # invalidate: delete each tagged key on its own slot
            client.delete(key)
        client.delete(keys.tag)
        return members == sorted(keys.tagged) and not any(client.exists(k) for k in keys.tagged), f"{len(members)} tagged keys invalidated"

    def failed_logins() -> tuple[bool, str]:
        counts = []
        for _ in range(3):
            pipe = client.pipeline(transaction=False)  # INCR and PEXPIRE hit one key, so one slot
            pipe.incr(keys.failed_login)
            pipe.pexpire(keys.failed_login, 900_000)
            counts.append(pipe.execute()[0])
        client.set(keys.locked, "1", px=900_000)
        ttl = client.pttl(keys.failed_login)
        return counts == [1, 2, 3] and 0 < ttl <= 900_000 and client.exists(keys.locked) == 1, f"counter {counts}, PTTL {ttl}ms, locked"

    def sliding_window() -> tuple[bool, str]:
        now = time.time() * 1000
        client.zadd(keys.window, {f"old-{n}": now - 120_000 - n for n in range(3)} | {f"new-{n}": now - n for n in range(4)})
        client.zremrangebyscore(keys.window, 0, now - 60_000)
        count = client.zcard(keys.window)
        client.pexpire(keys.window, 60_000)
        return count == 4, f"{count} requests in the last minute"

    def stream_viewers() -> tuple[bool, str]:
        client.sadd(keys.viewers, "socket-a", "socket-b", "socket-c")
        client.srem(keys.viewers, "socket-b")
        watching = client.scard(keys.viewers)
        return watching == 2, f"{watching} viewers"

    def pub_sub() -> tuple[bool, str]:
        channel = f"{keys.marker}:messages"
        subscriber = client.pubsub()
        subscriber.subscribe(channel)
        try:
            deadline = time.monotonic() + 5
            while subscriber.get_message(timeout=0.2) is None and time.monotonic() < deadline:
                pass  # the subscribe confirmation
            client.publish(channel, "hello")
            message = None
            while message is None and time.monotonic() < deadline:
                message = subscriber.get_message(timeout=0.2)
            if message is None:
                return False, "no message within 5 s"
            return message["data"] == b"hello", "message delivered"
        finally:
            subscriber.close()

    return [("JSON cache SET EX / GET", json_cache), ("tag invalidation SADD / SMEMBERS / DEL", tag_invalidation),
            ("failed logins INCR + PEXPIRE, lock", failed_logins), ("sorted-set sliding window", sliding_window),
            ("stream viewers SADD / SREM / SCARD", stream_viewers), ("pub/sub", pub_sub)]


def _hazards(client: Client, keys: CheckKeys) -> list[tuple[str, Attempt]]:
    """Operations today's code uses, sent the way a single-node client sends them (to one connection)."""
    one_node = _one_node(client)
    nodes = len(client.get_primaries()) if isinstance(client, RedisCluster) else 1

    def setup() -> None:
        for key in [*keys.tagged, *keys.query_cache]:
            client.set(key, "1", ex=300)

    def keys_command() -> tuple[bool, str]:  # the query optimizer's invalidation of one user's results
        setup()
        seen = len(one_node.keys(f"query_cache:{keys.marker}:*"))
        return seen == len(keys.query_cache), f"KEYS on one node saw {seen} of {len(keys.query_cache)} keys"

    def tag_delete() -> tuple[bool, str]:  # the cache manager deletes a tag's members in one DEL
        setup()
        deleted = one_node.delete(*keys.tagged)
        return deleted == len(keys.tagged), f"deleted {deleted} of {len(keys.tagged)}"

    def cross_slot_mget() -> tuple[bool, str]:
        setup()
        values = one_node.mget(keys.tagged)
        return values == [b"1"] * len(keys.tagged), f"{sum(v is not None for v in values)} of {len(keys.tagged)} values"

    def select() -> tuple[bool, str]:
        one_node.execute_command("SELECT", 1)
        one_node.execute_command("SELECT", 0)
        return True, "SELECT accepted"

    def single_node_scope() -> tuple[bool, str]:  # FLUSHDB and DBSIZE act on the node they are sent to
        setup()
        return nodes == 1, f"DBSIZE/FLUSHDB see one node of {nodes} primaries"

    def redirects() -> tuple[bool, str]:
        setup()
        values = [one_node.get(key) for key in [*keys.tagged, *keys.query_cache]]
        return values == [b"1"] * len(values), "every GET answered by the node it was sent to"

    return [("KEYS pattern", keys_command), ("multi-key DEL across slots", tag_delete), ("MGET across slots", cross_slot_mget),
            ("SELECT db", select), ("FLUSHDB / DBSIZE on one node", single_node_scope), ("client without MOVED redirects", redirects)]


def _one_node(client: Client) -> redis.Redis:
    """A plain connection to one primary: what the platform's single-node client holds."""
    if isinstance(client, RedisCluster):
        node = client.get_primaries()[0]
        return redis.Redis(host=node.host, port=node.port)
    return client
