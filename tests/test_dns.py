"""Domain and DNS (R9): the Route 53 zone of each environment, CAA, DNSSEC, query logs, delegation, records."""

from __future__ import annotations

import json

import pytest

from modules.dns import AMAZON_CAA_DOMAINS
from tests.stack_json import StackJson, ref

ZONE = ref("aws_route53_zone", "dns_zone", "zone_id")


@pytest.mark.requirement("R9.1", "R9.2")
def test_each_environment_hosts_its_domain_in_route53_and_publishes_its_name_servers(env: StackJson, configs) -> None:
    domain = configs[env.name].domain
    assert domain == {"prod": "directfanz.io"}.get(env.name, f"{env.name}.directfanz.io")
    zones = env.resources("aws_route53_zone")
    assert list(zones) == ["dns_zone"]
    zone = zones["dns_zone"]
    assert zone["name"] == domain
    assert "vpc" not in zone  # public zone
    assert zone["lifecycle"]["prevent_destroy"] is True  # a new zone means new name servers at the registrar
    assert env.outputs["dns_name_servers"]["value"] == ref("aws_route53_zone", "dns_zone", "name_servers")
    for body in env.resources("aws_route53_record").values():
        assert body["zone_id"] == ZONE


@pytest.mark.requirement("R9.2", "R9.5")
def test_caa_lets_amazon_issue_for_the_domain(env: StackJson, configs) -> None:
    caa = [body for body in env.resources("aws_route53_record").values() if body["type"] == "CAA"]
    assert len(caa) == 1
    (record,) = caa
    assert record["name"] == configs[env.name].domain
    issuers = {value.split('"')[1] for value in record["records"] if ' issue ' in f" {value} "}
    assert issuers == set(AMAZON_CAA_DOMAINS) == {"amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com"}
    # No issuewild or other tag may narrow what Amazon may issue.
    assert all(value.startswith("0 issue ") for value in record["records"])


@pytest.mark.requirement("R9.1", "R9.2")
def test_apex_is_never_a_cname_and_apex_and_www_are_alias_records(env: StackJson, configs) -> None:
    domain = configs[env.name].domain
    for logical_id, body in env.resources("aws_route53_record").items():
        name = body["name"]
        if name in (domain, f"www.{domain}"):
            assert body["type"] != "CNAME", f"{logical_id}: a CNAME at {name}"
            if body["type"] in ("A", "AAAA"):
                assert "alias" in body and "records" not in body, f"{logical_id}: {name} must be an alias"


@pytest.mark.requirement("R9.1")
def test_zone_is_signed_with_dnssec_by_a_kms_key_in_us_east_1(env: StackJson) -> None:
    key = env.resource("aws_kms_key", "dns_signing_key")
    assert key["provider"] == "aws.us_east_1"
    assert key["customer_master_key_spec"] == "ECC_NIST_P256" and key["key_usage"] == "SIGN_VERIFY"
    assert key["lifecycle"]["prevent_destroy"] is True
    policy = json.loads(key["policy"])["Statement"]
    route53 = [s for s in policy if s["Principal"] == {"Service": "dnssec-route53.amazonaws.com"}]
    assert route53 and all("Condition" in s for s in route53)
    signing = env.resource("aws_route53_key_signing_key", "dns_key_signing_key")
    assert signing["hosted_zone_id"] == ref("aws_route53_zone", "dns_zone", "id")
    assert signing["key_management_service_arn"] == ref("aws_kms_key", "dns_signing_key", "arn")
    dnssec = env.resource("aws_route53_hosted_zone_dnssec", "dns_dnssec")
    assert dnssec["signing_status"] == "SIGNING"
    assert dnssec["hosted_zone_id"] == ref("aws_route53_key_signing_key", "dns_key_signing_key", "hosted_zone_id")


@pytest.mark.requirement("R9.1")
def test_queries_are_logged_to_an_encrypted_group_in_us_east_1(env: StackJson, configs) -> None:
    query_log = env.resource("aws_route53_query_log", "dns_query_log")
    assert query_log["zone_id"] == ZONE
    group = env.resource("aws_cloudwatch_log_group", "dns_query_log_group")
    assert query_log["cloudwatch_log_group_arn"] == ref("aws_cloudwatch_log_group", "dns_query_log_group", "arn")
    assert group["provider"] == "aws.us_east_1"  # Route 53 writes query logs to us-east-1 only
    assert group["name"] == f"/aws/route53/{configs[env.name].domain}"
    assert group["kms_key_id"].startswith("${aws_kms_key.")
    policy = env.resource("aws_cloudwatch_log_resource_policy", "dns_query_log_policy")
    assert policy["provider"] == "aws.us_east_1"
    (statement,) = json.loads(policy["policy_document"])["Statement"]
    assert statement["Principal"] == {"Service": "route53.amazonaws.com"}
    assert statement["Resource"] == ref("aws_cloudwatch_log_group", "dns_query_log_group", "arn") + ":*"
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == configs[env.name].account_id
    assert query_log["depends_on"] == ["aws_cloudwatch_log_resource_policy.dns_query_log_policy"]


