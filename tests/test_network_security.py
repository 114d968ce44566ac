"""Security (R6.1-R6.7): WAF, private subnets, IAM, KMS, CloudTrail, security groups, certificates.

Every assertion reads the synthesized Terraform JSON of each environment.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from modules.waf import MANAGED_RULE_GROUPS
from stacks.services import APP_SECRETS, PUBLIC_HOSTS
from tests.stack_json import StackJson, ref

WORLD = {"0.0.0.0/0", "::/0"}


def statements(policy: str) -> list[dict[str, Any]]:
    found = json.loads(policy)["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- R6.1: WAF --------------------------------------------------------------------------------

@pytest.mark.requirement("R6.1")
def test_web_acls_for_load_balancer_and_cloudfront_run_managed_rules_and_a_rate_limit(env: StackJson, configs) -> None:
    acls = {body["scope"]: body for body in env.resources("aws_wafv2_web_acl").values()}
    assert set(acls) == {"REGIONAL", "CLOUDFRONT"}
    assert acls["CLOUDFRONT"]["provider"] == "aws.us_east_1"  # CloudFront ACLs exist only in us-east-1
    assert "provider" not in acls["REGIONAL"]
    for acl in acls.values():
        assert acl["default_action"] == {"allow": {}}
        assert acl["visibility_config"]["cloudwatch_metrics_enabled"] is True
        rules = acl["rule"]
        assert len({rule["priority"] for rule in rules}) == len(rules)
        rate = [rule for rule in rules if "rate_based_statement" in rule["statement"]]
        assert len(rate) == 1 and rate[0]["action"] == {"block": {}}
        limit = configs[env.name].security.waf_rate_limit_per_ip
        rate_statement = rate[0]["statement"]["rate_based_statement"]
        if acl["scope"] == "CLOUDFRONT":  # CloudFront sees the client's own address
            assert rate_statement == {"aggregate_key_type": "IP", "limit": limit}
        else:  # behind CloudFront: the client address it forwards, never the shared edge address
            assert rate_statement == {"aggregate_key_type": "FORWARDED_IP", "limit": limit, "forwarded_ip_config": {
                "header_name": "X-Forwarded-For", "fallback_behavior": "NO_MATCH"}}
        managed = {rule["statement"]["managed_rule_group_statement"]["name"]: rule
                   for rule in rules if "managed_rule_group_statement" in rule["statement"]}
        for group in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                      "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList"):
            # `none` keeps the group's own block actions; `count` would only observe.
            assert managed[group]["override_action"] == {"none": {}}, group
            assert managed[group]["statement"]["managed_rule_group_statement"]["vendor_name"] == "AWS"
        assert managed["AWSManagedRulesAnonymousIpList"]["override_action"] == {"count": {}}  # decision: count, not block
        assert set(managed) == {group for group, _ in MANAGED_RULE_GROUPS}


@pytest.mark.requirement("R6.1")
def test_every_web_acl_logs_to_an_encrypted_aws_waf_logs_group_without_credentials(env: StackJson) -> None:
    groups = env.resources("aws_cloudwatch_log_group")
    logging = {body["resource_arn"]: body for body in env.resources("aws_wafv2_web_acl_logging_configuration").values()}
    for logical_id, acl in env.resources("aws_wafv2_web_acl").items():
        config = logging[ref("aws_wafv2_web_acl", logical_id, "arn")]
        (destination,) = config["log_destination_configs"]
        group_id = destination.split(".")[1]
        group = groups[group_id]
        assert group["name"].startswith("aws-waf-logs-")  # WAF refuses any other name
        assert group["kms_key_id"].startswith("${aws_kms_key.")
        assert group.get("provider") == acl.get("provider") == config.get("provider")  # same region as the ACL
        redacted = {field["single_header"]["name"] for field in config["redacted_fields"]}
        assert redacted == {"authorization", "cookie"}


# -- R6.2: private subnets for database and cache --------------------------------------------

@pytest.mark.requirement("R6.2")
def test_data_subnets_have_no_route_to_the_internet_and_no_public_ips(env: StackJson, configs) -> None:
    subnets = env.resources("aws_subnet")
    data = {logical_id for logical_id, body in subnets.items() if body["tags"]["Tier"] == "data"}
    assert len(data) == configs[env.name].availability_zones
    assert all(subnets[s]["map_public_ip_on_launch"] is False for s in subnets)
    associations = [body for body in env.resources("aws_route_table_association").values()
                    if body["subnet_id"].split(".")[1] in data]
    tables = {body["route_table_id"] for body in associations}
    assert len(associations) == len(data) and len(tables) == 1
    (table,) = tables
    table_id = table.split(".")[1]
    assert "route" not in env.resource("aws_route_table", table_id)  # no inline routes either
    routes_out = [body for body in env.resources("aws_route").values() if body["route_table_id"] == table]
    assert routes_out == []
    # Only the S3 gateway endpoint (a route to S3's prefix list, not the internet) is attached to it.
    gateways = [body for body in env.resources("aws_vpc_endpoint").values() if table in body.get("route_table_ids", [])]
    assert [body["vpc_endpoint_type"] for body in gateways] == ["Gateway"]


@pytest.mark.requirement("R6.2")
def test_app_subnets_reach_the_internet_only_through_nat_and_aws_through_endpoints(env: StackJson, configs) -> None:
    routes = env.resources("aws_route")
    internet = [body for body in routes.values() if "gateway_id" in body]
    assert len(internet) == 1 and internet[0]["route_table_id"] == ref("aws_route_table", "network_public_routes", "id")
    nat_routes = [body for body in routes.values() if "nat_gateway_id" in body]
    assert len(nat_routes) == configs[env.name].availability_zones
    assert all(body["destination_cidr_block"] == "0.0.0.0/0" for body in nat_routes)
    nat_count = len(env.resources("aws_nat_gateway"))
    assert nat_count == (configs[env.name].availability_zones if env.name == "prod" else 1)
    services = {body["service_name"].rsplit(".", 1)[-1] if "ecr" not in body["service_name"]
                else body["service_name"].split(".", 3)[-1] for body in env.resources("aws_vpc_endpoint").values()}
    assert {"s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "kms", "sts"} <= services
    for body in env.resources("aws_vpc_endpoint").values():
        if body["vpc_endpoint_type"] == "Interface":
            assert body["private_dns_enabled"] is True


# -- R6.3: IAM roles, no users, no keys, no '*' on '*' ----------------------------------------



def iam_policies(stack: StackJson) -> list[tuple[str, str]]:
    """(address, policy JSON) of every identity policy in a stack."""
    found = []
    for resource_type in ("aws_iam_role_policy", "aws_iam_policy"):
        for logical_id, body in stack.resources(resource_type).items():
            found.append((f"{resource_type}.{logical_id}", body["policy"]))
    for logical_id, body in stack.resources("aws_iam_role").items():
        for inline in as_list(body.get("inline_policy", [])):
            found.append((f"aws_iam_role.{logical_id}", inline["policy"]))
    return found


@pytest.mark.requirement("R6.3")
def test_no_iam_statement_allows_every_action_on_every_resource(stacks: dict[str, StackJson]) -> None:
    checked = 0
    for stack in stacks.values():
        for address, policy in iam_policies(stack):
            for statement in statements(policy):
                if statement.get("Effect") != "Allow":
                    continue
                actions, resources = as_list(statement.get("Action", [])), as_list(statement.get("Resource", []))
                assert not ("*" in actions and "*" in resources), f"{stack.name}/{address}: * on *"
                assert "NotAction" not in statement and "NotResource" not in statement, f"{stack.name}/{address}"
                assert not any(action in ("*", "iam:*", "sts:*") for action in actions), f"{stack.name}/{address}"
                checked += 1
    assert checked > 0


@pytest.mark.requirement("R6.3")
def test_no_iam_users_groups_or_long_lived_access_keys_anywhere(stacks: dict[str, StackJson]) -> None:
    forbidden = {"aws_iam_user", "aws_iam_access_key", "aws_iam_user_policy", "aws_iam_user_policy_attachment",
                 "aws_iam_user_login_profile", "aws_iam_group", "aws_iam_group_membership", "aws_iam_user_group_membership",
                 "aws_iam_service_specific_credential", "aws_iam_signing_certificate"}
    for stack in stacks.values():
        assert stack.resource_types & forbidden == set(), stack.name


# Services that may assume a role, by what the role is for: its name's suffix -> the only principal allowed.
ECS_TASKS = "ecs-tasks.amazonaws.com"


def trust_services(role: dict[str, Any]) -> set[str]:
    services: set[str] = set()
    for statement in statements(role["assume_role_policy"]):
        assert statement["Effect"] == "Allow"
        assert as_list(statement["Action"]) == ["sts:AssumeRole"], statement
        assert set(statement["Principal"]) == {"Service"}, f"only AWS services assume roles: {statement}"
        services |= set(as_list(statement["Principal"]["Service"]))
    return services


@pytest.mark.requirement("R6.3")
def test_every_role_is_assumed_only_by_the_service_it_serves(stacks: dict[str, StackJson]) -> None:
    """Trust is correct by construction: a role's trust names exactly its service, and
    every role carrying the ECS task-execution policy (or named for task execution) trusts ecs-tasks."""
    execution_policy = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    for stack in stacks.values():
        attached = {body["role"]: body["policy_arn"] for body in stack.resources("aws_iam_role_policy_attachment").values()}
        for logical_id, role in stack.resources("aws_iam_role").items():
            services = trust_services(role)
            assert len(services) == 1, f"{stack.name}/{logical_id}: one service per role, got {services}"
            (service,) = services
            assert service.endswith(".amazonaws.com"), service
            name = role.get("name", logical_id)
            is_execution = ("execution" in name or "task-exec" in name
                            or attached.get(ref("aws_iam_role", logical_id, "name")) == execution_policy
                            or attached.get(ref("aws_iam_role", logical_id, "id")) == execution_policy)
            if is_execution or "task" in name:
                assert service == ECS_TASKS, f"{stack.name}/{logical_id} is an ECS role trusting {service}"
            if "flow" in name:
                assert service == "vpc-flow-logs.amazonaws.com"
            if "cloudtrail" in name:
                assert service == "cloudtrail.amazonaws.com"


# -- R6.4: encryption at rest with customer-managed keys --------------------------------------

@pytest.mark.requirement("R6.4")
def test_keys_per_data_class_rotate_and_name_their_users(env: StackJson) -> None:
    keys = env.resources("aws_kms_key")
    for data_class in ("database", "cache", "content", "logs", "secrets", "backups", "pipeline", "messaging", "replica"):
        key = keys[f"keys_{data_class}_key"]
        assert key["enable_key_rotation"] is True
        assert key["deletion_window_in_days"] == 30
        for statement in statements(key["policy"]):
            principal = statement["Principal"]
            assert principal != "*" and principal.get("AWS") != "*", f"{data_class}: {statement}"
            if "Service" in principal:
                assert "Condition" in statement, f"{data_class}: a service without a scoping condition"
    assert keys["keys_database_key"]["lifecycle"]["prevent_destroy"] is True
    assert keys["keys_replica_key"]["provider"] == "aws.replica"


@pytest.mark.requirement("R6.4")
def test_everything_that_stores_data_is_encrypted_with_a_customer_managed_key(env: StackJson) -> None:
    kms = "${aws_kms_key."
    for body in env.resources("aws_cloudwatch_log_group").values():
        assert body["kms_key_id"].startswith(kms), body["name"]
    for body in env.resources("aws_secretsmanager_secret").values():
        assert body["kms_key_id"] == ref("aws_kms_key", "keys_secrets_key", "arn"), body["name"]
    for logical_id, body in env.resources("aws_s3_bucket_server_side_encryption_configuration").items():
        default = body["rule"][0]["apply_server_side_encryption_by_default"]
        if default["sse_algorithm"] != "aws:kms":
            # Only buckets AWS log delivery writes to may use SSE-S3 (it cannot write to SSE-KMS).
            assert "log" in logical_id, logical_id
            continue
        assert default["kms_master_key_id"].startswith(kms), logical_id
    assert env.resource("aws_cloudtrail", "audit_trail")["kms_key_id"] == ref("aws_kms_key", "keys_logs_key", "arn")


# -- R6.5: CloudTrail ---------------------------------------------------------------------------

@pytest.mark.requirement("R6.5")
def test_cloudtrail_records_every_region_with_validation_kms_and_cloudwatch_logs(env: StackJson) -> None:
    trail = env.resource("aws_cloudtrail", "audit_trail")
    assert trail["is_multi_region_trail"] is True
    assert trail["include_global_service_events"] is True
    assert trail["enable_log_file_validation"] is True
    assert trail["enable_logging"] is True
    assert trail["kms_key_id"] == ref("aws_kms_key", "keys_logs_key", "arn")
    assert trail["s3_bucket_name"] == ref("aws_s3_bucket", "audit_bucket_bucket", "bucket")
    assert trail["cloud_watch_logs_group_arn"] == ref("aws_cloudwatch_log_group", "audit_log_group", "arn") + ":*"
    assert trail["cloud_watch_logs_role_arn"] == ref("aws_iam_role", "audit_logs_role", "arn")
    assert trail["depends_on"] == ["aws_s3_bucket_policy.audit_bucket_policy"]
    role = env.resource("aws_iam_role", "audit_logs_role")
    assert trust_services(role) == {"cloudtrail.amazonaws.com"}
    (write,) = statements(env.resource("aws_iam_role_policy", "audit_logs_policy")["policy"])
    assert write["Resource"] == ref("aws_cloudwatch_log_group", "audit_log_group", "arn") + ":log-stream:*"
    # The logs key lets CloudTrail describe it (no encryption context on DescribeKey) and encrypt with context.
    key_statements = statements(env.resource("aws_kms_key", "keys_logs_key")["policy"])
    assert any(s["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and s["Action"] == "kms:DescribeKey"
               for s in key_statements)
    assert any(s["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
               and "kms:EncryptionContext:aws:cloudtrail:arn" in s["Condition"]["StringLike"] for s in key_statements
               if "StringLike" in s.get("Condition", {}))


@pytest.mark.requirement("R6.5")
def test_audit_bucket_is_dedicated_locked_and_denies_deletes(env: StackJson, configs) -> None:
    retention = configs[env.name].security.audit_log_retention_days
    bucket = env.resource("aws_s3_bucket", "audit_bucket_bucket")
    assert bucket["object_lock_enabled"] is True
    assert bucket["lifecycle"]["prevent_destroy"] is True
    lock = env.resource("aws_s3_bucket_object_lock_configuration", "audit_bucket_object_lock")
    assert lock["rule"]["default_retention"] == {"mode": "GOVERNANCE", "days": retention}
    policy = statements(env.resource("aws_s3_bucket_policy", "audit_bucket_policy")["policy"])
    deny = next(s for s in policy if s.get("Sid") == "DenyDeletingAuditLogs")
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and "Condition" not in deny
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"} <= set(deny["Action"])
    writers = [s for s in policy if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}]
    assert {s["Action"] for s in writers} == {"s3:GetBucketAcl", "s3:PutObject"}
    trail_name = env.resource("aws_cloudtrail", "audit_trail")["name"]
    for statement in writers:
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"].endswith(f":trail/{trail_name}")
    # Only the trail writes here: no other resource uses the bucket.
    users = [address for resource_type, address, body in env.all_resources()
             if "audit_bucket_bucket" in json.dumps(body) and not address.startswith("audit_")]
    assert users == []
    rules = env.resource("aws_s3_bucket_lifecycle_configuration", "audit_bucket_lifecycle")["rule"]
    expiry = next(rule for rule in rules if rule["id"] == "expire-after-retention")
    assert expiry["expiration"][0]["days"] == retention


# -- R6.6: security groups ----------------------------------------------------------------------

def ingress_rules(stack: StackJson) -> list[tuple[str, dict[str, Any]]]:
    """Every ingress rule in any of Terraform's three forms, as (address, {group, from, to, protocol, cidrs})."""
    rules = []
    for logical_id, body in stack.resources("aws_vpc_security_group_ingress_rule").items():
        rules.append((logical_id, {"group": body["security_group_id"], "from": body.get("from_port"),
                                   "to": body.get("to_port"), "protocol": str(body["ip_protocol"]),
                                   "cidrs": {body.get("cidr_ipv4"), body.get("cidr_ipv6")} - {None},
                                   "prefix_list": body.get("prefix_list_id"), "description": body.get("description")}))
    for logical_id, body in stack.resources("aws_security_group_rule").items():
        if body["type"] == "ingress":
            rules.append((logical_id, {"group": body["security_group_id"], "from": body["from_port"],
                                       "to": body["to_port"], "protocol": str(body["protocol"]),
                                       "cidrs": set(body.get("cidr_blocks", [])) | set(body.get("ipv6_cidr_blocks", [])),
                                       "prefix_list": body.get("prefix_list_ids"), "description": body.get("description")}))
    for logical_id, body in stack.resources("aws_security_group").items():
        for rule in as_list(body.get("ingress", [])):
            rules.append((logical_id, {"group": ref("aws_security_group", logical_id, "id"), "from": rule["from_port"],
                                       "to": rule["to_port"], "protocol": str(rule["protocol"]),
                                       "cidrs": set(rule.get("cidr_blocks") or []) | set(rule.get("ipv6_cidr_blocks") or []),
                                       "prefix_list": rule.get("prefix_list_ids"), "description": rule.get("description")}))
    return rules


