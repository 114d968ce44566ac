"""Session-scoped real servers for the migration tests (started once, on 127.0.0.1 only)."""

from __future__ import annotations

import itertools
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from migration_servers import MotoServer, PostgresCluster, RedisNodes, scratch_root

from migration import fixture

FIXTURE_SCALE = 3  # ~2,000 rows over the 40 real tables: many chunks, small enough for 20+ kill trials


def pytest_configure(config):
    if not any(line.startswith("requirement") for line in config.getini("markers")):
        config.addinivalue_line("markers", "requirement(*ids): criteria proven")


@pytest.fixture(scope="session")
def server_root():
    root = scratch_root()
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_clusters(server_root):
    """Two PostgreSQL 15 clusters, initialised in parallel (initdb dominates the session's start-up)."""
    with ThreadPoolExecutor(2) as pool:
        clusters = list(pool.map(lambda name: _cluster(server_root, name), ("source", "target")))
    yield clusters
    for cluster in clusters:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_source_cluster(pg_clusters):
    return pg_clusters[0]


@pytest.fixture(scope="session")
def pg_target_cluster(pg_clusters):
    return pg_clusters[1]


def _cluster(root, name):
    directory = root / f"pg-{name}"
    directory.mkdir()
    return PostgresCluster(directory, "data")


_database_numbers = itertools.count()


def create_database(cluster: PostgresCluster, prefix: str) -> str:
    name = f"{prefix}_{next(_database_numbers)}"
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return cluster.dsn(name)


@pytest.fixture(scope="session")
def platform_db(pg_source_cluster) -> str:
    """The source: a platform-shaped database, never written by the tool (tests check that)."""
    dsn = create_database(pg_source_cluster, "platform")
    fixture.create(dsn, FIXTURE_SCALE)
    return dsn


@pytest.fixture
def empty_target(pg_target_cluster) -> str:
    return create_database(pg_target_cluster, "target")


@pytest.fixture
def scratch_source(pg_source_cluster) -> str:
    """A platform-shaped source a test may change (to plant differences)."""
    dsn = create_database(pg_source_cluster, "source")
    fixture.create(dsn, FIXTURE_SCALE)
    return dsn


@pytest.fixture(scope="session")
def redis_cluster(server_root):
    nodes = RedisNodes(server_root, 6, cluster=True)
    yield nodes
    nodes.stop()


@pytest.fixture(scope="session")
def redis_single(server_root):
    nodes = RedisNodes(server_root, 1, cluster=False)
    yield nodes
    nodes.stop()


@pytest.fixture(scope="session")
def s3_server():
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = MotoServer()
    yield server
    server.stop()
