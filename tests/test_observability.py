"""Monitoring and observability: logs, tracing, alerts, alarms, dashboards, canaries (R7, R12)."""

from __future__ import annotations

import json
import re

import pytest

from modules.log_group import LOG_RETENTION_DAYS
from tests.conftest import STACK_NAMES
from tests.stack_json import StackJson, ref

TOPIC = ref("aws_sns_topic", "alerts_topic", "arn")


@pytest.mark.requirement("R7.1", "R7.6")
@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_every_log_group_is_kms_encrypted_and_kept_30_days(stack_name: str, stacks: dict[str, StackJson]) -> None:
    assert LOG_RETENTION_DAYS == 30
    for logical_id, group in stacks[stack_name].resources("aws_cloudwatch_log_group").items():
        assert group["retention_in_days"] == 30, logical_id
        assert group.get("kms_key_id", "").startswith("${aws_kms_key."), logical_id


@pytest.mark.requirement("R7.4")
@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_no_alarm_lacks_an_action(stack_name: str, stacks: dict[str, StackJson]) -> None:
    stack = stacks[stack_name]
    alarms = {**stack.resources("aws_cloudwatch_metric_alarm"), **stack.resources("aws_cloudwatch_composite_alarm")}
    for logical_id, alarm in alarms.items():
        assert alarm.get("actions_enabled", True) is True, logical_id
        # A child of a composite alarm notifies through its parent; every other alarm pages itself.
        if not alarm.get("alarm_actions"):
            parents = [c for c in stack.resources("aws_cloudwatch_composite_alarm").values()
                       if f".{logical_id}.alarm_name}}" in c["alarm_rule"] and c.get("alarm_actions")]
            assert parents, f"{stack_name}: {logical_id} has no action and no composite parent with one"


