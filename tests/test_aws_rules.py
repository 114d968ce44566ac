"""AWS rules a first apply in a real account depends on, which plan and checkov cannot see (issue 13).

Each test names the rule it proves and the AWS page that states it, and reads the synthesized JSON.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.cache import PARAMETER_GROUP
from modules.tracing import AWSPROXY_ENDPOINT
from modules.waf import BODY_SIZE_LABEL, BODY_SIZE_RULE, CORE_RULE_SET
from tests.stack_json import StackJson, ref

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"\$\{(\w+)\.(\w+)\.(\w+)\}")
SAMPLING_ACTIONS = {"xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"}
BODY_SIZE_LIMIT = 8 * 1024  # SizeRestrictions_BODY's own limit


def referenced(reference: str) -> tuple[str, str]:
    """(resource type, logical id) of a `${type.id.attribute}` reference."""
    found = REFERENCE.fullmatch(reference)
    assert found, f"not a reference: {reference}"
    return found.group(1), found.group(2)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def environment(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("environment", [])}


# -- Fault 1: the cache's user group --------------------------------------------------------------------

@pytest.mark.requirement("R3.3")
def test_the_valkey_user_group_holds_only_users_that_authenticate(env: StackJson) -> None:
    """ElastiCache RBAC: "A user group configured for the "VALKEY" engine can only contain users who are using an
    authentication mechanism (either password or IAM)"; for such a group "There is no default user requirement"
    (ElastiCache switches `default` off when it is attached).
    https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html

    An IAM-authenticated user's id must equal its name: CreateUser answers "User Id and User name must be same
    for authentication type: iam" (terraform-aws-modules/terraform-aws-elasticache#65).
    https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html
    """
    users = env.resources("aws_elasticache_user")
    groups = env.resources("aws_elasticache_user_group")
    assert groups
    for group in groups.values():
        assert group["engine"] == "valkey"
        for user_id in group["user_ids"]:
            user = users[referenced(user_id)[1]]
            mode = user["authentication_mode"]["type"]
            assert mode in ("password", "iam"), f"{user['user_id']} authenticates with {mode}"
            assert not user.get("no_password_required")
            if mode == "iam":
                assert user["user_id"] == user["user_name"]


@pytest.mark.requirement("R3.1")
def test_the_cache_serves_database_0_only_and_the_app_never_selects(env: StackJson) -> None:
    """Valkey 9.0 and later serve numbered databases in cluster mode, as many as `cluster-databases` allows, a
    setting fixed at creation (https://valkey.io/commands/select/; ElastiCache Valkey 9 parameters:
    https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ParameterGroups.Engine.html). Decision 0011 keeps
    the default parameter group and database 0: the app's user is refused SELECT (access-string rules apply left
    to right, https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html#Access-string), and
    decision 0011 and docs/streaming.md tell the app the same.
    """
    group = env.resource("aws_elasticache_replication_group", "cache_replication_group")
    assert group["parameter_group_name"] == PARAMETER_GROUP == "default.valkey9.cluster.on"
    assert env.resources("aws_elasticache_parameter_group") == {}  # no custom `cluster-databases`
    app_user = env.resource("aws_elasticache_user", "cache_app_user")
    assert app_user["access_string"].split()[-1] == "-select"  # last, so no later rule grants it back
    for document in ("docs/decisions/0011-valkey.md", "docs/streaming.md"):
        text = " ".join((ROOT / document).read_text().split())
        assert "database 0" in text and "`SELECT`" in text, document


# -- Fault 4: X-Ray remote sampling through the collector ------------------------------------------------

@pytest.mark.requirement("R7.2")
def test_the_app_samples_by_the_xray_rules_through_the_collectors_awsproxy(env: StackJson) -> None:
    """ADOT, "Configuring the OpenTelemetry Collector for X-Ray remote sampling": the SDK's X-Ray sampler reaches
    X-Ray through the collector's `awsproxy` extension, declared under `extensions` and enabled in
    `service.extensions`; the collector's role needs xray:GetSamplingRules, xray:GetSamplingTargets and
    xray:GetSamplingStatisticSummaries. https://aws-otel.github.io/docs/getting-started/remote-sampling

    The app chooses that sampler with OTEL_TRACES_SAMPLER=xray and OTEL_TRACES_SAMPLER_ARG=endpoint=<proxy>.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Application-Signals-SampleRate.html
    """
    # The release task definitions; the placeholders (decision 0021) run no app code and so no collector.
    tasks = {logical_id: task for logical_id, task in env.resources("aws_ecs_task_definition").items()
             if not logical_id.endswith("_placeholder")}
    assert tasks
    policies = {body["role"]: body for body in env.resources("aws_iam_role_policy").values()}
    for logical_id, task in tasks.items():
        containers = {container["name"]: container for container in json.loads(task["container_definitions"])}
        collector = containers.pop("otel-collector")
        config = yaml.safe_load(environment(collector)["AOT_CONFIG_CONTENT"])
        assert config["extensions"]["awsproxy"] == {"endpoint": AWSPROXY_ENDPOINT}, logical_id
        assert "awsproxy" in config["service"]["extensions"], logical_id
        (app,) = containers.values()
        app_environment = environment(app)
        assert app_environment["OTEL_TRACES_SAMPLER"] == "xray"
        assert app_environment["OTEL_TRACES_SAMPLER_ARG"] == f"endpoint=http://{AWSPROXY_ENDPOINT}"
        role = referenced(task["task_role_arn"])[1]
        statements = json.loads(policies[ref("aws_iam_role", role, "id")]["policy"])["Statement"]
        allowed = {action for statement in statements if statement["Effect"] == "Allow"
                   for action in as_list(statement["Action"])}
        assert allowed >= SAMPLING_ACTIONS, logical_id


# -- Fault 5: WAF and request bodies over 8 KB -----------------------------------------------------------

def _matches(statement: dict, path: str, labels: set[str]) -> bool:
    """The statements the project writes itself, evaluated for a request."""
    ((kind, body),) = statement.items()
    if kind == "and_statement":
        return all(_matches(inner, path, labels) for inner in as_list(body["statement"]))
    if kind == "or_statement":
        return any(_matches(inner, path, labels) for inner in as_list(body["statement"]))
    if kind == "not_statement":
        (inner,) = as_list(body["statement"])
        return not _matches(inner, path, labels)
    if kind == "label_match_statement":
        assert body["scope"] == "LABEL"
        return bool(body["key"] in labels)
    if kind == "regex_match_statement":
        assert body["field_to_match"] == {"uri_path": {}}
        return re.search(body["regex_string"], path) is not None
    raise AssertionError(f"no model of {kind}")


def _verdict(acl: dict, path: str, body_bytes: int) -> str:
    """Rules in priority order; of the managed groups only the core rule set's SizeRestrictions_BODY is modelled
    (it labels a body over 8 KB, and blocks unless its action is overridden); the rate limit is not reached."""
    labels: set[str] = set()
    for rule in sorted(acl["rule"], key=lambda rule: rule["priority"]):
        statement = rule["statement"]
        if "rate_based_statement" in statement:
            continue
        if "managed_rule_group_statement" in statement:
            group = statement["managed_rule_group_statement"]
            if group["name"] == CORE_RULE_SET and body_bytes > BODY_SIZE_LIMIT:
                labels.add(BODY_SIZE_LABEL)
                overrides = {override["name"]: override["action_to_use"]
                             for override in as_list(group.get("rule_action_override", []))}
                if "block" in overrides.get(BODY_SIZE_RULE, {"block": {}}) and rule["override_action"] == {"none": {}}:
                    return "block"
            continue
        if _matches(statement, path, labels):
            (action,) = rule["action"]
            if action == "block":
                return "block"
    return "allow"


@pytest.mark.requirement("R6.1")
@pytest.mark.parametrize(("path", "body_bytes", "verdict"), [
    ("/api/payments/webhooks", 40_000, "allow"),  # Stripe's signed events outgrow 8 KB
    ("/api/payments/webhooks", 500, "allow"),
    ("/api/messages", BODY_SIZE_LIMIT + 1, "block"),  # every other path keeps the 8 KB limit
    ("/api/upload", 5_000_000, "block"),  # uploads go to S3 with presigned URLs
    ("/", BODY_SIZE_LIMIT + 1, "block"),
    ("/api/payments/webhooks/", 40_000, "block"),  # exact paths only
    ("/api/payments/webhooks-replay", 40_000, "block"),
    ("/x/api/payments/webhooks", 40_000, "block"),
    ("/api/messages", BODY_SIZE_LIMIT, "allow"),
])
def test_bodies_over_8_kb_pass_only_on_the_paths_that_need_them(env: StackJson, path: str, body_bytes: int,
                                                              verdict: str) -> None:
    """AWS WAF core rule set: SizeRestrictions_BODY blocks bodies over 8 KB and labels the request
    `awswaf:managed:aws:core-rule-set:SizeRestrictions_Body`; a `rule_action_override` to Count keeps the label
    for later rules. https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html
    Body inspection stops at 8 KB behind a load balancer (fixed) and 16 KB at CloudFront (default).
    https://docs.aws.amazon.com/waf/latest/developerguide/waf-oversize-request-components.html
    Decision 0019: only LARGE_BODY_PATHS (stacks/services.py: the Stripe webhook) may carry more, on both ACLs.
    """
    acls = env.resources("aws_wafv2_web_acl").values()
    assert {acl["scope"] for acl in acls} == {"REGIONAL", "CLOUDFRONT"}
    for acl in acls:
        assert _verdict(acl, path, body_bytes) == verdict, (acl["scope"], path, body_bytes)
        assert "association_config" not in acl  # default inspection limits (decision 0019)
        (core,) = [rule["statement"]["managed_rule_group_statement"] for rule in acl["rule"]
                   if rule["statement"].get("managed_rule_group_statement", {}).get("name") == CORE_RULE_SET]
        # Only the size rule counts; the group's other rules keep blocking.
        assert [override["name"] for override in core["rule_action_override"]] == [BODY_SIZE_RULE]


# -- Fault 6: S3 server access logging waits for the target's policy ------------------------------------

@pytest.mark.requirement("R6.5")
def test_every_access_log_delivery_waits_for_the_target_buckets_policy(stacks: dict[str, StackJson]) -> None:
    """S3 server access logging: when the target bucket uses the bucket-owner-enforced Object Ownership setting,
    ACLs are off and the target's bucket policy must grant the logging service principal
    (logging.s3.amazonaws.com) s3:PutObject; target grants are refused.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
    PutBucketLogging checks the target's permissions and answers InvalidTargetBucketForLogging without them
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLogging.html; moto emulates the check), so the
    policy must exist before the logging configuration.
    """
    checked = 0
    for stack in stacks.values():
        policies = {body["bucket"]: logical_id for logical_id, body in stack.resources("aws_s3_bucket_policy").items()}
        ownership = {body["bucket"]: as_list(body["rule"])[0]["object_ownership"]
                     for body in stack.resources("aws_s3_bucket_ownership_controls").values()}
        for logical_id, logging in stack.resources("aws_s3_bucket_logging").items():
            if "${" not in logging["target_bucket"]:
                # A log bucket of a stack applied earlier (the migration stack logs to its environment's).
                assert stack.name == "migration", f"{stack.name}/{logical_id}"
                checked += 1
                continue
            resource_type, target = referenced(logging["target_bucket"])
            assert resource_type == "aws_s3_bucket"
            target_id = ref("aws_s3_bucket", target, "id")
            assert ownership[target_id] == "BucketOwnerEnforced"
            policy_id = policies[target_id]
            assert f"aws_s3_bucket_policy.{policy_id}" in logging.get("depends_on", []), f"{stack.name}/{logical_id}"
            statements = json.loads(stack.resource("aws_s3_bucket_policy", policy_id)["policy"])["Statement"]
            assert any(statement["Effect"] == "Allow"
                       and statement.get("Principal") == {"Service": "logging.s3.amazonaws.com"}
                       and "s3:PutObject" in as_list(statement["Action"]) for statement in statements), policy_id
            checked += 1
    assert checked == sum(len(stack.resources("aws_s3_bucket_logging")) for stack in stacks.values()) > 0


@pytest.mark.requirement("R6.5")
def test_the_load_balancer_waits_for_its_log_buckets_policy(env: StackJson) -> None:
    """Elastic Load Balancing: enabling access logs checks that the bucket policy lets the load balancer's log
    delivery write to the prefix, and CreateLoadBalancer/ModifyLoadBalancerAttributes fail with "Access Denied for
    bucket" otherwise. https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
    So the load balancer depends on the log bucket's policy that holds the grant.
    """
    load_balancer = env.resource("aws_lb", "load_balancer_alb")
    log_bucket = load_balancer["access_logs"]["bucket"]
    _, bucket_id = referenced(log_bucket)
    policy_id = next(logical_id for logical_id, body in env.resources("aws_s3_bucket_policy").items()
                     if body["bucket"] == ref("aws_s3_bucket", bucket_id, "id"))
    assert f"aws_s3_bucket_policy.{policy_id}" in load_balancer.get("depends_on", [])
    statements = json.loads(env.resource("aws_s3_bucket_policy", policy_id)["policy"])["Statement"]
    assert any(statement.get("Sid") == "LoadBalancerAccessLogs" for statement in statements)
