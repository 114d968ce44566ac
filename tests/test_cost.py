"""Cost controls: budgets, anomaly detection, cost-allocation tags on every resource, and what the estimate
counts (R10.5, R10.7)."""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path

import pytest
from cdktf import App

from environments.config import PROJECT, DeliverySettings
from modules.remote_state import StateStore
from stacks.delivery import DeliveryStack
from stacks.tags import COST_ALLOCATION_TAG_KEYS
from tests.conftest import STACK_NAMES
from tests.stack_json import StackJson, ref
from tests.test_config import rejection
from tools.views import cost
from tools.views.synth import read_stacks

TOPIC = ref("aws_sns_topic", "alerts_topic", "arn")


@pytest.mark.requirement("R10.5")
def test_monthly_budget_alerts_on_actual_and_forecast_spend(env: StackJson, configs) -> None:
    config = configs[env.name]
    budget = env.resource("aws_budgets_budget", "cost_budget")
    assert budget["budget_type"] == "COST" and budget["time_unit"] == "MONTHLY"
    assert budget["limit_amount"] == str(config.monthly_budget_usd) and budget["limit_unit"] == "USD"
    # Scoped to this environment's spend through its cost-allocation tag.
    assert budget["cost_filter"] == [{"name": "TagKeyValue", "values": [f"user:Environment${env.name}"]}]
    thresholds = config.observability.budget_alert_thresholds_percent
    actual = sorted(n["threshold"] for n in budget["notification"] if n["notification_type"] == "ACTUAL")
    forecast = [n["threshold"] for n in budget["notification"] if n["notification_type"] == "FORECASTED"]
    assert actual == thresholds and forecast == [max(thresholds)]
    for notification in budget["notification"]:
        assert notification["threshold_type"] == "PERCENTAGE"
        assert notification["comparison_operator"] == "GREATER_THAN"
        assert notification["subscriber_sns_topic_arns"] == [TOPIC]
        assert notification["subscriber_email_addresses"] == config.alert_emails


@pytest.mark.requirement("R10.5", "R7.4")
def test_cost_anomalies_of_the_environment_alert_the_topic(env: StackJson, configs) -> None:
    monitor = env.resource("aws_ce_anomaly_monitor", "cost_anomaly_monitor")
    assert monitor["monitor_type"] == "CUSTOM"
    assert json.loads(monitor["monitor_specification"]) == {
        "Tags": {"Key": "Environment", "Values": [env.name], "MatchOptions": ["EQUALS"]}
    }
    subscription = env.resource("aws_ce_anomaly_subscription", "cost_anomaly_subscription")
    assert subscription["monitor_arn_list"] == [ref("aws_ce_anomaly_monitor", "cost_anomaly_monitor", "arn")]
    assert subscription["subscriber"] == [{"type": "SNS", "address": TOPIC}]
    assert subscription["frequency"] == "IMMEDIATE"  # the only frequency SNS subscribers accept
    dimension = subscription["threshold_expression"]["dimension"]
    assert dimension == {
        "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
        "match_options": ["GREATER_THAN_OR_EQUAL"],
        "values": [str(configs[env.name].observability.anomaly_alert_usd)],
    }


@pytest.mark.requirement("R10.5")
def test_budgets_and_anomaly_detection_may_publish_to_the_encrypted_topic(env: StackJson, configs) -> None:
    policy = json.loads(env.resource("aws_sns_topic_policy", "alerts_policy")["policy"])
    publish = next(s for s in policy["Statement"] if s["Effect"] == "Allow")
    assert {"budgets.amazonaws.com", "costalerts.amazonaws.com"} <= set(publish["Principal"]["Service"])
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": configs[env.name].account_id}}
    key_policy = json.loads(env.resource("aws_kms_key", "keys_messaging_key")["policy"])
    services = {s["Principal"].get("Service") for s in key_policy["Statement"]}
    assert {"budgets.amazonaws.com", "costalerts.amazonaws.com"} <= services


@cache
def _tag_support(resource_type: str) -> tuple[bool, bool]:
    """(takes tags, receives provider default tags) for a resource type, from the provider bindings.

    The bindings are generated from the pinned provider's schema: a resource
    whose schema has `tags` can be tagged, and one that also has the computed
    `tags_all` merges the provider's `default_tags` into its own.
    """
    module = importlib.import_module(f"cdktf_cdktf_provider_aws.{resource_type.removeprefix('aws_')}")
    resource_class = next(
        value for value in vars(module).values()
        if isinstance(value, type) and getattr(value, "TF_RESOURCE_TYPE", None) == resource_type
    )
    return hasattr(resource_class, "tags"), hasattr(resource_class, "tags_all")


