"""Data (R2, R3, R11.4): Aurora PostgreSQL behind RDS Proxy, the Valkey cache, and their backups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformStack

from environments.config import EnvironmentConfig
from modules.backup import Backup, BackupConfig
from modules.cache import Cache, CacheConfig, CacheSizing
from modules.database import Database, DatabaseConfig, DatabaseSizing
from stacks.tiers.foundation import Foundation


@dataclass(frozen=True)
class Data:
    database: Database
    cache: Cache
    # DATABASE_URL and REDIS_URL: the secrets whose values the data bootstrap writes.
    secret_arns: Mapping[str, str]


def build_data(stack: TerraformStack, config: EnvironmentConfig, foundation: Foundation) -> Data:
    network, groups = foundation.network, foundation.security_groups
    recovery_window_days = config.security.secret_recovery_window_days
    database = Database(
        stack,
        "database",
        DatabaseConfig(sizing=DatabaseSizing(**config.database.model_dump()), zones=network.zones,
                       subnet_ids=network.data_subnet_ids, security_group_id=groups.database,
                       proxy_security_group_id=groups.database_proxy, secret_recovery_window_days=recovery_window_days),
    )
    cache = Cache(
        stack,
        "cache",
        CacheConfig(sizing=CacheSizing(**config.cache.model_dump()), subnet_ids=network.data_subnet_ids,
                    security_group_id=groups.cache, secret_recovery_window_days=recovery_window_days),
    )
    Backup(stack, "backup", BackupConfig(retention_days=config.database.backup_retention_days, database=database,
                                         database_security_group_id=groups.database))
    return Data(database=database, cache=cache,
                secret_arns={"DATABASE_URL": database.database_url_secret_arn, "REDIS_URL": cache.redis_url_secret_arn})
