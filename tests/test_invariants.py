"""Thresholds that must stay ordered, asserted on the numbers each environment's JSON holds.

The two sides of each pair live in different resources, often in different modules (a scaling policy and
the alarm that backs it up, a connection pool and the alarm on it): a change to either side that breaks the
order fails here. Resources are found by what they measure, not by logical id, and each test first asserts
that it found its pair, so a rename cannot turn a check into a no-op.
"""

from __future__ import annotations

import re

import pytest

from modules.database import default_max_connections
from tests.stack_json import StackJson, ref

STEP_POLICY = re.compile(r"\$\{aws_appautoscaling_policy\.(\w+)\.arn\}")
# Socket.IO's server defaults: a ping every 25 s, answered within 20 s (https://socket.io/docs/v4/server-options/).
SOCKET_IO_HEARTBEAT_SECONDS = 25 + 20


def _alarms(stack: StackJson, namespace: str, metric: str) -> dict[str, dict]:
    return {logical_id: alarm for logical_id, alarm in stack.resources("aws_cloudwatch_metric_alarm").items()
            if alarm.get("namespace") == namespace and alarm.get("metric_name") == metric}


def _pages(alarm: dict) -> bool:
    """An alarm for people, not one whose action is a scaling policy."""
    return not any(STEP_POLICY.fullmatch(action) for action in alarm.get("alarm_actions", []))


def _tracking(stack: StackJson, scaling_target: str) -> dict[str, dict]:
    """{predefined metric: target tracking configuration} of the policies on one scalable target."""
    resource_id = ref("aws_appautoscaling_target", scaling_target, "resource_id")
    configurations = [policy["target_tracking_scaling_policy_configuration"]
                      for policy in stack.resources("aws_appautoscaling_policy").values()
                      if policy["resource_id"] == resource_id and policy["policy_type"] == "TargetTrackingScaling"]
    return {c["predefined_metric_specification"]["predefined_metric_type"]: c for c in configurations}


def _scaling_target(stack: StackJson, resource_id_suffix: str) -> str:
    [logical_id] = [logical_id for logical_id, target in stack.resources("aws_appautoscaling_target").items()
                    if target["resource_id"].endswith(resource_id_suffix)]
    return logical_id


def _names_target(alarm: dict, target: float) -> bool:
    """The alarm's description states the target it backs up, as the JSON holds it (not a number typed twice)."""
    return f" {target:g} %" in alarm["alarm_description"]


@pytest.mark.requirement("R1.3", "R12.5")
def test_service_alarms_sit_above_the_spike_step_which_sits_above_the_scaling_targets(env: StackJson) -> None:
    """Target tracking holds CPU and memory at their targets; one minute at the spike threshold adds tasks in
    steps; only then, above both, does a person get paged. An alarm at or below a target pages in steady state."""
    services = env.resources("aws_ecs_service")
    assert services
    for logical_id in services:
        service_name = ref("aws_ecs_service", logical_id, "name")
        tracked = _tracking(env, _scaling_target(env, f"/{service_name}"))
        cpu_target = tracked["ECSServiceAverageCPUUtilization"]["target_value"]
        memory_target = tracked["ECSServiceAverageMemoryUtilization"]["target_value"]
        cpu = {i: a for i, a in _alarms(env, "AWS/ECS", "CPUUtilization").items()
               if a["dimensions"]["ServiceName"] == service_name}
        [spike] = [a for a in cpu.values() if not _pages(a)]
        [cpu_page] = [a for a in cpu.values() if _pages(a)]
        [memory_page] = [a for a in _alarms(env, "AWS/ECS", "MemoryUtilization").values()
                         if a["dimensions"]["ServiceName"] == service_name]
        assert cpu_target < spike["threshold"] < cpu_page["threshold"], logical_id
        assert memory_target < memory_page["threshold"], logical_id
        assert _names_target(cpu_page, cpu_target) and _names_target(memory_page, memory_target)


