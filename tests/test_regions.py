"""prod with its primary region in eu-west-1 (tests/fixtures/prod-eu-west-1.toml), synthesized once per session.

Every environment runs in us-east-1, where the primary provider and `us_east_1` name one region, so a resource
given the wrong one still lands in the right place. Only here does it show: what AWS serves from us-east-1
alone must go through `us_east_1`, and everything else must stay in the primary region.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from environments import EnvironmentConfig
from tests.stack_json import StackJson, ref
from tools.checkov_gate import GateResult

US_EAST_1 = "aws.us_east_1"
PRIMARY = "default"
REFERENCE = re.compile(r"\$\{(aws_\w+)\.(\w+)\.")
# Global services: the provider only says where their API is called.
GLOBAL_TYPES = ("aws_cloudfront_", "aws_route53_", "aws_iam_")
# References that cross regions by design, each an AWS feature that does: (referring type, referenced type).
CROSS_REGION_LINKS = {
    # S3 replication and AWS Backup copies go to the replica region.
    ("aws_s3_bucket_replication_configuration", "aws_s3_bucket"),
    ("aws_s3_bucket_replication_configuration", "aws_kms_key"),
    ("aws_backup_plan", "aws_backup_vault"),
    # Dashboards show alarms of any region (cloudwatch_xaxr_dashboard.html).
    ("aws_cloudwatch_dashboard", "aws_cloudwatch_composite_alarm"),
    # CloudFront's logs are delivered from us-east-1 to a bucket in any region (CloudFront standard-logging.html).
    ("aws_cloudwatch_log_delivery_destination", "aws_s3_bucket"),
}
# The Elastic Load Balancing account that writes access logs in eu-west-1 (enable-access-logging.html).
ELB_LOG_ACCOUNT_EU_WEST_1 = "156460612806"

Address = tuple[str, str]


def _provider(body: dict) -> str:
    return body.get("provider", PRIMARY)


def _references(stack: StackJson) -> Iterator[tuple[Address, Address]]:
    """(referring, referenced) for every reference from one resource to another."""
    resources = {(t, i) for t, i, _ in stack.all_resources()}
    for resource_type, logical_id, body in stack.all_resources():
        for target in sorted(set(REFERENCE.findall(json.dumps(body)))):
            if target in resources and target != (resource_type, logical_id):
                yield (resource_type, logical_id), target


def _referenced(value: str) -> Address:
    found = REFERENCE.match(value)
    assert found, f"not a reference: {value}"
    return found.group(1), found.group(2)


def _global(address: Address) -> bool:
    return address[0].startswith(GLOBAL_TYPES)


def _regional_links(stack: StackJson) -> Iterator[tuple[Address, Address]]:
    """References that tie two resources to one region."""
    for source, target in _references(stack):
        if not (_global(source) or _global(target) or (source[0], target[0]) in CROSS_REGION_LINKS):
            yield source, target


def _edge_anchors(stack: StackJson) -> set[Address]:
    """What AWS serves from us-east-1 only, found by what each resource is (sources: the test below)."""
    anchors = {_referenced(distribution["viewer_certificate"]["acm_certificate_arn"])
               for distribution in stack.resources("aws_cloudfront_distribution").values()}
    anchors |= {("aws_wafv2_web_acl", i) for i, acl in stack.resources("aws_wafv2_web_acl").items()
                if acl["scope"] == "CLOUDFRONT"}
    anchors |= {("aws_cloudwatch_metric_alarm", i) for i, alarm in stack.resources("aws_cloudwatch_metric_alarm").items()
                if alarm.get("namespace") in ("AWS/CloudFront", "AWS/Route53")}
    anchors |= {_referenced(key["key_management_service_arn"])
                for key in stack.resources("aws_route53_key_signing_key").values()}
    anchors |= {_referenced(log["cloudwatch_log_group_arn"]) for log in stack.resources("aws_route53_query_log").values()}
    anchors |= {("aws_cloudwatch_log_delivery_source", i) for i in stack.resources("aws_cloudwatch_log_delivery_source")}
    return anchors


def test_providers_are_the_primary_the_replica_and_us_east_1_regions(eu_west_1: StackJson,
                                                                     eu_west_1_config: EnvironmentConfig) -> None:
    regions = {provider.get("alias", PRIMARY): provider["region"] for provider in eu_west_1.providers}
    assert regions == {PRIMARY: "eu-west-1", "replica": "eu-central-1", "us_east_1": "us-east-1"}
    assert all(p["allowed_account_ids"] == [eu_west_1_config.account_id] for p in eu_west_1.providers)
    assert eu_west_1.backend["s3"]["region"] == "eu-west-1"


@pytest.mark.requirement("R4.2", "R6.1", "R6.7", "R9.1")
def test_us_east_1_holds_what_aws_serves_only_from_there_and_what_is_tied_to_it(eu_west_1: StackJson) -> None:
    """AWS serves these from us-east-1 only:
    - CloudFront's certificate: https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
    - a CLOUDFRONT-scope web ACL: https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html
    - alarms on CloudFront and Route 53 health-check metrics, published there only:
      https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/monitoring-using-cloudwatch.html
      https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-checks.html
    - the DNSSEC signing key: https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-configuring-dnssec-cmk-requirements.html
    - the query-log group: https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/query-logs.html
    - CloudFront's log delivery sources: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging.html
    These, and every regional resource tied to one of them (a key, a topic, an alias, a subscription, a
    validation, a logging configuration), use `us_east_1`; no other regional resource does."""
    anchors = _edge_anchors(eu_west_1)
    assert {t for t, _ in anchors} >= {"aws_acm_certificate_validation", "aws_wafv2_web_acl", "aws_cloudwatch_metric_alarm",
                                       "aws_kms_key", "aws_cloudwatch_log_group", "aws_cloudwatch_log_delivery_source"}
    links = list(_regional_links(eu_west_1))
    tied, grown = set(anchors), True
    while grown:
        before = len(tied)
        tied |= {b for a, b in links if a in tied} | {a for a, b in links if b in tied}
        grown = len(tied) > before
    in_us_east_1 = {(t, i) for t, i, body in eu_west_1.all_resources()
                    if _provider(body) == US_EAST_1 and not _global((t, i))}
    assert in_us_east_1 == tied
    assert {("aws_acm_certificate", "certificates_cloudfront"), ("aws_sns_topic", "edge_alerts_topic"),
            ("aws_kms_key", "keys_edge_messaging_key"), ("aws_kms_key", "keys_edge_logs_key")} <= tied


def test_no_resource_reaches_into_another_region_except_by_design(eu_west_1: StackJson) -> None:
    """A key, topic, log group or bucket is used in its own region: a regional resource naming one in another
    region fails at apply (KMS keys and SNS topics are regional)."""
    providers = {(t, i): _provider(body) for t, i, body in eu_west_1.all_resources()}
    crossing = [(a, b) for a, b in _regional_links(eu_west_1) if providers[a] != providers[b]]
    assert crossing == []


@pytest.mark.requirement("R7.4")
def test_edge_alarms_page_through_a_topic_in_us_east_1(eu_west_1: StackJson, eu_west_1_config: EnvironmentConfig) -> None:
    edge_topic, topic = (ref("aws_sns_topic", i, "arn") for i in ("edge_alerts_topic", "alerts_topic"))
    alarms = {**eu_west_1.resources("aws_cloudwatch_metric_alarm"), **eu_west_1.resources("aws_cloudwatch_composite_alarm")}
    notified: dict[str, set[str]] = {edge_topic: set(), topic: set()}
    for alarm in alarms.values():
        for action in alarm.get("alarm_actions", []):
            if action.startswith("${aws_sns_topic."):
                notified.setdefault(action, set()).add(_provider(alarm))
    assert notified == {edge_topic: {US_EAST_1}, topic: {PRIMARY}}
    edge = eu_west_1.resource("aws_sns_topic", "edge_alerts_topic")
    assert edge["provider"] == US_EAST_1 and edge["kms_master_key_id"] == ref("aws_kms_key", "keys_edge_messaging_key", "arn")
    emails = sorted(s["endpoint"] for s in eu_west_1.resources("aws_sns_topic_subscription").values()
                    if s["topic_arn"] == edge_topic)
    assert emails == sorted(eu_west_1_config.alert_emails)
    key_policy = json.loads(eu_west_1.resource("aws_kms_key", "keys_edge_messaging_key")["policy"])
    assert "cloudwatch.amazonaws.com" in {s["Principal"].get("Service") for s in key_policy["Statement"]}


@pytest.mark.requirement("R7.1")
def test_each_logs_key_serves_cloudwatch_logs_of_its_own_region(eu_west_1: StackJson) -> None:
    """CloudWatch Logs uses a key only through its own regional principal and encryption context."""
    for key_id, region in (("keys_logs_key", "eu-west-1"), ("keys_edge_logs_key", "us-east-1")):
        key = eu_west_1.resource("aws_kms_key", key_id)
        assert _provider(key) == (US_EAST_1 if region == "us-east-1" else PRIMARY)
        statements = json.loads(key["policy"])["Statement"]
        [logs] = [s for s in statements if s["Principal"].get("Service") == f"logs.{region}.amazonaws.com"]
        assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"].startswith(f"arn:aws:logs:{region}:")


@pytest.mark.requirement("R1.6")
def test_load_balancer_logs_are_granted_to_the_regions_elb_account(eu_west_1: StackJson) -> None:
    """Regions opened before August 2022 deliver ALB access logs from a per-region Elastic Load Balancing account.
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
    """
    grants = [s for policy in eu_west_1.resources("aws_s3_bucket_policy").values()
              for s in json.loads(policy["policy"])["Statement"] if s.get("Sid") == "LoadBalancerAccessLogs"]
    assert [s["Principal"] for s in grants] == [{"AWS": f"arn:aws:iam::{ELB_LOG_ACCOUNT_EU_WEST_1}:root"}]


def test_regional_resources_name_the_primary_region_only(eu_west_1: StackJson,
                                                         eu_west_1_config: EnvironmentConfig) -> None:
    """No hard-coded us-east-1 in the primary region: only dashboard widgets of metrics CloudWatch keeps there
    (CloudFront, billing) and the grant to CloudFront's log delivery source name it."""
    delivery_source = f"arn:aws:logs:us-east-1:{eu_west_1_config.account_id}:delivery-source:*"
    for resource_type, logical_id, body in eu_west_1.all_resources():
        if _provider(body) != PRIMARY:
            continue
        if resource_type == "aws_cloudwatch_dashboard":
            for widget in json.loads(body["dashboard_body"])["widgets"]:
                region = widget["properties"].get("region")
                namespaces = {metric[0] for metric in widget["properties"].get("metrics", []) if isinstance(metric[0], str)}
                assert region in (None, "eu-west-1") or namespaces <= {"AWS/CloudFront", "AWS/Billing"}, logical_id
        else:
            assert "us-east-1" not in json.dumps(body).replace(delivery_source, ""), f"{resource_type}.{logical_id}"
    zones = {subnet["availability_zone"] for subnet in eu_west_1.resources("aws_subnet").values()}
    assert zones == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}


@pytest.mark.requirement("R6.1")
def test_checkov_reports_no_failed_check_in_another_region(eu_west_1_checkov: GateResult) -> None:
    assert [str(finding) for finding in eu_west_1_checkov.failed] == []
