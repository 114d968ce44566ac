"""The data tier on the synthesized JSON: Aurora PostgreSQL, RDS Proxy, Valkey, AWS Backup."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from environments.config import ConfigError, parse_environment, read_raw
from modules.database import (
    CLUSTER_PARAMETERS,
    ENGINE,
    ENGINE_VERSION,
    INSTANCE_PARAMETERS,
    PARAMETER_FAMILY,
    PROXY_ENGINE_FAMILY,
    default_max_connections,
)
from tests.stack_json import StackJson, ref
from tools.checkov_gate import load_suppressions

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = "database_cluster"
GROUP = "cache_replication_group"
DATA_SUBNETS = [ref("aws_subnet", f"network_data_subnet_{letter}", "id") for letter in "abc"]


def instances(stack: StackJson) -> list[dict]:
    return [body for _, body in sorted(stack.resources("aws_rds_cluster_instance").items())]


def data_subnets(stack: StackJson, zones: int) -> list[str]:
    return DATA_SUBNETS[:zones]


def key_arn(name: str) -> str:
    return ref("aws_kms_key", f"keys_{name}_key", "arn")


# -- PostgreSQL (R2) --


@pytest.mark.requirement("R2.1")
def test_database_is_postgresql_15_or_newer_across_zones(env: StackJson, configs) -> None:
    config = configs[env.name]
    cluster = env.resource("aws_rds_cluster", CLUSTER)
    assert cluster["engine"] == "aurora-postgresql"
    assert int(cluster["engine_version"].split(".")[0]) >= 15
    family = env.resource("aws_rds_cluster_parameter_group", "database_cluster_parameters")["family"]
    assert family == f"aurora-postgresql{cluster['engine_version'].split('.')[0]}"
    members = instances(env)
    assert len(members) == config.database.read_replicas + 1
    assert all(member["cluster_identifier"] == ref("aws_rds_cluster", CLUSTER, "id") for member in members)
    assert all(member["publicly_accessible"] is False for member in members)
    # The writer at creation (promotion tier 0) has a failover target in another zone.
    writer = next(member for member in members if member["promotion_tier"] == 0)
    readers = [member for member in members if member is not writer]
    assert all(reader["availability_zone"] != writer["availability_zone"] for reader in readers)
    if env.name == "prod":
        assert readers, "prod runs Multi-AZ: at least one reader in another zone"


@pytest.mark.requirement("R2.3")
def test_readers_scale_out_under_load_behind_a_read_only_proxy_endpoint(env: StackJson, configs) -> None:
    config = configs[env.name].database
    target = env.resource("aws_appautoscaling_target", "database_reader_scaling_target")
    cluster = env.resource("aws_rds_cluster", CLUSTER)
    assert target["service_namespace"] == "rds"
    assert target["scalable_dimension"] == "rds:cluster:ReadReplicaCount"
    assert target["resource_id"] == f"cluster:{cluster['cluster_identifier']}"
    assert (target["min_capacity"], target["max_capacity"]) == (config.read_replicas, config.max_read_replicas)
    assert target["max_capacity"] > target["min_capacity"]
    policy = env.resource("aws_appautoscaling_policy", "database_reader_scaling_policy")
    assert policy["policy_type"] == "TargetTrackingScaling"
    assert policy["resource_id"] == ref("aws_appautoscaling_target", "database_reader_scaling_target", "resource_id")
    tracking = policy["target_tracking_scaling_policy_configuration"]
    assert tracking["predefined_metric_specification"]["predefined_metric_type"] == "RDSReaderAverageCPUUtilization"
    reader = env.resource("aws_db_proxy_endpoint", "database_proxy_reader_endpoint")
    assert reader["target_role"] == "READ_ONLY"
    assert reader["db_proxy_name"] == ref("aws_db_proxy", "database_proxy", "name")


@pytest.mark.requirement("R2.4")
def test_daily_backups_kept_30_days_in_prod_and_the_database_cannot_be_lost(env: StackJson, configs) -> None:
    cluster = env.resource("aws_rds_cluster", CLUSTER)
    assert cluster["backup_retention_period"] == configs[env.name].database.backup_retention_days
    if env.name == "prod":
        assert cluster["backup_retention_period"] >= 30
    assert re.fullmatch(r"\d\d:\d\d-\d\d:\d\d", cluster["preferred_backup_window"])
    assert cluster["deletion_protection"] is True
    assert cluster["skip_final_snapshot"] is False
    assert cluster["final_snapshot_identifier"] == f"directfanz-{env.name}-database-final"
    assert cluster["copy_tags_to_snapshot"] is True
    assert cluster["lifecycle"]["prevent_destroy"] is True
    assert env.resource("aws_kms_key", "keys_database_key")["lifecycle"]["prevent_destroy"] is True


@pytest.mark.requirement("R2.5")
def test_database_insights_enhanced_monitoring_and_logs(env: StackJson, configs) -> None:
    mode = configs[env.name].database.insights_mode
    cluster = env.resource("aws_rds_cluster", CLUSTER)
    assert cluster["database_insights_mode"] == mode
    assert cluster["performance_insights_enabled"] is True
    assert cluster["performance_insights_kms_key_id"] == key_arn("database")
    # Advanced mode requires 15 months of Performance Insights data.
    assert cluster["performance_insights_retention_period"] == (465 if mode == "advanced" else 7)
    if env.name == "prod":
        assert mode == "advanced"
    for member in instances(env):
        assert member["performance_insights_enabled"] is True
        assert member["performance_insights_kms_key_id"] == key_arn("database")
        assert member["performance_insights_retention_period"] == cluster["performance_insights_retention_period"]
        assert member["monitoring_interval"] in (1, 5, 10, 15, 30, 60)
        assert member["monitoring_role_arn"] == ref("aws_iam_role", "database_monitoring_role", "arn")
    attachment = env.resource("aws_iam_role_policy_attachment", "database_monitoring_policy")
    assert attachment["policy_arn"].endswith("service-role/AmazonRDSEnhancedMonitoringRole")
    assert cluster["enabled_cloudwatch_logs_exports"] == ["postgresql"]
    logs = env.resource("aws_cloudwatch_log_group", "database_log_group")
    assert logs["name"] == f"/aws/rds/cluster/{cluster['cluster_identifier']}/postgresql"
    assert logs["kms_key_id"] == key_arn("logs")
    parameters = {p["name"]: p["value"] for p in env.resource("aws_db_parameter_group",
                                                                "database_instance_parameters")["parameter"]}
    assert int(parameters["log_min_duration_statement"]) > 0  # slow-query log


@pytest.mark.requirement("R2.5", "R2.6")
def test_each_parameter_is_in_the_group_where_aws_documents_it(env: StackJson) -> None:
    """rds.force_ssl is a cluster-level parameter; the logging parameters go in each instance's DB parameter group.

    Amazon Aurora PostgreSQL parameters: cluster-level parameters are managed in DB cluster parameter groups,
    instance-level ones in DB parameter groups; `rds.force_ssl` is listed only among the cluster-level
    parameters, `log_min_duration_statement`, `log_statement` and `log_lock_waits` among the instance-level
    ones (where a value set on the instance overrides the cluster's). In the instance group they apply whichever
    level the aurora-postgresql18 family allows at cluster level, which could not be confirmed offline
    (docs/decisions/0009).
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Reference.ParameterGroups.html
    """
    cluster_group = env.resource("aws_rds_cluster_parameter_group", "database_cluster_parameters")
    instance_group = env.resource("aws_db_parameter_group", "database_instance_parameters")
    assert cluster_group["family"] == instance_group["family"] == PARAMETER_FAMILY
    assert {p["name"]: p["value"] for p in cluster_group["parameter"]} == CLUSTER_PARAMETERS == {"rds.force_ssl": "1"}
    assert {p["name"]: p["value"] for p in instance_group["parameter"]} == INSTANCE_PARAMETERS
    assert set(INSTANCE_PARAMETERS) == {"log_min_duration_statement", "log_statement", "log_lock_waits"}
    for member in instances(env):
        assert member["db_parameter_group_name"] == ref("aws_db_parameter_group", "database_instance_parameters", "name")


def test_engine_facts_the_preflight_checks_are_the_ones_synthesized(env: StackJson) -> None:
    """The preflight reads ENGINE, ENGINE_VERSION, PARAMETER_FAMILY and PROXY_ENGINE_FAMILY from modules/database.py.

    RDS Proxy's engine family for PostgreSQL engines is POSTGRESQL; whether it supports a given Aurora
    PostgreSQL version is listed in "Supported Regions and Aurora DB engines for Amazon RDS Proxy".
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.RDS_Proxy.html
    """
    cluster = env.resource("aws_rds_cluster", CLUSTER)
    assert (cluster["engine"], cluster["engine_version"]) == (ENGINE, ENGINE_VERSION)
    assert f"{ENGINE}{ENGINE_VERSION.split('.')[0]}" == PARAMETER_FAMILY
    assert all(member["engine"] == ENGINE for member in instances(env))
    assert env.resource("aws_db_proxy", "database_proxy")["engine_family"] == PROXY_ENGINE_FAMILY


@pytest.mark.requirement("R2.6")
def test_database_is_encrypted_at_rest_with_its_key_and_in_transit(env: StackJson) -> None:
    cluster = env.resource("aws_rds_cluster", CLUSTER)
    assert cluster["storage_encrypted"] is True
    assert cluster["kms_key_id"] == key_arn("database")
    assert cluster["db_cluster_parameter_group_name"] == ref("aws_rds_cluster_parameter_group",
                                                             "database_cluster_parameters", "name")
    parameters = {p["name"]: p["value"] for p in env.resource("aws_rds_cluster_parameter_group",
                                                                "database_cluster_parameters")["parameter"]}
    assert parameters["rds.force_ssl"] == "1"
    assert env.resource("aws_db_proxy", "database_proxy")["require_tls"] is True
    assert all(member["ca_cert_identifier"].startswith("rds-ca-") for member in instances(env))


@pytest.mark.requirement("R2.7")
def test_connections_are_pooled_by_rds_proxy_with_tls_iam_and_secrets(env: StackJson, configs) -> None:
    zones = configs[env.name].availability_zones
    proxy = env.resource("aws_db_proxy", "database_proxy")
    assert proxy["engine_family"] == "POSTGRESQL"
    assert proxy["require_tls"] is True
    assert proxy["vpc_subnet_ids"] == data_subnets(env, zones)
    assert proxy["vpc_security_group_ids"] == [ref("aws_security_group", "security_groups_database_proxy", "id")]
    auth = {entry["secret_arn"]: entry for entry in proxy["auth"]}
    master = auth[ref("aws_rds_cluster", CLUSTER, "master_user_secret[0].secret_arn")]
    assert master["iam_auth"] == "REQUIRED"  # operators never hold the master password
    app = auth[ref("aws_secretsmanager_secret", "database_app_credentials", "arn")]
    assert app["client_password_auth_type"] == "POSTGRES_SCRAM_SHA_256"
    assert all(entry["auth_scheme"] == "SECRETS" for entry in proxy["auth"])
    target = env.resource("aws_db_proxy_target", "database_proxy_target")
    assert target["db_cluster_identifier"] == ref("aws_rds_cluster", CLUSTER, "cluster_identifier")
    pool = env.resource("aws_db_proxy_default_target_group", "database_proxy_target_group")["connection_pool_config"]
    assert 0 < pool["max_connections_percent"] <= 100
    policy = json.loads(env.resource("aws_iam_role_policy", "database_proxy_policy")["policy"])
    read = next(s for s in policy["Statement"] if s["Sid"] == "ReadDatabaseCredentials")
    assert read["Action"] == "secretsmanager:GetSecretValue"
    assert sorted(read["Resource"]) == sorted(auth)  # exactly the proxy's own secrets
    cluster = env.resource("aws_rds_cluster", CLUSTER)
    assert cluster["iam_database_authentication_enabled"] is True
    assert cluster["manage_master_user_password"] is True
    assert cluster["master_user_secret_kms_key_id"] == key_arn("secrets")


def test_max_connections_for_alarms_follow_aurora_defaults(configs) -> None:
    """Aurora PostgreSQL: LEAST(DBInstanceClassMemory / 9531392, 5000); every configured class is known."""
    assert default_max_connections("db.r7g.xlarge") == 32 * 2**30 // 9531392
    assert default_max_connections("db.r8g.8xlarge") == 5000
    assert default_max_connections("db.t4g.medium") < default_max_connections("db.r7g.large")
    for config in configs.values():
        assert default_max_connections(config.database.instance_class) > 0
    with pytest.raises(KeyError):
        default_max_connections("db.x2g.large")  # the config refuses it first (test_bad_data_tier_config...)


def test_database_sits_in_the_data_subnets_behind_its_own_groups(env: StackJson, configs) -> None:
    zones = configs[env.name].availability_zones
    cluster = env.resource("aws_rds_cluster", CLUSTER)
    assert cluster["vpc_security_group_ids"] == [ref("aws_security_group", "security_groups_database", "id")]
    assert env.resource("aws_db_subnet_group", "database_subnet_group")["subnet_ids"] == data_subnets(env, zones)
    group = env.resource("aws_elasticache_replication_group", GROUP)
    assert group["security_group_ids"] == [ref("aws_security_group", "security_groups_cache", "id")]
    assert env.resource("aws_elasticache_subnet_group", "cache_subnet_group")["subnet_ids"] == data_subnets(env, zones)
    # The temporary "not attached yet" suppressions are gone now that both groups are attached.
    unattached = load_suppressions().get("CKV2_AWS_5", {})
    assert "*/aws_security_group.security_groups_database" not in unattached
    assert "*/aws_security_group.security_groups_cache" not in unattached


def test_no_password_or_token_is_in_the_terraform_json(env: StackJson, configs) -> None:
    """DATABASE_URL and REDIS_URL are URL secrets filled by the bootstrap step, never by Terraform."""
    for name, path in (("database_database_url", "/database/url"), ("cache_redis_url", "/cache/url"),
                       ("database_app_credentials", "/database/app-credentials")):
        secret = env.resource("aws_secretsmanager_secret", name)
        assert secret["name"] == f"/directfanz/{env.name}{path}"
        assert secret["kms_key_id"] == key_arn("secrets")
        assert secret["recovery_window_in_days"] == configs[env.name].security.secret_recovery_window_days
    assert "URL" in env.resource("aws_secretsmanager_secret", "database_database_url")["description"]
    assert env.resources("aws_secretsmanager_secret_version") == {}
    assert env.data("aws_secretsmanager_random_password") == {}
    forbidden = {"master_password", "password", "passwords", "auth_token", "secret_string"}
    for resource_type, logical_id, body in env.all_resources():
        assert not forbidden & set(body), f"{resource_type}.{logical_id} carries a secret value"
    # The app's cache user is created passwordless; the bootstrap step owns its password.
    app_user = env.resource("aws_elasticache_user", "cache_app_user")
    assert app_user["authentication_mode"] == {"type": "iam"}
    assert "authentication_mode" in app_user["lifecycle"]["ignore_changes"]


# -- Cache (R3) --


@pytest.mark.requirement("R3.1")
def test_cache_runs_in_cluster_mode_with_shards_and_replicas(env: StackJson, configs) -> None:
    config = configs[env.name].cache
    group = env.resource("aws_elasticache_replication_group", GROUP)
    assert group["engine"] == "valkey"  # the Redis protocol; docs/decisions/0011
    assert group["cluster_mode"] == "enabled"
    assert group["parameter_group_name"].endswith(".cluster.on")
    assert group["num_node_groups"] == config.shards
    assert group["replicas_per_node_group"] == config.replicas_per_shard
    assert "num_cache_clusters" not in group
    if env.name == "prod":
        assert group["num_node_groups"] >= 2 and group["replicas_per_node_group"] >= 1


@pytest.mark.requirement("R3.3")
def test_cache_is_encrypted_at_rest_and_in_transit_with_authentication(env: StackJson) -> None:
    group = env.resource("aws_elasticache_replication_group", GROUP)
    assert group["at_rest_encryption_enabled"] == "true"
    assert group["kms_key_id"] == key_arn("cache")
    assert group["transit_encryption_enabled"] is True
    assert group["transit_encryption_mode"] == "required"
    assert group["user_group_ids"] == [ref("aws_elasticache_user_group", "cache_user_group", "user_group_id")]
    # Only the app's user: a VALKEY group needs no `default` user (tests/test_aws_rules.py).
    users = env.resource("aws_elasticache_user_group", "cache_user_group")["user_ids"]
    assert users == [ref("aws_elasticache_user", "cache_app_user", "user_id")]
    app = env.resource("aws_elasticache_user", "cache_app_user")
    assert app["access_string"].startswith("on ") and "-@dangerous" in app["access_string"]


@pytest.mark.requirement("R3.4")
def test_cache_fails_over_automatically_across_zones(env: StackJson) -> None:
    group = env.resource("aws_elasticache_replication_group", GROUP)
    assert group["automatic_failover_enabled"] is True
    assert group["multi_az_enabled"] is True
    assert group["replicas_per_node_group"] >= 1  # a replica to promote in every shard
    assert group["snapshot_retention_limit"] >= 1
    assert group["final_snapshot_identifier"] == f"directfanz-{env.name}-cache-final"


@pytest.mark.requirement("R3.5", "R10.4")
def test_cache_shards_scale_on_memory_use(env: StackJson, configs) -> None:
    config = configs[env.name].cache
    group = env.resource("aws_elasticache_replication_group", GROUP)
    target = env.resource("aws_appautoscaling_target", "cache_shard_scaling_target")
    assert target["service_namespace"] == "elasticache"
    assert target["scalable_dimension"] == "elasticache:replication-group:NodeGroups"
    assert target["resource_id"] == f"replication-group/{group['replication_group_id']}"
    assert (target["min_capacity"], target["max_capacity"]) == (config.shards, config.max_shards)
    policy = env.resource("aws_appautoscaling_policy", "cache_shard_scaling_policy")
    assert policy["policy_type"] == "TargetTrackingScaling"
    tracking = policy["target_tracking_scaling_policy_configuration"]
    metric = tracking["predefined_metric_specification"]["predefined_metric_type"]
    assert metric == "ElastiCacheDatabaseMemoryUsageCountedForEvictPercentage"
    assert 0 < tracking["target_value"] < 100
    # Auto Scaling owns the shard count; Terraform must not undo it.
    assert "num_node_groups" in group["lifecycle"]["ignore_changes"]
    assert re.fullmatch(r"cache\.(r7g|r6g|r6gd|r5|m7g|m6g|m5|c7gn)\.(large|xlarge|2xlarge)", group["node_type"])


@pytest.mark.requirement("R3.6")
def test_cache_is_in_the_same_vpc_sized_per_environment_and_observable(env: StackJson, configs) -> None:
    config = configs[env.name]
    group = env.resource("aws_elasticache_replication_group", GROUP)
    assert group["node_type"] == config.cache.node_type
    subnets = env.resource("aws_elasticache_subnet_group", "cache_subnet_group")["subnet_ids"]
    for subnet in subnets:
        logical_id = subnet.split(".")[1]
        assert env.resource("aws_subnet", logical_id)["vpc_id"] == ref("aws_vpc", "network_vpc", "id")
    cache_group = env.resource("aws_security_group", "security_groups_cache")
    assert cache_group["vpc_id"] == ref("aws_vpc", "network_vpc", "id")
    # Slow commands are logged where the observability tier can alarm on them.
    deliveries = {d["log_type"]: d for d in group["log_delivery_configuration"]}
    assert set(deliveries) == {"slow-log", "engine-log"}
    slow = deliveries["slow-log"]
    assert slow["destination_type"] == "cloudwatch-logs"
    assert slow["destination"] == ref("aws_cloudwatch_log_group", "cache_slow_log_group", "name")
    assert env.resource("aws_cloudwatch_log_group", "cache_slow_log_group")["kms_key_id"] == key_arn("logs")


@pytest.mark.requirement("R3.6")
def test_every_cache_node_autoscaling_may_run_has_a_sub_millisecond_latency_alarm(env: StackJson, configs) -> None:
    config = configs[env.name].cache
    alarms = env.resources("aws_cloudwatch_metric_alarm")
    group_id = ref("aws_elasticache_replication_group", GROUP, "id")
    for shard in range(1, config.max_shards + 1):
        for node in range(1, config.replicas_per_shard + 2):
            for kind in ("read", "write"):
                alarm = alarms[f"alarms_cache_{shard:04d}_{node:03d}_{kind}_latency"]
                assert alarm["namespace"] == "AWS/ElastiCache"
                assert alarm["metric_name"] == f"Successful{kind.title()}RequestLatency"  # microseconds
                assert alarm["dimensions"] == {"CacheClusterId": f"{group_id}-{shard:04d}-{node:03d}"}
                assert alarm["threshold"] <= 1000 and alarm["comparison_operator"] == "GreaterThanThreshold"
    composite = env.resource("aws_cloudwatch_composite_alarm", "alarms_cache_composite")
    assert composite["alarm_actions"] == [ref("aws_sns_topic", "alerts_topic", "arn")]
    assert "alarms_cache_0001_001_read_latency" in composite["alarm_rule"]
    database = env.resource("aws_cloudwatch_metric_alarm", "alarms_database_connections")
    assert database["dimensions"] == {"DBClusterIdentifier": ref("aws_rds_cluster", CLUSTER, "cluster_identifier")}
    assert database["threshold"] == int(default_max_connections(configs[env.name].database.instance_class) * 0.8)


# -- Sizing (R10.3) --


@pytest.mark.requirement("R10.3")
def test_instance_sizes_come_from_each_environments_config(stacks: dict[str, StackJson], configs) -> None:
    for name in ("dev", "staging", "prod"):
        stack, config = stacks[name], configs[name]
        assert {m["instance_class"] for m in instances(stack)} == {config.database.instance_class}
        assert stack.resource("aws_elasticache_replication_group", GROUP)["node_type"] == config.cache.node_type
    assert configs["prod"].database.instance_class != configs["dev"].database.instance_class
    sizing = (ROOT / "docs" / "sizing.md").read_text()
    assert configs["prod"].database.instance_class in sizing and configs["prod"].cache.node_type in sizing
    assert "Reserved" in sizing or "reserved" in sizing


def test_environments_differ_only_in_sizes_and_counts(stacks: dict[str, StackJson]) -> None:
    prod = stacks["prod"].resource_types
    assert stacks["dev"].resource_types == prod
    assert stacks["staging"].resource_types == prod


# -- Backups (R11.4) --


@pytest.mark.requirement("R11.4", "R2.4")
def test_daily_backup_plan_copies_to_the_second_region(env: StackJson, configs) -> None:
    retention = configs[env.name].database.backup_retention_days
    vault = env.resource("aws_backup_vault", "backup_vault")
    assert vault["kms_key_arn"] == key_arn("backups")
    replica = env.resource("aws_backup_vault", "backup_replica_vault")
    assert replica["kms_key_arn"] == key_arn("replica")
    assert replica["provider"] == "aws.replica"
    (rule,) = env.resource("aws_backup_plan", "backup_plan")["rule"]
    assert rule["schedule"] == "cron(0 5 * * ? *)"  # every day
    assert rule["target_vault_name"] == ref("aws_backup_vault", "backup_vault", "name")
    assert rule["lifecycle"]["delete_after"] == retention
    (copy_action,) = rule["copy_action"]
    assert copy_action["destination_vault_arn"] == ref("aws_backup_vault", "backup_replica_vault", "arn")
    assert copy_action["lifecycle"]["delete_after"] == retention
    if env.name == "prod":
        assert retention >= 30
    selection = env.resource("aws_backup_selection", "backup_selection")
    assert selection["resources"] == [ref("aws_rds_cluster", CLUSTER, "arn")]
    assert selection["plan_id"] == ref("aws_backup_plan", "backup_plan", "id")


@pytest.mark.requirement("R11.4")
def test_restore_testing_restores_the_database_on_a_schedule(env: StackJson) -> None:
    plan = env.resource("aws_backup_restore_testing_plan", "backup_restore_testing_plan")
    assert plan["schedule_expression"].startswith("cron(")
    (points,) = plan["recovery_point_selection"]
    assert points["include_vaults"] == [ref("aws_backup_vault", "backup_vault", "arn")]
    assert points["algorithm"] == "LATEST_WITHIN_WINDOW"
    selection = env.resource("aws_backup_restore_testing_selection", "backup_restore_testing_selection")
    assert selection["restore_testing_plan_name"] == ref("aws_backup_restore_testing_plan",
                                                         "backup_restore_testing_plan", "name")
    assert selection["protected_resource_type"] == "Aurora"
    assert selection["protected_resource_arns"] == [ref("aws_rds_cluster", CLUSTER, "arn")]
    assert selection["validation_window_hours"] >= 1
    overrides = selection["restore_metadata_overrides"]
    assert overrides["dbSubnetGroupName"] == ref("aws_db_subnet_group", "database_subnet_group", "name")
    assert json.loads(overrides["vpcSecurityGroupIds"]) == [ref("aws_security_group", "security_groups_database", "id")]


# -- Configuration --


def _raw(name: str) -> dict:
    return copy.deepcopy(read_raw(name))


@pytest.mark.parametrize(
    ("name", "section", "field", "value", "expected"),
    [
        ("dev", "cache", "node_type", "cache.t4g.small", "cache.node_type: 'cache.t4g.small' is not a node type"),
        ("prod", "database", "read_replicas", 0, "database.read_replicas: prod keeps at least 1 reader"),
        ("staging", "database", "max_read_replicas", 0, "max_read_replicas (0) is below read_replicas (1)"),
        ("prod", "database", "insights_mode", "legacy", "database.insights_mode"),
        # Issue 15: an unknown class ended in a traceback from modules/database.py, not a config error.
        ("dev", "database", "instance_class", "db.x9z.large", "database.instance_class: 'db.x9z.large' is not an Aurora"),
        ("prod", "database", "instance_class", "db.m7g.large", "add it to AURORA_INSTANCE_MEMORY_GIB"),
    ],
)
def test_bad_data_tier_config_is_rejected_naming_the_field(name, section, field, value, expected) -> None:
    raw = _raw(name)
    raw[section][field] = value
    with pytest.raises(ConfigError) as raised:
        parse_environment(name, raw)
    assert expected in str(raised.value)
