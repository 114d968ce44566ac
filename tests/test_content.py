"""Content storage and CDN, read from the synthesized JSON (R4, R10.2, R10.6, R12.3)."""

from __future__ import annotations

import copy
import json

import pytest

from environments.config import ConfigError, parse_environment, read_raw
from tests.stack_json import StackJson, ref

SERVED = ("content", "vod")  # media viewers read: never archived by age
BUCKETS = ("content", "static", "recordings", "vod")
REPLICATED = ("content", "recordings")
ARCHIVE_CLASSES = {"GLACIER", "GLACIER_IR", "DEEP_ARCHIVE"}
DAY, YEAR = 86_400, 365 * 86_400


def _bucket_ref(name: str, attribute: str = "id") -> str:
    return ref("aws_s3_bucket", f"storage_{name}_bucket", attribute)


def _lifecycle_rules(stack: StackJson, name: str) -> list[dict]:
    return stack.resource("aws_s3_bucket_lifecycle_configuration", f"storage_{name}_lifecycle")["rule"]


def _policy(stack: StackJson, logical_id: str) -> list[dict]:
    return json.loads(stack.resource("aws_s3_bucket_policy", logical_id)["policy"])["Statement"]


@pytest.mark.requirement("R4.7", "R6.4")
def test_content_buckets_are_versioned_kms_encrypted_private_and_tls_only(env: StackJson) -> None:
    for name in BUCKETS:
        assert env.resource("aws_s3_bucket_versioning", f"storage_{name}_versioning")["versioning_configuration"] == {
            "status": "Enabled"
        }
        rule = env.resource("aws_s3_bucket_server_side_encryption_configuration", f"storage_{name}_encryption")["rule"][0]
        assert rule["apply_server_side_encryption_by_default"] == {
            "sse_algorithm": "aws:kms",
            "kms_master_key_id": ref("aws_kms_key", "keys_content_key", "arn"),
        }
        block = env.resource("aws_s3_bucket_public_access_block", f"storage_{name}_public_access_block")
        assert all(block[flag] is True for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                                    "restrict_public_buckets"))
        deny = next(s for s in _policy(env, f"storage_{name}_policy") if s.get("Sid") == "DenyInsecureTransport")
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        logging = env.resource("aws_s3_bucket_logging", f"storage_{name}_logging")
        assert logging["target_bucket"] == _bucket_ref("logs", "bucket")


@pytest.mark.requirement("R4.7")
def test_critical_buckets_replicate_every_object_to_the_second_region(env: StackJson, configs) -> None:
    providers = {p.get("alias"): p["region"] for p in env.providers}
    assert providers["replica"] == configs[env.name].replica_region != configs[env.name].region
    for name in REPLICATED:
        replica = env.resource("aws_s3_bucket", f"storage_{name}_replica_bucket")
        assert replica["provider"] == "aws.replica"
        assert env.resource("aws_s3_bucket_versioning", f"storage_{name}_replica_versioning")[
            "versioning_configuration"]["status"] == "Enabled"
        replica_sse = env.resource("aws_s3_bucket_server_side_encryption_configuration",
                                   f"storage_{name}_replica_encryption")["rule"][0]
        assert replica_sse["apply_server_side_encryption_by_default"]["kms_master_key_id"] == ref(
            "aws_kms_key", "keys_replica_key", "arn")

        replication = env.resource("aws_s3_bucket_replication_configuration", f"storage_{name}_replication")
        assert replication["bucket"] == _bucket_ref(name)
        [rule] = replication["rule"]
        assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
        assert rule["delete_marker_replication"] == {"status": "Enabled"}
        assert rule["source_selection_criteria"]["sse_kms_encrypted_objects"] == {"status": "Enabled"}
        assert rule["destination"]["bucket"] == ref("aws_s3_bucket", f"storage_{name}_replica_bucket", "arn")
        assert rule["destination"]["encryption_configuration"]["replica_kms_key_id"] == ref(
            "aws_kms_key", "keys_replica_key", "arn")
    # Derived data is not replicated: it is rebuilt (static assets) or re-transcoded (VOD).
    replications = env.resources("aws_s3_bucket_replication_configuration")
    assert set(replications) == {f"storage_{name}_replication" for name in REPLICATED}


