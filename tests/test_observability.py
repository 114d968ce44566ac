"""Monitoring and observability: logs, tracing, alerts, alarms, dashboards, canaries (R7, R12)."""

from __future__ import annotations

import json

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
