"""Run the platform's Redis operation mix against a server and flag what breaks in cluster mode (R3.2).

Everything it writes lives under one random prefix and is removed afterwards. It never runs FLUSHDB: on a
cluster, FLUSHDB's single-node scope is shown with DBSIZE, which has the same scope and changes nothing."""

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


def check(client: Client) -> list[Finding]:
    prefix = f"migration-check:{uuid.uuid4().hex[:8]}"
    keys = [f"{prefix}:user:{n}" for n in range(6)] + [f"{prefix}:hazard:{n}" for n in range(6)]  # spread over many slots
    findings = []

    def record(operation: str, kind: str, attempt: Attempt) -> None:
        try:
            ok, detail = attempt()
        except redis.RedisError as error:
            ok, detail = False, f"{type(error).__name__}: {error}"
        except redis.exceptions.RedisClusterException as error:
            ok, detail = False, f"{type(error).__name__}: {error}"
        findings.append(Finding(operation, kind, ok, detail))

    try:
        for operation, attempt in _platform_operations(client, prefix, keys):
            record(operation, "platform operation", attempt)
        for operation, attempt in _hazards(client, prefix, keys):
            record(operation, "cluster hazard", attempt)
    finally:
        for key in [*keys, f"{prefix}:tag", f"{prefix}:rate", f"{prefix}:window"]:
            client.delete(key)  # one key per call: safe on any topology
    return findings


def _platform_operations(client: Client, prefix: str, keys: list[str]) -> list[tuple[str, Attempt]]:
    def json_cache() -> tuple[bool, str]:
        value = {"id": "u1", "name": "Ada", "balance": "12.500000000000000000000000000000"}
        client.set(keys[0], json.dumps(value), ex=60)
        ttl = client.ttl(keys[0])
        return json.loads(client.get(keys[0])) == value and 0 < ttl <= 60, f"GET returned the value, TTL {ttl}s"

    def tag_sets() -> tuple[bool, str]:
        tagged = keys[1:6]
        for key in tagged:
            client.set(key, "x", ex=300)
        client.sadd(f"{prefix}:tag", *tagged)
        members = sorted(m.decode() for m in client.smembers(f"{prefix}:tag"))
        for key in members:  # invalidate: delete each tagged key on its own slot
            client.delete(key)
        client.delete(f"{prefix}:tag")
        return members == sorted(tagged) and not any(client.exists(k) for k in tagged), f"{len(members)} tagged keys invalidated"

    def rate_limit() -> tuple[bool, str]:
        counts = []
        for _ in range(3):
            pipe = client.pipeline(transaction=False)  # INCR and PEXPIRE hit one key, so one slot
            pipe.incr(f"{prefix}:rate")
            pipe.pexpire(f"{prefix}:rate", 60_000)
            counts.append(pipe.execute()[0])
        ttl = client.pttl(f"{prefix}:rate")
        return counts == [1, 2, 3] and 0 < ttl <= 60_000, f"counter {counts}, PTTL {ttl}ms"

    def sliding_window() -> tuple[bool, str]:
        now = time.time() * 1000
        window = f"{prefix}:window"
        client.zadd(window, {f"old-{n}": now - 120_000 - n for n in range(3)} | {f"new-{n}": now - n for n in range(4)})
        client.zremrangebyscore(window, 0, now - 60_000)
        count = client.zcard(window)
        client.pexpire(window, 60_000)
        return count == 4, f"{count} requests in the last minute"

    def pub_sub() -> tuple[bool, str]:
        channel = f"{prefix}:messages"
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

    return [("JSON cache SET EX / GET", json_cache), ("tag set SADD / SMEMBERS / DEL", tag_sets),
            ("rate limit INCR + PEXPIRE", rate_limit), ("sorted-set sliding window", sliding_window), ("pub/sub", pub_sub)]


def _hazards(client: Client, prefix: str, keys: list[str]) -> list[tuple[str, Attempt]]:
    """Operations today's code uses, sent the way a single-node client sends them (to one connection)."""
    one_node = _one_node(client)
    nodes = len(client.get_primaries()) if isinstance(client, RedisCluster) else 1
    stored = keys[6:12]

    def setup() -> None:
        for key in stored:
            client.set(key, "1", ex=300)

    def keys_command() -> tuple[bool, str]:
        setup()
        seen = len(one_node.keys(f"{prefix}:hazard:*"))
        return seen == len(stored), f"KEYS on one node saw {seen} of {len(stored)} keys"

    def cross_slot_delete() -> tuple[bool, str]:
        setup()
        deleted = one_node.delete(*stored)
        return deleted == len(stored), f"deleted {deleted} of {len(stored)}"

    def cross_slot_mget() -> tuple[bool, str]:
        setup()
        values = one_node.mget(stored)
        return values == [b"1"] * len(stored), f"{sum(v is not None for v in values)} of {len(stored)} values"

    def select() -> tuple[bool, str]:
        one_node.execute_command("SELECT", 1)
        one_node.execute_command("SELECT", 0)
        return True, "SELECT accepted"

    def single_node_scope() -> tuple[bool, str]:  # FLUSHDB and DBSIZE act on the node they are sent to
        setup()
        return nodes == 1, f"DBSIZE/FLUSHDB see one node of {nodes} primaries"

    def redirects() -> tuple[bool, str]:
        setup()
        values = [one_node.get(key) for key in stored]
        return values == [b"1"] * len(stored), "every GET answered by the node it was sent to"

    return [("KEYS pattern", keys_command), ("multi-key DEL across slots", cross_slot_delete), ("MGET across slots", cross_slot_mget),
            ("SELECT db", select), ("FLUSHDB / DBSIZE on one node", single_node_scope), ("client without MOVED redirects", redirects)]


def _one_node(client: Client) -> redis.Redis:
    """A plain connection to one primary: what the platform's single-node client holds."""
    if isinstance(client, RedisCluster):
        node = client.get_primaries()[0]
        return redis.Redis(host=node.host, port=node.port)
    return client