@pytest.mark.requirement("R4.1", "R10.2")
def test_served_media_goes_to_intelligent_tiering_and_archives_only_what_nobody_reads(env: StackJson, configs) -> None:
    content = configs[env.name].content
    for name in SERVED:
        rules = _lifecycle_rules(env, name)
        to_tiering = next(rule for rule in rules if rule["id"] == "intelligent-tiering")
        assert to_tiering["status"] == "Enabled" and to_tiering["filter"] == [{"prefix": ""}]
        assert to_tiering["transition"] == [{"days": 0, "storage_class": "INTELLIGENT_TIERING"}]
        # Nothing that may still be served is sent to an archive class by age.
        for rule in rules:
            for transition in rule.get("transition", []):
                assert transition["storage_class"] not in ARCHIVE_CLASSES, (name, rule["id"])
        tiering = env.resource("aws_s3_bucket_intelligent_tiering_configuration", f"storage_{name}_intelligent_tiering")
        assert tiering["bucket"] == _bucket_ref(name) and tiering["status"] == "Enabled"
        days = {tier["access_tier"]: tier["days"] for tier in tiering["tiering"]}
        assert days == {"ARCHIVE_ACCESS": content.archive_after_days, "DEEP_ARCHIVE_ACCESS": content.deep_archive_after_days}
        assert days["ARCHIVE_ACCESS"] >= 90  # "nobody has read it in months"


@pytest.mark.requirement("R4.5")
def test_lifecycle_archives_old_versions_and_old_recordings(env: StackJson, configs) -> None:
    content = configs[env.name].content
    for name in BUCKETS:
        rules = {rule["id"]: rule for rule in _lifecycle_rules(env, name)}
        archive = rules["archive-old-versions"]
        assert archive["status"] == "Enabled" and archive["filter"] == [{"prefix": ""}]
        assert archive["noncurrent_version_transition"] == [
            {"noncurrent_days": content.noncurrent_archive_after_days, "storage_class": "GLACIER"}
        ]
        expire = rules["abort-incomplete-multipart-uploads"]["noncurrent_version_expiration"][0]["noncurrent_days"]
        assert expire == content.noncurrent_expire_after_days >= content.noncurrent_archive_after_days + 90
    recordings = {rule["id"]: rule for rule in _lifecycle_rules(env, "recordings")}["archive-old-recordings"]
    assert recordings["status"] == "Enabled" and recordings["filter"] == [{"prefix": ""}]
    assert recordings["transition"] == [{"days": content.recordings_archive_after_days, "storage_class": "GLACIER"}]