@pytest.mark.requirement("R9.2")
def test_subzones_are_delegated_by_ns_records_from_config(env: StackJson, configs) -> None:
    config = configs[env.name]
    ns = {body["name"]: body for body in env.resources("aws_route53_record").values() if body["type"] == "NS"}
    assert set(ns) == set(config.dns.delegations)
    for subzone, body in ns.items():
        assert body["records"] == list(config.dns.delegations[subzone])
        assert body["ttl"] == 172800
    # Every other environment's domain is a subdomain of prod's, so prod's zone can delegate it.
    for other in configs.values():
        assert other.domain == configs["prod"].domain or other.domain.endswith("." + configs["prod"].domain)


@pytest.mark.requirement("R9.4")
def test_media_answers_with_an_alias_to_its_distribution_which_serves_that_name(env: StackJson, configs) -> None:
    domain = configs[env.name].domain
    records = {body["type"]: body for body in env.resources("aws_route53_record").values()
               if body["name"] == f"media.{domain}"}
    assert set(records) == {"A", "AAAA"}  # the distribution is IPv6-enabled
    distribution = ref("aws_cloudfront_distribution", "media_cdn_distribution", "domain_name")
    for record in records.values():
        assert record["alias"]["name"] == distribution
        assert record["alias"]["zone_id"] == ref("aws_cloudfront_distribution", "media_cdn_distribution", "hosted_zone_id")
    served = env.resource("aws_cloudfront_distribution", "media_cdn_distribution")
    assert served["aliases"] == [f"media.{domain}"]
    certificate = served["viewer_certificate"]
    assert certificate["acm_certificate_arn"] == ref("aws_acm_certificate_validation", "certificates_cloudfront_issued",
                                                     "certificate_arn")
    assert certificate["minimum_protocol_version"] == "TLSv1.2_2021"
    assert served["web_acl_id"] == ref("aws_wafv2_web_acl", "waf_cloudfront_acl", "arn")


@pytest.mark.requirement("R9.4")
def test_records_to_cloudfront_never_ask_route53_to_evaluate_its_health(env: StackJson) -> None:
    """Route 53 refuses EvaluateTargetHealth on a CloudFront alias: the apply would fail."""
    aliases = [body for body in env.resources("aws_route53_record").values() if "alias" in body]
    assert aliases
    for body in aliases:
        if body["alias"]["name"].startswith("${aws_cloudfront_distribution."):
            assert body["alias"]["evaluate_target_health"] is False, body["name"]


def alias_records(env: StackJson, name: str) -> list[dict]:
    return [body for body in env.resources("aws_route53_record").values() if body["name"] == name and "alias" in body]


@pytest.mark.requirement("R9.3")
def test_public_app_endpoint_is_health_checked_over_https_on_its_shallow_health_path(env: StackJson, configs) -> None:
    check = env.resource("aws_route53_health_check", "dns_app_health_check")
    assert check["type"] == "HTTPS" and check["port"] == 443 and check["enable_sni"] is True
    assert check["fqdn"] == configs[env.name].domain  # the public path: CloudFront, load balancer, web tasks
    assert check["resource_path"] == "/api/health"  # shallow: a failing dependency must not fail everything over
    assert check["failure_threshold"] == 3 and check["request_interval"] == 30
    # The checked name is never a failover record: once failed over it would check the maintenance page.
    failover_names = {body["name"] for body in env.resources("aws_route53_record").values()
                      if "failover_routing_policy" in body}
    assert check["fqdn"] not in failover_names


