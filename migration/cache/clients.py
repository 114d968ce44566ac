"""Redis clients: cluster-aware for a cluster (follows MOVED/ASK, routes by slot), plain for a single node."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis
from redis.cluster import RedisCluster

from migration.errors import MigrationError


def connect(url: str, cluster: bool) -> redis.Redis | RedisCluster:
    try:
        client = RedisCluster.from_url(url) if cluster else redis.Redis.from_url(url)
        client.ping()
        return client
    except (redis.RedisError, redis.exceptions.RedisClusterException) as error:
        raise MigrationError(f"cannot use Redis at {urlsplit(url).netloc.split('@')[-1]}: {error}") from None