@pytest.mark.requirement("R4.3")
def test_browsers_upload_video_image_and_document_files_directly(env: StackJson, configs) -> None:
    domain = configs[env.name].domain
    cors = env.resource("aws_s3_bucket_cors_configuration", "storage_content_cors")
    assert cors["bucket"] == _bucket_ref("content")
    uploads = next(rule for rule in cors["cors_rule"] if rule["id"] == "direct-uploads")
    assert set(uploads["allowed_methods"]) == {"PUT", "POST"}  # presigned PUT, multipart parts, presigned POST
    assert uploads["allowed_origins"] == [f"https://{domain}", f"https://www.{domain}"]
    # Any Content-Type (video/*, image/*, application/pdf ...) is accepted: the type is not restricted here.
    assert "Content-Type" in uploads["allowed_headers"] and "x-amz-*" in uploads["allowed_headers"]
    assert "ETag" in uploads["expose_headers"]  # multipart completion needs every part's ETag
    # Large videos upload in parts; abandoned parts are cleaned up.
    abort = {rule["id"]: rule for rule in _lifecycle_rules(env, "content")}["abort-incomplete-multipart-uploads"]
    assert abort["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]


def test_log_buckets_take_server_access_logs_and_expire_them(env: StackJson, configs) -> None:
    for name, provider in (("logs", None), ("replica_logs", "aws.replica")):
        assert env.resource("aws_s3_bucket", f"storage_{name}_bucket").get("provider") == provider
        sse = env.resource("aws_s3_bucket_server_side_encryption_configuration", f"storage_{name}_encryption")
        assert sse["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
        statements = {s.get("Sid"): s for s in _policy(env, f"storage_{name}_policy")}
        assert statements["S3ServerAccessLogs"]["Principal"] == {"Service": "logging.s3.amazonaws.com"}
        assert statements["S3ServerAccessLogs"]["Condition"] == {
            "StringEquals": {"aws:SourceAccount": configs[env.name].account_id}}
        expire = {rule["id"]: rule for rule in _lifecycle_rules(env, name)}["expire-logs"]
        assert expire["expiration"] == [{"days": configs[env.name].content.log_retention_days}]
    for name in REPLICATED:
        assert env.resource("aws_s3_bucket_logging", f"storage_{name}_replica_logging")["target_bucket"] == _bucket_ref(
            "replica_logs", "bucket")


def _distribution(stack: StackJson, name: str) -> dict:
    return stack.resource("aws_cloudfront_distribution", f"{name}_distribution")


@pytest.mark.requirement("R4.2", "R10.6")
def test_media_distribution_serves_content_from_the_edge_through_origin_shield(env: StackJson, configs) -> None:
    distribution = _distribution(env, "media_cdn")
    assert distribution["enabled"] is True and distribution["is_ipv6_enabled"] is True
    assert distribution["http_version"] == "http2and3"
    assert distribution["price_class"] == configs[env.name].content.cdn_price_class
    origins = {origin["origin_id"]: origin for origin in distribution["origin"]}
    assert origins["content-primary"]["domain_name"] == _bucket_ref("content", "bucket_regional_domain_name")
    assert origins["content-failover"]["domain_name"] == ref(
        "aws_s3_bucket", "storage_content_replica_bucket", "bucket_regional_domain_name")
    for origin in origins.values():
        assert origin["origin_access_control_id"] == ref("aws_cloudfront_origin_access_control", "cdn_s3_access", "id")
        assert origin["origin_shield"] == {"enabled": True, "origin_shield_region": configs[env.name].region}
    [group] = distribution["origin_group"]
    assert [m["origin_id"] for m in group["member"]] == ["content-primary", "content-failover"]
    assert {500, 502, 503, 504} <= set(group["failover_criteria"]["status_codes"])
    behavior = distribution["default_cache_behavior"]
    assert behavior["target_origin_id"] == "content"
    assert behavior["viewer_protocol_policy"] == "redirect-to-https" and behavior["compress"] is True
    assert behavior["cache_policy_id"] == ref("aws_cloudfront_cache_policy", "cdn_media_cache", "id")
    assert behavior["response_headers_policy_id"] == ref(
        "aws_cloudfront_response_headers_policy", "cdn_security_headers", "id")
    oac = env.resource("aws_cloudfront_origin_access_control", "cdn_s3_access")
    assert (oac["origin_access_control_origin_type"], oac["signing_behavior"], oac["signing_protocol"]) == (
        "s3", "always", "sigv4")


@pytest.mark.requirement("R4.6")
def test_private_content_needs_a_url_signed_by_a_key_of_the_key_group(env: StackJson, configs, synth_dir) -> None:
    behavior = _distribution(env, "media_cdn")["default_cache_behavior"]
    assert behavior["trusted_key_groups"] == [ref("aws_cloudfront_key_group", "cdn_signing", "id")]
    assert behavior["allowed_methods"] == ["GET", "HEAD", "OPTIONS"]
    keys = env.resources("aws_cloudfront_public_key")
    assert [key["encoded_key"] for key in keys.values()] == configs[env.name].content.signing_public_keys
    group = env.resource("aws_cloudfront_key_group", "cdn_signing")
    assert group["items"] == [ref("aws_cloudfront_public_key", logical_id, "id") for logical_id in keys]
    # The private key never reaches Terraform (and so never its state).
    assert "PRIVATE KEY" not in (synth_dir / "stacks" / env.name / "cdk.tf.json").read_text()
    # Only this distribution may read the buckets behind it, and decrypt the replica's objects.
    for bucket in ("content", "content_replica"):
        reads = next(s for s in _policy(env, f"storage_{bucket}_policy") if s.get("Sid") == "CloudFrontMediaReads")
        assert reads["Principal"] == {"Service": "cloudfront.amazonaws.com"} and reads["Action"] == "s3:GetObject"
        assert reads["Condition"] == {
            "StringEquals": {"AWS:SourceArn": ref("aws_cloudfront_distribution", "media_cdn_distribution", "arn")}}
    replica_key = json.loads(env.resource("aws_kms_key", "keys_replica_key")["policy"])["Statement"]
    decrypt = next(s for s in replica_key if s.get("Sid") == "CloudFrontDecryptsMediaCdn")
    assert decrypt["Action"] == "kms:Decrypt" and decrypt["Condition"]["StringEquals"]["AWS:SourceArn"] == ref(
        "aws_cloudfront_distribution", "media_cdn_distribution", "arn")


def _cache_policy(stack: StackJson, name: str) -> dict:
    return stack.resource("aws_cloudfront_cache_policy", f"cdn_{name}_cache")


@pytest.mark.requirement("R4.4", "R12.3", "R10.6")
def test_cache_policies_make_a_95_percent_hit_ratio_reachable(env: StackJson) -> None:
    """Hit ratio = 1 - misses/requests. A static asset is requested many times and, keyed on its
    (content-hashed) path and encoding only and kept a year, misses once per edge cache and once at
    the origin shield; nothing viewer-specific (cookie, header, query string) splits the key."""
    static = _cache_policy(env, "static")
    assert static["default_ttl"] == static["max_ttl"] == YEAR and static["min_ttl"] >= DAY
    media = _cache_policy(env, "media")
    assert media["default_ttl"] == DAY and media["max_ttl"] == YEAR
    for policy in (static, media):
        key = policy["parameters_in_cache_key_and_forwarded_to_origin"]
        assert key["cookies_config"] == {"cookie_behavior": "none"}
        assert key["headers_config"] == {"header_behavior": "none"}
        assert key["query_strings_config"] == {"query_string_behavior": "none"}
        assert key["enable_accept_encoding_gzip"] is True and key["enable_accept_encoding_brotli"] is True
    api = _cache_policy(env, "api")
    assert api["default_ttl"] == api["max_ttl"] == api["min_ttl"] == 0  # the API is never cached


@pytest.mark.requirement("R4.4", "R12.3", "R10.6")
def test_app_distribution_caches_hashed_assets_for_a_year_and_never_the_api(env: StackJson, configs) -> None:
    domain = configs[env.name].domain
    distribution = _distribution(env, "app_cdn")
    assert distribution["aliases"] == [domain, f"www.{domain}", f"app.{domain}", f"api.{domain}"]
    origins = {origin["origin_id"]: origin for origin in distribution["origin"]}
    assert origins["load_balancer"]["domain_name"] == ref("aws_lb", "load_balancer_alb", "dns_name")
    assert origins["load_balancer"]["custom_origin_config"]["origin_protocol_policy"] == "https-only"
    assert origins["static"]["domain_name"] == _bucket_ref("static", "bucket_regional_domain_name")
    assert origins["static"]["origin_shield"]["enabled"] is True
    assert "origin_shield" not in origins["load_balancer"]  # nothing from the app is cached: no extra hop
    # Besides the maintenance page's behaviour (tests/test_dns.py), one for hashed assets.
    assets = next(b for b in distribution["ordered_cache_behavior"] if b["path_pattern"] == "/_next/static/*")
    assert assets["target_origin_id"] == "static"
    assert assets["cache_policy_id"] == ref("aws_cloudfront_cache_policy", "cdn_static_cache", "id")
    assert assets["compress"] is True
    api = distribution["default_cache_behavior"]
    assert api["target_origin_id"] == "load_balancer"
    assert api["cache_policy_id"] == ref("aws_cloudfront_cache_policy", "cdn_api_cache", "id")
    assert api["origin_request_policy_id"] == ref("aws_cloudfront_origin_request_policy", "cdn_api_origin_request", "id")
    assert set(api["allowed_methods"]) == {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
    forwarded = env.resource("aws_cloudfront_origin_request_policy", "cdn_api_origin_request")
    assert forwarded["headers_config"]["header_behavior"] == "allViewer"  # Host too: the origin certificate matches


@pytest.mark.requirement("R6.1", "R6.7")
def test_distributions_use_the_edge_certificate_and_web_acl(env: StackJson) -> None:
    for name in ("app_cdn", "media_cdn"):
        distribution = _distribution(env, name)
        assert distribution["web_acl_id"] == ref("aws_wafv2_web_acl", "waf_cloudfront_acl", "arn")
        assert distribution["viewer_certificate"] == {
            "acm_certificate_arn": ref("aws_acm_certificate_validation", "certificates_cloudfront_issued",
                                       "certificate_arn"),
            "ssl_support_method": "sni-only",
            "minimum_protocol_version": "TLSv1.2_2021",
        }


def test_security_headers_policy(env: StackJson) -> None:
    headers = env.resource("aws_cloudfront_response_headers_policy", "cdn_security_headers")["security_headers_config"]
    hsts = headers["strict_transport_security"]
    assert hsts["access_control_max_age_sec"] >= YEAR and hsts["include_subdomains"] is True and hsts["override"] is True
    assert headers["content_type_options"] == {"override": True}
    assert headers["frame_options"]["frame_option"] == "DENY"
    assert headers["referrer_policy"]["referrer_policy"] == "strict-origin-when-cross-origin"


@pytest.mark.requirement("R4.2")
def test_cloudfront_access_logs_reach_the_log_bucket_through_logging_v2(env: StackJson, configs) -> None:
    account = configs[env.name].account_id
    source = env.resource("aws_cloudwatch_log_delivery_source", "media_cdn_log_source")
    assert source["provider"] == "aws.us_east_1" and source["log_type"] == "ACCESS_LOGS"
    assert source["resource_arn"] == ref("aws_cloudfront_distribution", "media_cdn_distribution", "arn")
    delivery = env.resource("aws_cloudwatch_log_delivery", "media_cdn_log_delivery")
    assert delivery["delivery_source_name"] == ref("aws_cloudwatch_log_delivery_source", "media_cdn_log_source", "name")
    assert delivery["delivery_destination_arn"] == ref("aws_cloudwatch_log_delivery_destination", "cdn_log_destination",
                                                       "arn")
    destination = env.resource("aws_cloudwatch_log_delivery_destination", "cdn_log_destination")
    assert destination["delivery_destination_configuration"] == [
        {"destination_resource_arn": _bucket_ref("logs", "arn")}]
    grant = next(s for s in _policy(env, "storage_logs_policy") if s.get("Sid") == "CloudFrontStandardLogsV2")
    assert grant["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert grant["Condition"]["StringEquals"]["aws:SourceAccount"] == account


CONTENT_BAD_CONFIGS = [
    ("archive_after_days", 30, "content.archive_after_days"),
    ("deep_archive_after_days", 120, "content.deep_archive_after_days"),
    ("noncurrent_expire_after_days", 60, "noncurrent_expire_after_days must be at least 90 days after"),
    ("cdn_price_class", "PriceClass_1", "content.cdn_price_class"),
    ("signing_public_keys", ["-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----"], "never a private key"),
    ("signing_public_keys", [], "content.signing_public_keys"),
]


@pytest.mark.parametrize(("field", "value", "expected"), CONTENT_BAD_CONFIGS, ids=lambda v: str(v)[:24])
def test_bad_content_config_is_rejected_naming_the_field(field: str, value: object, expected: str) -> None:
    raw = copy.deepcopy(read_raw("prod"))
    raw["content"][field] = value
    with pytest.raises(ConfigError) as raised:
        parse_environment("prod", raw)
    assert expected in str(raised.value) and "\n" not in str(raised.value)