@pytest.mark.requirement("R9.3")
def test_load_balancer_names_fail_over_to_the_static_maintenance_origin(env: StackJson, configs) -> None:
    domain = configs[env.name].domain
    records = {body["failover_routing_policy"]["type"]: body for body in alias_records(env, f"ws.{domain}")
               if body["type"] == "A"}
    assert set(records) == {"PRIMARY", "SECONDARY"}
    primary, secondary = records["PRIMARY"], records["SECONDARY"]
    assert primary["alias"]["name"] == ref("aws_lb", "load_balancer_alb", "dns_name")
    assert primary["health_check_id"] == ref("aws_route53_health_check", "dns_app_health_check", "id")
    assert secondary["alias"]["name"] == ref("aws_cloudfront_distribution", "maintenance_cdn_distribution", "domain_name")
    assert primary["set_identifier"] != secondary["set_identifier"]
    # The maintenance distribution serves that name, with our certificate and WAF, from a private bucket.
    maintenance = env.resource("aws_cloudfront_distribution", "maintenance_cdn_distribution")
    assert maintenance["aliases"] == [f"ws.{domain}"]
    assert maintenance["web_acl_id"] == ref("aws_wafv2_web_acl", "waf_cloudfront_acl", "arn")
    (origin,) = maintenance["origin"]
    assert origin["domain_name"] == ref("aws_s3_bucket", "maintenance_bucket_bucket", "bucket_regional_domain_name")
    assert origin["origin_access_control_id"]
    # Every path answers with the page and 503 (temporary), never a 200 or an S3 error.
    errors = {response["error_code"]: response for response in maintenance["custom_error_response"]}
    assert {403, 404, 500, 502, 503, 504} <= set(errors)
    assert all(r["response_code"] == 503 and r["response_page_path"] == "/maintenance/index.html" for r in errors.values())
    page = env.resource("aws_s3_object", "maintenance_page")
    assert page["key"] == "maintenance/index.html" and page["content_type"].startswith("text/html")
    assert page["bucket"] == ref("aws_s3_bucket", "maintenance_bucket_bucket", "bucket")
    assert "<html" in page["content"] and "${" not in page["content"]


@pytest.mark.requirement("R9.3")
def test_app_distribution_shows_the_maintenance_page_when_the_load_balancer_cannot_answer(env: StackJson) -> None:
    app = env.resource("aws_cloudfront_distribution", "app_cdn_distribution")
    errors = {response["error_code"]: response for response in app["custom_error_response"]}
    assert set(errors) == {502, 503, 504}  # the app's own 4xx and 500s reach the client untouched
    assert all(r["response_page_path"] == "/maintenance/index.html" and r["response_code"] == 503
               for r in errors.values())
    behavior = next(b for b in app["ordered_cache_behavior"] if b["path_pattern"] == "/maintenance/*")
    origins = {origin["origin_id"]: origin for origin in app["origin"]}
    assert origins[behavior["target_origin_id"]]["domain_name"] == ref(
        "aws_s3_bucket", "maintenance_bucket_bucket", "bucket_regional_domain_name")


@pytest.mark.requirement("R9.6", "R9.4")
def test_api_is_a_weighted_health_checked_record_set(env: StackJson, configs) -> None:
    config = configs[env.name]
    records = alias_records(env, f"api.{config.domain}")
    assert {body["type"] for body in records} == {"A", "AAAA"}
    for body in records:
        assert body["weighted_routing_policy"] == {"weight": 100}
        assert body["set_identifier"] == config.region  # one entry per region or canary stack
        assert body["health_check_id"] == ref("aws_route53_health_check", "dns_app_health_check", "id")
        assert body["alias"]["name"] == ref("aws_cloudfront_distribution", "app_cdn_distribution", "domain_name")


@pytest.mark.requirement("R9.4")
def test_every_service_host_resolves_to_what_serves_it(env: StackJson, configs) -> None:
    domain = configs[env.name].domain
    served = {
        "": "aws_cloudfront_distribution.app_cdn_distribution", "www": "aws_cloudfront_distribution.app_cdn_distribution",
        "app": "aws_cloudfront_distribution.app_cdn_distribution", "api": "aws_cloudfront_distribution.app_cdn_distribution",
        "media": "aws_cloudfront_distribution.media_cdn_distribution", "ws": "aws_lb.load_balancer_alb",
    }
    for host, target in served.items():
        name = f"{host}.{domain}" if host else domain
        records = [body for body in alias_records(env, name) if body.get("set_identifier") != "maintenance"]
        assert records, name
        assert all(body["alias"]["name"] == "${" + target + ".dns_name}" or
                   body["alias"]["name"] == "${" + target + ".domain_name}" for body in records), name
        if target.startswith("aws_cloudfront_distribution."):
            distribution = env.resource(*target.split("."))
            assert name in distribution["aliases"]  # CloudFront answers for the name