@pytest.mark.requirement("R2.3")
def test_the_database_cpu_alarm_sits_above_the_reader_scaling_target(env: StackJson) -> None:
    cluster = env.resource("aws_rds_cluster", "database_cluster")["cluster_identifier"]
    tracked = _tracking(env, _scaling_target(env, f"cluster:{cluster}"))
    reader_target = tracked["RDSReaderAverageCPUUtilization"]["target_value"]
    [alarm] = _alarms(env, "AWS/RDS", "CPUUtilization").values()
    assert reader_target < alarm["threshold"]
    assert _names_target(alarm, reader_target)


@pytest.mark.requirement("R2.7")
def test_the_connections_alarm_fires_below_what_rds_proxy_may_open(env: StackJson) -> None:
    """RDS Proxy opens at most MaxConnectionsPercent of max_connections per instance, and keeps at most
    MaxIdleConnectionsPercent idle, which "Must be between 0 and the value of MaxConnectionsPercent".
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ConnectionPoolConfiguration.html
    An alarm at or above the proxy's share would wait for connections the proxy never opens.
    """
    [instance_class] = {i["instance_class"] for i in env.resources("aws_rds_cluster_instance").values()}
    max_connections = default_max_connections(instance_class)
    [pool] = [g["connection_pool_config"] for g in env.resources("aws_db_proxy_default_target_group").values()]
    [alarm] = _alarms(env, "AWS/RDS", "DatabaseConnections").values()
    assert 0 < alarm["threshold"] < max_connections * pool["max_connections_percent"] / 100
    assert _names_target(alarm, pool["max_connections_percent"])
    assert pool["max_idle_connections_percent"] <= pool["max_connections_percent"] <= 100


@pytest.mark.requirement("R3.5", "R10.4")
def test_cache_memory_alarms_sit_above_the_shard_scaling_target(env: StackJson) -> None:
    group_id = env.resource("aws_elasticache_replication_group", "cache_replication_group")["replication_group_id"]
    tracked = _tracking(env, _scaling_target(env, f"replication-group/{group_id}"))
    target = tracked["ElastiCacheDatabaseMemoryUsageCountedForEvictPercentage"]["target_value"]
    alarms = _alarms(env, "AWS/ElastiCache", "DatabaseMemoryUsagePercentage")
    assert alarms
    for logical_id, alarm in alarms.items():
        assert target < alarm["threshold"] <= 100, logical_id
        assert _names_target(alarm, target), alarm["alarm_description"]


@pytest.mark.requirement("R1.3", "R10.4")
def test_capacity_bounds_hold_and_scale_in_is_never_quicker_than_scale_out(env: StackJson) -> None:
    """Scale-in waits at least as long as scale-out, so capacity added for a spike is not taken straight back."""
    targets = env.resources("aws_appautoscaling_target")
    assert len(targets) >= 4  # two services, the cache's shards, the database's readers
    for logical_id, target in targets.items():
        assert 0 <= target["min_capacity"] <= target["max_capacity"], logical_id
        policies = _tracking(env, logical_id)
        assert policies, logical_id
        for metric, settings in policies.items():
            assert settings["scale_out_cooldown"] <= settings["scale_in_cooldown"], (logical_id, metric)
    for logical_id, service in env.resources("aws_ecs_service").items():
        target = targets[_scaling_target(env, f"/{ref('aws_ecs_service', logical_id, 'name')}")]
        assert target["min_capacity"] <= service["desired_count"] <= target["max_capacity"], logical_id


@pytest.mark.requirement("R7.4")
def test_no_alarm_asks_for_more_datapoints_than_it_evaluates(env: StackJson) -> None:
    """"DatapointsToAlarm ... must be less than or equal to EvaluationPeriods" (M out of N).
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    """
    alarms = env.resources("aws_cloudwatch_metric_alarm")
    assert alarms
    for logical_id, alarm in alarms.items():
        assert 1 <= alarm.get("datapoints_to_alarm", alarm["evaluation_periods"]) <= alarm["evaluation_periods"], logical_id


def _minutes(rate: str) -> int:
    found = re.fullmatch(r"rate\((\d+) minutes?\)", rate)
    assert found, rate
    return int(found.group(1))