@pytest.mark.requirement("R6.6")
def test_only_the_load_balancer_is_open_to_the_world_and_only_on_80_and_443(prod: StackJson) -> None:
    load_balancer = ref("aws_security_group", "security_groups_load_balancer", "id")
    world_open = []
    for address, rule in ingress_rules(prod):
        public = {cidr for cidr in rule["cidrs"] if not ipaddress.ip_network(cidr).is_private}
        if not public:
            continue
        ports = (rule["from"], rule["to"])
        world_open.append(address)
        assert rule["group"] == load_balancer, f"{address}: {public} reaches a non-load-balancer group"
        assert rule["protocol"] == "tcp" and ports in {(443, 443), (80, 80)}, f"{address}: port {ports} open to {public}"
    assert sorted(world_open) == ["security_groups_load_balancer_http", "security_groups_load_balancer_https"]


@pytest.mark.requirement("R6.6")
def test_tiers_accept_traffic_only_from_the_tier_in_front(env: StackJson) -> None:
    def group(name: str) -> str:
        return ref("aws_security_group", f"security_groups_{name}", "id")

    expected_sources = {
        "web": {(group("load_balancer"), 3000)},
        "websocket": {(group("load_balancer"), 3001)},
        "database_proxy": {(group("web"), 5432), (group("websocket"), 5432)},
        "cache": {(group("web"), 6379), (group("websocket"), 6379)},
        "database": {(group("database_proxy"), 5432)},
    }
    rules = env.resources("aws_vpc_security_group_ingress_rule").values()
    for tier, sources in expected_sources.items():
        found = {(rule["referenced_security_group_id"], rule["from_port"]) for rule in rules
                 if rule["security_group_id"] == group(tier)}
        assert found == sources, tier
        assert all(rule["from_port"] == rule["to_port"] and rule["ip_protocol"] == "tcp"
                   for rule in rules if rule["security_group_id"] == group(tier))