@pytest.mark.requirement("R7.4")
def test_alerts_go_to_a_kms_encrypted_topic_with_email_subscribers(env: StackJson, configs) -> None:
    topic = env.resource("aws_sns_topic", "alerts_topic")
    assert topic["kms_master_key_id"] == ref("aws_kms_key", "keys_messaging_key", "arn")
    assert topic["name"] == f"directfanz-{env.name}-alerts"
    emails = sorted(s["endpoint"] for s in env.resources("aws_sns_topic_subscription").values()
                    if s["topic_arn"] == TOPIC and s["protocol"] == "email")
    assert emails == sorted(configs[env.name].alert_emails)
    policy = json.loads(env.resource("aws_sns_topic_policy", "alerts_policy")["policy"])
    publish = next(s for s in policy["Statement"] if s["Effect"] == "Allow")
    assert "cloudwatch.amazonaws.com" in publish["Principal"]["Service"] and publish["Action"] == "sns:Publish"
    deny = next(s for s in policy["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # CloudWatch must be able to use the topic's key, or alarms fail to publish silently.
    key_policy = json.loads(env.resource("aws_kms_key", "keys_messaging_key")["policy"])
    assert "cloudwatch.amazonaws.com" in {s["Principal"].get("Service") for s in key_policy["Statement"]}


@pytest.mark.requirement("R7.2")
def test_xray_sampling_skips_health_checks_and_samples_the_rest(env: StackJson, configs) -> None:
    rate = configs[env.name].observability.trace_sample_rate
    rules = {rule["rule_name"]: rule for rule in env.resources("aws_xray_sampling_rule").values()}
    prefix = f"directfanz-{env.name}"
    assert rules[f"{prefix}-health"]["url_path"] == "/api/health*"
    for name in (f"{prefix}-health", f"{prefix}-ws-health"):
        assert rules[name]["fixed_rate"] == 0 and rules[name]["reservoir_size"] == 0
    assert rules[f"{prefix}-default"]["fixed_rate"] == rate and rules[f"{prefix}-default"]["url_path"] == "*"
    assert rules[f"{prefix}-api"]["fixed_rate"] == min(1.0, 2 * rate)
    # Health rules match first (lower priority number wins), the catch-all last.
    priorities = [rules[f"{prefix}-{name}"]["priority"] for name in ("health", "ws-health", "api", "default")]
    assert priorities == sorted(priorities)
    for rule in rules.values():
        assert rule["service_name"] == f"{prefix}-*"  # one environment's rules never sample another's


@pytest.mark.requirement("R7.2")
def test_xray_groups_per_service_and_for_errors_with_insights(env: StackJson) -> None:
    groups = {group["group_name"]: group for group in env.resources("aws_xray_group").values()}
    prefix = f"directfanz-{env.name}"
    assert groups[f"{prefix}-web"]["filter_expression"] == f'service("{prefix}-web")'
    assert groups[f"{prefix}-websocket"]["filter_expression"] == f'service("{prefix}-websocket")'
    assert "fault = true OR error = true" in groups[f"{prefix}-errors"]["filter_expression"]
    for group in groups.values():
        assert group["insights_configuration"] == {"insights_enabled": True, "notifications_enabled": True}


def _notified_topics(stack: StackJson, alarm_id: str) -> set[str]:
    """The topics an alarm reaches: its own actions, or those of the composite alarms it is a child of."""
    alarm = stack.resource("aws_cloudwatch_metric_alarm", alarm_id)
    topics = set(alarm.get("alarm_actions", []))
    for composite in stack.resources("aws_cloudwatch_composite_alarm").values():
        if ref("aws_cloudwatch_metric_alarm", alarm_id, "alarm_name") in composite["alarm_rule"]:
            topics |= set(composite["alarm_actions"])
    return topics


@pytest.mark.requirement("R12.7", "R7.1")
def test_a_canary_checks_every_public_endpoint(env: StackJson, configs) -> None:
    from modules.canaries import RUNTIME_VERSION, public_endpoints

    config = configs[env.name]
    canaries = env.resources("aws_synthetics_canary")
    endpoints = public_endpoints(config.domain)
    assert {c["run_config"]["environment_variables"]["ENDPOINT_URL"] for c in canaries.values()} == {e.url for e in endpoints}
    interval = config.observability.canary_interval_minutes
    for canary in canaries.values():
        assert canary["runtime_version"] == RUNTIME_VERSION and canary["handler"] == "endpoint.handler"
        assert canary["schedule"]["expression"] == ("rate(1 minute)" if interval == 1 else f"rate({interval} minutes)")
        assert canary["start_canary"] is True
        assert canary["artifact_config"]["s3_encryption"] == {
            "encryption_mode": "SSE_KMS", "kms_key_arn": ref("aws_kms_key", "keys_logs_key", "arn")}
        assert canary["zip_file"].startswith("assets/canaries_code/") and canary["zip_file"].endswith("/canary.zip")


def test_the_canary_script_is_packaged_where_synthetics_loads_it(synth_dir) -> None:
    import zipfile

    for stack in ("dev", "staging", "prod"):
        [archive] = (synth_dir / "stacks" / stack / "assets" / "canaries_code").glob("*/canary.zip")
        with zipfile.ZipFile(archive) as package:
            assert package.namelist() == ["nodejs/node_modules/endpoint.js"]
            script = package.read("nodejs/node_modules/endpoint.js").decode()
        assert "exports.handler" in script and "process.env.ENDPOINT_URL" in script
        assert "response.status < 200 || response.status > 299" in script


@pytest.mark.requirement("R12.7", "R7.4")
def test_availability_below_99_9_percent_pages(env: StackJson) -> None:
    canaries = env.resources("aws_synthetics_canary")
    alarms = {logical_id: alarm for logical_id, alarm in env.resources("aws_cloudwatch_metric_alarm").items()
              if alarm.get("namespace") == "CloudWatchSynthetics"}
    watched = {alarm["dimensions"]["CanaryName"] for alarm in alarms.values()}
    assert watched == {ref("aws_synthetics_canary", logical_id, "name") for logical_id in canaries}
    for logical_id, alarm in alarms.items():
        assert alarm["metric_name"] == "SuccessPercent" and alarm["statistic"] == "Average"
        assert alarm["comparison_operator"] == "LessThanThreshold" and alarm["threshold"] == 99.9
        assert alarm["treat_missing_data"] == "breaching"  # a canary that stops running is not "available"
        assert _notified_topics(env, logical_id) == {TOPIC}


@pytest.mark.requirement("R7.4")
def test_cloudfront_alarms_live_in_us_east_1_and_page(env: StackJson) -> None:
    cdn = {logical_id: alarm for logical_id, alarm in env.resources("aws_cloudwatch_metric_alarm").items()
           if alarm.get("namespace") == "AWS/CloudFront"}
    assert cdn
    for logical_id, alarm in cdn.items():
        assert alarm["provider"] == "aws.us_east_1" and alarm["dimensions"]["Region"] == "Global"
        assert _notified_topics(env, logical_id) == {TOPIC}  # the environments run in us-east-1: one topic
        if alarm["metric_name"] == "5xxErrorRate":
            assert alarm["comparison_operator"] == "GreaterThanThreshold" and alarm["threshold"] == 1


def _alarms(stack: StackJson, namespace: str, metric: str) -> dict[str, dict]:
    return {logical_id: alarm for logical_id, alarm in stack.resources("aws_cloudwatch_metric_alarm").items()
            if alarm.get("namespace") == namespace and alarm.get("metric_name") == metric}


@pytest.mark.requirement("R12.1", "R7.4")
def test_p95_target_response_time_above_200_ms_pages_for_every_target_group(env: StackJson) -> None:
    alarms = _alarms(env, "AWS/ApplicationELB", "TargetResponseTime")
    target_groups = {ref("aws_lb_target_group", logical_id, "arn_suffix") for logical_id in env.resources("aws_lb_target_group")}
    assert {alarm["dimensions"]["TargetGroup"] for alarm in alarms.values()} == target_groups
    for logical_id, alarm in alarms.items():
        assert alarm["extended_statistic"] == "p95" and "statistic" not in alarm
        assert alarm["comparison_operator"] == "GreaterThanThreshold" and alarm["threshold"] == 0.2  # seconds
        assert _notified_topics(env, logical_id) == {TOPIC}


@pytest.mark.requirement("R12.4", "R7.4")
def test_database_read_and_write_latency_above_50_ms_pages(env: StackJson) -> None:
    cluster = ref("aws_rds_cluster", "database_cluster", "cluster_identifier")
    for metric in ("ReadLatency", "WriteLatency"):
        [(logical_id, alarm)] = _alarms(env, "AWS/RDS", metric).items()
        assert alarm["dimensions"] == {"DBClusterIdentifier": cluster}
        assert alarm["comparison_operator"] == "GreaterThanThreshold" and alarm["threshold"] == 0.05  # seconds
        assert _notified_topics(env, logical_id) == {TOPIC}
    for metric in ("CPUUtilization", "DatabaseConnections"):
        assert len(_alarms(env, "AWS/RDS", metric)) == 1, metric


@pytest.mark.requirement("R3.6", "R7.4")
def test_every_cache_node_autoscaling_may_add_is_watched_for_sub_millisecond_latency(env: StackJson, configs) -> None:
    sizing = configs[env.name].cache
    group = ref("aws_elasticache_replication_group", "cache_replication_group", "id")
    expected = {f"{group}-{shard:04d}-{node:03d}" for shard in range(1, sizing.max_shards + 1)
                for node in range(1, sizing.replicas_per_shard + 2)}
    for metric in ("SuccessfulReadRequestLatency", "SuccessfulWriteRequestLatency", "EngineCPUUtilization",
                   "DatabaseMemoryUsagePercentage", "Evictions"):
        alarms = _alarms(env, "AWS/ElastiCache", metric)
        assert {alarm["dimensions"]["CacheClusterId"] for alarm in alarms.values()} == expected, metric
        for logical_id, alarm in alarms.items():
            if "Latency" in metric:
                assert alarm["threshold"] == 1000 and alarm["comparison_operator"] == "GreaterThanThreshold"  # µs
            assert _notified_topics(env, logical_id) == {TOPIC}


@pytest.mark.requirement("R12.3", "R7.4")
def test_cache_hit_rate_below_95_percent_pages_for_the_static_content_distribution(env: StackJson) -> None:
    [(logical_id, alarm)] = _alarms(env, "AWS/CloudFront", "CacheHitRate").items()
    distribution = ref("aws_cloudfront_distribution", "media_cdn_distribution", "id")
    assert alarm["dimensions"] == {"DistributionId": distribution, "Region": "Global"}
    assert alarm["comparison_operator"] == "LessThanThreshold" and alarm["threshold"] == 95
    assert _notified_topics(env, logical_id) == {TOPIC}
    # The metric exists only with CloudFront's additional metrics switched on for that distribution.
    [subscription] = env.resources("aws_cloudfront_monitoring_subscription").values()
    assert subscription["distribution_id"] == distribution
    assert subscription["monitoring_subscription"]["realtime_metrics_subscription_config"] == {
        "realtime_metrics_subscription_status": "Enabled"}


@pytest.mark.requirement("R7.4")
def test_a_failing_tier_pages_once_through_its_composite_alarm(env: StackJson) -> None:
    composites = {c["alarm_name"]: c for c in env.resources("aws_cloudwatch_composite_alarm").values()}
    for tier in ("load-balancer", "services", "database", "cache", "cdn", "availability"):
        composite = composites[f"directfanz-{env.name}-{tier}"]
        assert composite["alarm_actions"] == [TOPIC] and composite["ok_actions"] == [TOPIC]
        children = re.findall(r'ALARM\("\$\{aws_cloudwatch_metric_alarm\.(\w+)\.alarm_name\}"\)', composite["alarm_rule"])
        assert len(children) > 1 and " OR ".join(f'ALARM("{ref("aws_cloudwatch_metric_alarm", c, "alarm_name")}")'
                                                for c in children) == composite["alarm_rule"]
        for child in children:  # the composite pages; its children stay quiet
            assert "alarm_actions" not in env.resource("aws_cloudwatch_metric_alarm", child)