@pytest.mark.requirement("R10.7")
@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_every_taggable_resource_carries_the_cost_allocation_tags(stack_name: str, stacks: dict[str, StackJson]) -> None:
    stack = stacks[stack_name]
    default_tags = {}
    for provider in stack.providers:
        tags = provider["default_tags"][0]["tags"]
        assert all(tags.get(key) for key in COST_ALLOCATION_TAG_KEYS), provider.get("alias")
        default_tags["aws" + (f".{provider['alias']}" if provider.get("alias") else "")] = tags
    untagged = []
    for resource_type, logical_id, body in stack.all_resources():
        takes_tags, gets_default_tags = _tag_support(resource_type)
        if not takes_tags:
            continue  # e.g. policies, attachments, associations: nothing to bill to them
        inherited = default_tags[body.get("provider", "aws")] if gets_default_tags else {}
        effective = {**inherited, **body.get("tags", {})}
        if any(effective.get(key) != inherited.get(key, effective.get(key)) for key in COST_ALLOCATION_TAG_KEYS):
            untagged.append(f"{resource_type}.{logical_id} overrides a cost-allocation tag")
        if not all(effective.get(key) for key in COST_ALLOCATION_TAG_KEYS):
            untagged.append(f"{resource_type}.{logical_id}")
    assert untagged == []


@pytest.mark.requirement("R10.7")
def test_the_taggability_rule_is_grounded_in_the_provider_schema() -> None:
    assert _tag_support("aws_vpc") == (True, True)
    assert _tag_support("aws_kms_alias") == (False, False)
    assert _tag_support("aws_iam_role_policy") == (False, False)
    assert _tag_support("aws_budgets_budget") == (True, True)


BAD_OBSERVABILITY = [
    ("prod", "observability.budget_alert_thresholds_percent", [100, 80], "observability.budget_alert_thresholds_percent"),
    ("dev", "observability.budget_alert_thresholds_percent", [], "observability.budget_alert_thresholds_percent"),
    ("dev", "observability.anomaly_alert_usd", 0, "observability.anomaly_alert_usd"),
    ("staging", "observability.trace_sample_rate", 1.5, "observability.trace_sample_rate"),
    ("prod", "observability.canary_interval_minutes", 0, "observability.canary_interval_minutes"),
]


@pytest.mark.parametrize(("name", "field", "value", "expected"), BAD_OBSERVABILITY, ids=lambda v: str(v)[:32])
def test_bad_observability_config_is_rejected_with_one_line(name: str, field: str, value: object, expected: str) -> None:
    assert expected in rejection(name, field, value)


@pytest.mark.requirement("R10.7")
def test_cost_allocation_tags_are_not_activated_unless_switched_on(stacks: dict[str, StackJson], configs) -> None:
    """A first apply cannot activate tag keys billing has not seen yet, nor ever in a member account: off by default.

    AWS Billing, "Using user-defined cost allocation tags": "Only a management account in an organization and
    single accounts that aren't members of an organization have access to the cost allocation tags manager".
    https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/custom-tags.html
    hashicorp/aws `aws_ce_cost_allocation_tag`: after user-defined tags are applied to resources "it can take
    up to 24 hours for the tag keys to appear on Cost Allocation tag page for activation".
    https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/ce_cost_allocation_tag
    """
    assert DeliverySettings.model_fields["activate_cost_allocation_tags"].default is False
    assert configs["prod"].delivery.activate_cost_allocation_tags is False
    for name in STACK_NAMES:
        assert not stacks[name].resources("aws_ce_cost_allocation_tag"), name


@pytest.mark.requirement("R10.7")
def test_switched_on_the_delivery_stack_activates_every_tag_key_once(configs, tmp_path: Path) -> None:
    """With `delivery.activate_cost_allocation_tags = true` (a standalone or management account, a day after
    the environments), the `delivery` stack activates each cost-allocation tag key.

    https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_UpdateCostAllocationTagsStatus.html
    """
    prod = configs["prod"]
    switched = prod.model_copy(update={"delivery": prod.delivery.model_copy(update={"activate_cost_allocation_tags": True})})
    app = App(outdir=str(tmp_path))
    DeliveryStack(app, configs["staging"], switched, StateStore(PROJECT, prod.account_id, prod.region))
    app.synth()
    delivery = StackJson.read(tmp_path, "delivery")
    activated = {tag["tag_key"]: tag["status"] for tag in delivery.resources("aws_ce_cost_allocation_tag").values()}
    assert activated == {key: "Active" for key in COST_ALLOCATION_TAG_KEYS}


