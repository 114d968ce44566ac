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
    from modules.canaries import RUNTIME_VERSION
    from stacks.services import public_endpoints

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


@pytest.mark.requirement("R7.3")
def test_business_events_in_the_structured_logs_become_metrics(env: StackJson) -> None:
    from modules.logs_insights import BUSINESS_EVENTS

    filters = env.resources("aws_cloudwatch_log_metric_filter")
    groups = {ref("aws_cloudwatch_log_group", service_logs, "name") for service_logs in ("web_logs", "websocket_logs")}
    for metric, event in {**BUSINESS_EVENTS, "PaymentsUsd": "payment.succeeded"}.items():
        matching = [f for f in filters.values() if f["metric_transformation"]["name"] == metric]
        assert {f["log_group_name"] for f in matching} == groups, metric
        for metric_filter in matching:
            assert metric_filter["pattern"] == f'{{ $.event = "{event}" }}'
            assert metric_filter["metric_transformation"]["namespace"] == f"DirectFanz/{env.name}"
            assert metric_filter["metric_transformation"]["value"] == ("$.amount_usd" if metric == "PaymentsUsd" else "1")
    errors = {f["metric_transformation"]["name"]: f for f in filters.values() if f["pattern"] == '{ $.level = "error" }'}
    assert set(errors) == {"WebErrors", "WebsocketErrors"}


@pytest.mark.requirement("R7.6")
def test_app_logs_are_searchable_by_indexed_fields_and_saved_queries(env: StackJson) -> None:
    groups = [ref("aws_cloudwatch_log_group", g, "name") for g in ("web_logs", "websocket_logs")]
    indexed = {p["log_group_name"]: json.loads(p["policy_document"])["Fields"]
               for p in env.resources("aws_cloudwatch_log_index_policy").values()}
    assert indexed == {group: ["request_id", "user_id", "session_id", "route"] for group in groups}
    queries = {q["name"]: q for q in env.resources("aws_cloudwatch_query_definition").values()}
    prefix = f"directfanz-{env.name}/"
    assert set(queries) == {prefix + name for name in ("errors-by-route", "slow-requests", "p95-by-route", "user-session")}
    for query in queries.values():
        assert query["log_group_names"] == sorted(groups)
    assert "stats count(*) as errors by route" in queries[prefix + "errors-by-route"]["query_string"]
    assert "filter duration_ms > 200" in queries[prefix + "slow-requests"]["query_string"]
    assert 'filter user_id = "USER_ID"' in queries[prefix + "user-session"]["query_string"]


@pytest.mark.requirement("R7.5")
def test_dashboards_per_environment_show_each_tier_against_its_objectives(env: StackJson) -> None:
    dashboards = {d["dashboard_name"]: json.loads(d["dashboard_body"])["widgets"]
                  for d in env.resources("aws_cloudwatch_dashboard").values()}
    prefix = f"directfanz-{env.name}-"
    assert set(dashboards) == {prefix + view for view in ("application", "data", "edge", "cost", "streaming")}

    def objectives(view: str) -> set[float]:
        return {line["value"] for w in dashboards[prefix + view] if w["type"] == "metric"
                for line in w["properties"].get("annotations", {}).get("horizontal", [])}

    assert objectives("application") >= {0.2, 99.9}
    assert objectives("data") >= {0.05, 1000}
    assert objectives("edge") >= {95}
    for view, widgets in dashboards.items():
        for widget in widgets:
            assert widget["x"] + widget["width"] <= 24
            if widget["type"] == "alarm":
                assert widget["properties"]["alarms"] and all(
                    a.startswith("${aws_cloudwatch_composite_alarm.") for a in widget["properties"]["alarms"])
            else:
                assert widget["properties"]["metrics"], (view, widget["properties"]["title"])
    business = next(w for w in dashboards[prefix + "application"] if w["properties"].get("title") == "Business events (R7.3)")
    assert [m[1] for m in business["properties"]["metrics"]] == ["SignUps", "Payments", "StreamStarts", "PaymentsUsd"]


@pytest.mark.requirement("R7.7")
def test_both_services_get_the_sentry_dsn_from_secrets_manager_with_environment_and_release(env: StackJson) -> None:
    secret = ref("aws_secretsmanager_secret", "app_secrets_sentry_dsn", "arn")
    assert env.resource("aws_secretsmanager_secret", "app_secrets_sentry_dsn")["kms_key_id"].startswith("${aws_kms_key.")
    for task in ("web_task", "websocket_task"):
        definitions = env.resource("aws_ecs_task_definition", task)["container_definitions"]
        app = json.loads(definitions)[0] if isinstance(definitions, str) else definitions[0]
        assert {"name": "SENTRY_DSN", "valueFrom": secret} in app["secrets"], task
        environment = {e["name"]: e["value"] for e in app["environment"]}
        assert environment["SENTRY_ENVIRONMENT"] == env.name and environment["SENTRY_RELEASE"], task
        assert "SENTRY_DSN" not in environment  # never in plaintext


@pytest.mark.requirement("R7.4")
def test_every_route53_health_check_pages_from_us_east_1(env: StackJson) -> None:
    checks = env.resources("aws_route53_health_check")
    assert checks
    alarms = _alarms(env, "AWS/Route53", "HealthCheckStatus")
    assert {a["dimensions"]["HealthCheckId"] for a in alarms.values()} == {
        ref("aws_route53_health_check", logical_id, "id") for logical_id in checks}
    for logical_id, alarm in alarms.items():
        assert alarm["provider"] == "aws.us_east_1"  # Route 53 publishes health-check metrics there only
        assert alarm["comparison_operator"] == "LessThanThreshold" and alarm["threshold"] == 1
        assert alarm["statistic"] == "Minimum"
        assert _notified_topics(env, logical_id) == {TOPIC}