@pytest.mark.requirement("R6.6")
def test_every_rule_is_described_and_egress_is_never_all_protocols_to_the_world(env: StackJson) -> None:
    for resource_type in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        for logical_id, body in env.resources(resource_type).items():
            assert body.get("description"), f"{logical_id} has no description"
            assert str(body["ip_protocol"]) != "-1", f"{logical_id} allows every protocol"
    for logical_id, body in env.resources("aws_vpc_security_group_egress_rule").items():
        if body.get("cidr_ipv4") in WORLD or body.get("cidr_ipv6") in WORLD:
            assert (body["from_port"], body["to_port"]) == (443, 443), f"{logical_id}: world egress beyond HTTPS"
    for logical_id, body in env.resources("aws_security_group").items():
        assert body.get("description"), logical_id
        assert not body.get("egress") and not body.get("ingress"), f"{logical_id}: inline rules bypass the checks"
    default = env.resource("aws_default_security_group", "network_default_security_group")
    assert default["ingress"] == [] and default["egress"] == []


# -- R6.7: certificates -------------------------------------------------------------------------

@pytest.mark.requirement("R6.7", "R9.5")
def test_certificates_for_every_host_are_dns_validated_in_the_zone(env: StackJson, configs) -> None:
    domain = configs[env.name].domain
    certificates = env.resources("aws_acm_certificate")
    assert set(certificates) == {"certificates_load_balancer", "certificates_cloudfront"}
    assert certificates["certificates_cloudfront"]["provider"] == "aws.us_east_1"  # CloudFront reads only us-east-1
    assert "provider" not in certificates["certificates_load_balancer"]
    for logical_id, certificate in certificates.items():
        assert certificate["domain_name"] == domain
        assert certificate["subject_alternative_names"] == sorted(f"{host}.{domain}" for host in PUBLIC_HOSTS)
        assert certificate["validation_method"] == "DNS"
        assert certificate["lifecycle"]["create_before_destroy"] is True
        assert certificate["options"]["certificate_transparency_logging_preference"] == "ENABLED"
        records = env.resource("aws_route53_record", f"{logical_id}_validation")
        assert "domain_validation_options" in records["for_each"] and logical_id in records["for_each"]
        assert records["zone_id"] == ref("aws_route53_zone", "dns_zone", "zone_id")
        assert records["name"] == "${each.value.resource_record_name}"
        assert records["records"] == ["${each.value.resource_record_value}"]
        validation = env.resource("aws_acm_certificate_validation", f"{logical_id}_issued")
        assert validation["certificate_arn"] == ref("aws_acm_certificate", logical_id, "arn")
        assert validation["depends_on"] == [f"aws_route53_record.{logical_id}_validation"]
        assert validation.get("provider") == certificate.get("provider")