BAD_SWITCHES = [
    ("prod", "delivery.activate_cost_allocation_tags", "yes", "delivery.activate_cost_allocation_tags"),
    ("prod", "delivery.activate_cost_allocation_tags", 1, "delivery.activate_cost_allocation_tags"),
    ("prod", "delivery.activate_cost_allocation_tag", True, "delivery.activate_cost_allocation_tag"),  # a typo
]


@pytest.mark.parametrize(("name", "field", "value", "expected"), BAD_SWITCHES, ids=lambda v: str(v)[:32])
def test_bad_cost_allocation_switch_is_rejected_with_one_line(name: str, field: str, value: object, expected: str) -> None:
    assert expected in rejection(name, field, value)


# -- the estimate (tools/views/cost.py, pricing/prices.toml) --


def _line(estimate: cost.Estimate, prefix: str) -> cost.Line:
    (line,) = [line for line in estimate.lines if line.item.startswith(prefix)]
    return line


@pytest.mark.requirement("R10.5")
@pytest.mark.parametrize("stack_name", ["dev", "staging", "prod"])
def test_the_estimate_counts_the_idle_medialive_pool_around_the_clock(stack_name: str, synth_dir: Path, configs) -> None:
    """Every channel not running and every push input not attached to a running channel bills an idle charge.

    MediaLive, "Pricing in MediaLive": "There is an idle channel charge for each channel that isn't running" and
    "an idle push input charge for each push input that isn't attached to a channel, and for each push input
    that is attached to a channel that isn't running"; running channels bill their inputs and outputs instead.
    https://docs.aws.amazon.com/medialive/latest/ug/pricing.html
    https://aws.amazon.com/medialive/pricing/ ("Stopped channels are considered idle resources")
    """
    price = cost.PriceTable()
    estimate = cost.estimate(read_stacks(synth_dir)[stack_name], price)
    pool = configs[stack_name].streaming.channel_pool_size
    live_hours = float(price.usage(stack_name)["streaming_channel_hours"])
    idle_hours = pool * price.hours - live_hours  # one push input per channel, live only with its channel
    assert idle_hours > 0
    idle = _line(estimate, "MediaLive: idle pool")
    assert idle.item == f"MediaLive: idle pool ({pool} channel(s), {pool} push input(s))"
    rate = price("medialive_idle_channel_hour") + price("medialive_idle_push_input_hour")
    assert idle.usd == pytest.approx(idle_hours * rate, abs=0.01)
    assert f"{idle_hours:g} idle channel-hours" in idle.basis
    assert _line(estimate, "MediaLive: pool of").usd > 0  # the live hours stay priced as before


@pytest.mark.requirement("R10.5")
def test_the_estimate_bills_each_optional_health_check_feature(synth_dir: Path) -> None:
    """Route 53 bills a health check, plus each optional feature: HTTPS, string matching, fast interval, latency.

    Route 53 pricing, "Health checks": basic checks per month by AWS or non-AWS endpoint, and "Optional health
    check features" (HTTPS, String Matching, Fast Interval, Latency Measurement) billed per feature per month;
    cross-checked with infracost's route53_health_check (non-AWS $0.75 + $2.00 per feature).
    https://aws.amazon.com/route53/pricing/
    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html
    """
    price = cost.PriceTable()
    stack = read_stacks(synth_dir)["prod"]
    (check,) = stack.of_type("aws_route53_health_check")
    assert (check.body["type"], check.body["request_interval"], check.body["measure_latency"]) == ("HTTPS", 30, True)
    assert cost.health_check_features(check.body) == ["HTTPS", "latency measurement"]
    assert cost.health_check_features({"type": "HTTP_STR_MATCH", "request_interval": 10}) == [
        "string matching", "fast interval"]
    dns = _line(cost.estimate(stack, price), "Route 53")
    zones = len(stack.of_type("aws_route53_zone"))
    assert dns.usd == pytest.approx(zones * price("route53_zone_month") + price("route53_health_check_month")
                                    + 2 * price("route53_health_check_feature_month"), abs=0.01)
    assert "2 optional feature(s)" in dns.basis