@pytest.mark.requirement("R12.7")
def test_every_availability_window_holds_a_canary_run(env: StackJson) -> None:
    """A missing datapoint counts as breaching on these alarms (a canary that stops running is not "available"):
    a period shorter than the canary's schedule would be empty, and page, between runs.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
    """
    canaries = env.resources("aws_synthetics_canary")
    alarms = _alarms(env, "CloudWatchSynthetics", "SuccessPercent")
    assert canaries and len(alarms) == len(canaries)
    for logical_id, canary in canaries.items():
        [alarm] = [a for a in alarms.values()
                   if a["dimensions"]["CanaryName"] == ref("aws_synthetics_canary", logical_id, "name")]
        assert alarm["treat_missing_data"] == "breaching"
        assert alarm["period"] >= _minutes(canary["schedule"]["expression"]) * 60, logical_id


@pytest.mark.requirement("R9.3")
def test_every_health_check_reports_within_each_alarm_period(env: StackJson) -> None:
    checks = env.resources("aws_route53_health_check")
    assert checks
    for logical_id, check in checks.items():
        [alarm] = [a for a in _alarms(env, "AWS/Route53", "HealthCheckStatus").values()
                   if a["dimensions"]["HealthCheckId"] == ref("aws_route53_health_check", logical_id, "id")]
        assert check["request_interval"] <= alarm["period"], logical_id


@pytest.mark.requirement("R10.5")
def test_budget_alerts_climb_and_the_forecast_warns_at_the_top(env: StackJson) -> None:
    [budget] = env.resources("aws_budgets_budget").values()
    actual = [n["threshold"] for n in budget["notification"] if n["notification_type"] == "ACTUAL"]
    [forecast] = [n["threshold"] for n in budget["notification"] if n["notification_type"] == "FORECASTED"]
    assert actual and actual == sorted(set(actual))
    assert forecast == actual[-1]


@pytest.mark.requirement("R4.5", "R10.2")
def test_storage_tiers_come_in_order(env: StackJson) -> None:
    """S3 Intelligent-Tiering: Deep Archive Access after Archive Access; an old version archived to Glacier is
    kept at least its 90-day minimum before it expires (an earlier deletion is billed for the 90 days).
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/intelligent-tiering-overview.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html
    """
    tierings = env.resources("aws_s3_bucket_intelligent_tiering_configuration")
    assert tierings
    for logical_id, configuration in tierings.items():
        days = {tier["access_tier"]: tier["days"] for tier in configuration["tiering"]}
        assert 90 <= days["ARCHIVE_ACCESS"] < days["DEEP_ARCHIVE_ACCESS"], logical_id
    archived = 0
    for logical_id, lifecycle in env.resources("aws_s3_bucket_lifecycle_configuration").items():
        rules = lifecycle["rule"]
        transitions = [t["noncurrent_days"] for r in rules for t in r.get("noncurrent_version_transition", [])]
        expirations = [e["noncurrent_days"] for r in rules for e in r.get("noncurrent_version_expiration", [])]
        for transition in transitions:
            archived += 1
            assert all(expiration >= transition + 90 for expiration in expirations), logical_id
    assert archived


@pytest.mark.requirement("R1.5", "R1.6")
def test_load_balancer_timeouts_come_in_order(env: StackJson) -> None:
    """A target-group health check times out before the next one starts (AWS rejects a timeout that is not
    shorter than the interval: aws/aws-cdk#22200, https://docs.aws.amazon.com/elasticloadbalancing/latest/
    application/target-group-health-checks.html); an idle WebSocket outlives Socket.IO's heartbeat."""
    groups = env.resources("aws_lb_target_group")
    assert groups
    for logical_id, group in groups.items():
        assert group["health_check"]["timeout"] < group["health_check"]["interval"], logical_id
    [load_balancer] = env.resources("aws_lb").values()
    assert load_balancer["idle_timeout"] > SOCKET_IO_HEARTBEAT_SECONDS
