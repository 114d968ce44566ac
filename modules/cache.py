"""The cache: ElastiCache for Valkey in cluster mode (R3.1, R3.3-R3.6, R10.4).

- Cluster mode with `shards` shards of 1 primary + `replicas_per_shard` replicas,
  spread across the zones, Multi-AZ with automatic failover (R3.4).
- Encrypted at rest with the cache key and in transit (TLS required, R3.3).
- RBAC: a VALKEY user group holds only the app's user. Such a group may contain
  only users that authenticate (password or IAM) and needs no `default` user:
  ElastiCache switches `default` off when the group is attached. The app user's
  password and the REDIS_URL secret (a rediss:// URL) are set by the bootstrap
  step (docs/runbooks/data-bootstrap.md), so no password is in Terraform.
- One database (0): the app never SELECTs (docs/streaming.md) and its access
  string refuses SELECT; numbered databases in cluster mode would need a custom
  parameter group whose `cluster-databases` is fixed at creation (decision 0011).
- Shards added and removed by Application Auto Scaling on memory use (R3.5, R10.4).
- Daily snapshots; slow and engine logs to KMS-encrypted log groups.
- Same VPC as the tasks, sized per environment; the observability tier alarms
  on latency with `replication_group_id` (R3.6).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.elasticache_replication_group import (
    ElasticacheReplicationGroup,
    ElasticacheReplicationGroupLogDeliveryConfiguration,
)
from cdktf_cdktf_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from cdktf_cdktf_provider_aws.elasticache_user import ElasticacheUser, ElasticacheUserAuthenticationMode
from cdktf_cdktf_provider_aws.elasticache_user_group import ElasticacheUserGroup
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

from modules.autoscaling import track
from modules.context import StackContext
from modules.log_group import log_group

ENGINE = "valkey"
ENGINE_VERSION = "9.1"  # docs/decisions/0011
PARAMETER_GROUP = "default.valkey9.cluster.on"
PORT = 6379
SNAPSHOT_RETENTION_DAYS = 7  # the cache holds nothing that cannot be rebuilt from PostgreSQL
MEMORY_TARGET_PERCENT = 65
# KEYS, FLUSHALL, DEBUG and other @dangerous commands are refused: KEYS and FLUSHDB give
# partial answers in cluster mode anyway. INFO (client ready checks) and CLUSTER (slot discovery) stay.
# SELECT is refused: everything lives in database 0 (docs/decisions/0011).
APP_ACCESS_STRING = "on ~* &* +@all -@dangerous +info +cluster -select"
REPLICATION_GROUP_ID_LIMIT = 40


@dataclass(frozen=True)
class CacheSizing:
    node_type: str  # one that ElastiCache Auto Scaling supports (modules.instance_classes)
    shards: int  # at creation; autoscaling owns the count after that
    replicas_per_shard: int
    max_shards: int


@dataclass(frozen=True)
class CacheConfig:
    sizing: CacheSizing
    subnet_ids: list[str]
    security_group_id: str
    secret_recovery_window_days: int  # docs/decisions/0005


class Cache(Construct):
    """Exposes `configuration_endpoint`, `port`, `replication_group_id`, `app_username` and `redis_url_secret_arn`.

    Latency alarms (R3.6, modules/alarms.py) find the nodes from `replication_group_id`: ElastiCache names
    them <group>-<shard:04>-<node:03> and publishes `SuccessfulRead/WriteRequestLatency` per node.
    """

    def __init__(self, scope: Construct, id: str, config: CacheConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        names, sizing, keys = context.names, config.sizing, context.keys
        self.port = PORT

        subnet_group = ElasticacheSubnetGroup(self, "subnet_group", name=names("cache"), subnet_ids=config.subnet_ids,
                                              description="ElastiCache: the isolated data subnets")

        # Created without a password (IAM mode, in which nobody holds elasticache:Connect); the bootstrap
        # step switches it to a password it generates and stores only in Secrets Manager.
        self.app_username = names("cache-app")
        app_user = ElasticacheUser(
            self, "app_user", user_id=self.app_username, user_name=self.app_username, engine=ENGINE,
            access_string=APP_ACCESS_STRING,
            authentication_mode=ElasticacheUserAuthenticationMode(type="iam"),
            lifecycle=TerraformResourceLifecycle(ignore_changes=["authentication_mode"]),
        )
        # No `default` user: a VALKEY group refuses a password-less one and does not need one.
        user_group = ElasticacheUserGroup(self, "user_group", user_group_id=names("cache"), engine=ENGINE,
                                          user_ids=[app_user.user_id])

        def delivery(log_type: str) -> ElasticacheReplicationGroupLogDeliveryConfiguration:
            group = log_group(self, f"{log_type.replace('-', '_')}_group",
                              f"{names.path('cache', log_type)}", keys.logs.arn)
            return ElasticacheReplicationGroupLogDeliveryConfiguration(
                destination=group.name, destination_type="cloudwatch-logs", log_format="json", log_type=log_type)

        replication_group_id = names("cache", limit=REPLICATION_GROUP_ID_LIMIT)
        group = ElasticacheReplicationGroup(
            self,
            "replication_group",
            replication_group_id=replication_group_id,
            description=f"{names.prefix}: sessions, cache, rate limits, pub/sub",
            engine=ENGINE,
            engine_version=ENGINE_VERSION,
            parameter_group_name=PARAMETER_GROUP,
            cluster_mode="enabled",
            node_type=sizing.node_type,
            num_node_groups=sizing.shards,
            replicas_per_node_group=sizing.replicas_per_shard,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            port=PORT,
            subnet_group_name=subnet_group.name,
            security_group_ids=[config.security_group_id],
            at_rest_encryption_enabled="true",
            kms_key_id=keys.cache.arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            user_group_ids=[user_group.user_group_id],
            snapshot_retention_limit=SNAPSHOT_RETENTION_DAYS,
            snapshot_window="05:00-06:00",
            maintenance_window="sun:06:30-sun:07:30",
            auto_minor_version_upgrade="true",
            final_snapshot_identifier=names("cache", "final"),
            log_delivery_configuration=[delivery("slow-log"), delivery("engine-log")],
            # Application Auto Scaling owns the shard count after creation.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["num_node_groups"]),
        )
        self.replication_group_id = group.id
        self.configuration_endpoint = group.configuration_endpoint_address

        shards = AppautoscalingTarget(
            self, "shard_scaling_target", service_namespace="elasticache",
            scalable_dimension="elasticache:replication-group:NodeGroups",
            resource_id=f"replication-group/{replication_group_id}", min_capacity=sizing.shards,
            max_capacity=sizing.max_shards, depends_on=[group],
        )
        track(self, "shard_scaling_policy", names("cache-memory"), shards,
              "ElastiCacheDatabaseMemoryUsageCountedForEvictPercentage", MEMORY_TARGET_PERCENT,
              scale_in_cooldown=600, scale_out_cooldown=300)

        redis_url = SecretsmanagerSecret(
            self, "redis_url", name=names.path("cache", "url"), kms_key_id=keys.secrets.arn,
            description=f"REDIS_URL: rediss://{self.app_username}:...@<configuration endpoint>:{PORT}",
            recovery_window_in_days=config.secret_recovery_window_days,
        )
        self.redis_url_secret_arn = redis_url.arn