@pytest.mark.requirement("R6.7")
def test_nothing_waits_for_validation_unless_it_serves_the_certificate(env: StackJson) -> None:
    """Only HTTPS listeners and distributions may reference a validation (it blocks until issued)."""
    servers = {"aws_lb_listener", "aws_lb_listener_certificate", "aws_cloudfront_distribution"}
    for resource_type, logical_id, body in env.all_resources():
        text = json.dumps(body)
        if "aws_acm_certificate_validation." in text:
            assert resource_type in servers, f"{resource_type}.{logical_id} waits for certificate validation"


# -- Secrets the app reads ----------------------------------------------------------------------

@pytest.mark.requirement("R6.3", "R6.4")
def test_app_secrets_live_under_the_environment_path_encrypted_with_the_secrets_key(env: StackJson, configs) -> None:
    config = configs[env.name]
    secrets = env.resources("aws_secretsmanager_secret")
    mine = {body["name"]: body for logical_id, body in secrets.items() if logical_id.startswith("app_secrets_")}
    assert set(mine) == {f"/directfanz/{env.name}/app/{variable}" for variable in APP_SECRETS}
    for body in mine.values():
        assert body["kms_key_id"] == ref("aws_kms_key", "keys_secrets_key", "arn")
        assert body["recovery_window_in_days"] == config.security.secret_recovery_window_days
    # Terraform never holds a value of these secrets.
    versions = [body for body in env.resources("aws_secretsmanager_secret_version").values()
                if "app_secrets_" in body["secret_id"]]
    assert versions == []


@pytest.mark.requirement("R6.3")
def test_service_roles_are_scoped_to_this_account_against_confused_deputies(env: StackJson, configs) -> None:
    account = configs[env.name].account_id
    for logical_id in ("network_flow_log_role", "audit_logs_role"):
        (statement,) = statements(env.resource("aws_iam_role", logical_id)["assume_role_policy"])
        condition = json.dumps(statement["Condition"])
        assert account in condition, logical_id
