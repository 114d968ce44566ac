"""Apply rehearsal: Terraform applies synthesized stacks against a local AWS emulator, offline.

    python -m tools.terraform_apply [cdktf.out] [stack ...]

For each stack (all of them by default), on a fresh moto server of its own:
`terraform init`, `terraform apply -auto-approve` (the `ORDERING_PROBES` types
first, alone), then `terraform plan -refresh=true -detailed-exitcode` against
the same server, and prints

    apply: <stack>: N of M applied, K stood in

M is the stack's resources (a count/for_each resource is one), N those the
emulator now holds, K those moto cannot serve, applied as stand-ins. Exit 1 on
an apply error or a post-apply change that `EMULATOR_GAPS` does not explain.

The emulator is moto's server with the corrections in tools/moto_server.py
(where moto refuses what AWS accepts). The temporary copy is the offline plan's
(tools/terraform_plan.py: provider mirror, local backend, AWS calls to moto)
with three changes:
- the provider asks moto for the account (moto runs as the stack's account), so
  `allowed_account_ids` stays and ARNs carry the account;
- the provider retries a failed call `MAX_RETRIES` times, not 25: moto answers an
  operation it lacks with HTTP 500, which the SDK would otherwise retry for minutes;
- every resource of a type listed as a `StandIn` is replaced by a `terraform_data`
  resource (see `stand_in`): its arguments become the `input`, so every reference
  it makes still orders the apply, and what its dependents read from it comes
  from the `output`, so they are applied for real.

What the emulator cannot serve, or does not return as AWS would, is one list,
`EMULATOR_GAPS`, each entry with its reason; tests/test_terraform_apply.py fails
on an entry that no stack needs and on any error or change the list does not explain.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import json
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.terraform_plan import (
    StackCopy,
    TerraformFailed,
    Toolchain,
    ToolchainMissing,
    find_toolchain,
    moto_server,
    plan_copy,
)

MAX_RETRIES = 2
# Terraform's -parallelism: most of an apply is the provider's waiters (S3 lifecycle, RDS, KMS), not CPU.
PARALLELISM = 20
MOTO_SETTINGS = {
    # moto issues a DNS-validated certificate only this many seconds after the request (default 60):
    # aws_acm_certificate_validation would wait that long for no gain.
    "MOTO_ACM_VALIDATION_WAIT": "0",
    # AWS-managed policies exist, so attaching one that AWS does not have (a wrong name or path) fails.
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}
STAND_IN_TYPE = "terraform_data"
ORDERING_PROBES: dict[str, str] = {
    "aws_s3_bucket_logging":
        "PutBucketLogging needs the target bucket's policy to grant logging.s3.amazonaws.com "
        "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html); moto checks it",
}
"""Types applied first on their own (`terraform apply -target=...` on every resource of the type): Terraform then
creates only what they declare they depend on, so a dependency AWS checks at create time but the stack does not
declare fails every time, not only when the full apply happens to create it later. List a type (with the AWS
rule and the page) when moto checks such a dependency; the full apply follows the probe.
"""


@dataclass(frozen=True)
class StandIn:
    """A resource type moto cannot serve: applied as a `terraform_data` that keeps its arguments and references."""

    type: str
    unserved: str  # the operation moto lacks, "<moto service module>:<Operation>" ("" when moto has it but fails)
    reason: str
    # What dependents read that is not an argument: attribute -> template of a plausible value. Placeholders:
    # {region} {account} (of the resource's provider), {uuid} {number} (stable per address), {<argument>}.
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Unreturned:
    """A field moto does not return, or returns otherwise than it was applied: the post-apply plan changes it."""

    type: str
    path: str  # dot-separated attribute path, list indices left out; covers everything below it
    reason: str


EmulatorGap = StandIn | Unreturned

EMULATOR_GAPS: tuple[EmulatorGap, ...] = (
    # Backup
    StandIn("aws_backup_selection", "backup:CreateBackupSelection", "moto's Backup has no selections"),
    StandIn("aws_backup_restore_testing_plan", "backup:CreateRestoreTestingPlan", "moto's Backup has no restore testing"),
    StandIn("aws_backup_restore_testing_selection", "backup:CreateRestoreTestingSelection",
            "moto's Backup has no restore testing"),
    Unreturned("aws_backup_plan", "tags_all", "moto's Backup ListTags answers no tags for a plan created with tags"),
    Unreturned("aws_backup_vault", "tags_all", "moto's Backup ListTags answers no tags for a vault created with tags"),
    # Billing
    StandIn("aws_budgets_budget", "budgets:DescribeSubscribersForNotification",
            "moto's Budgets has no DescribeSubscribersForNotification, which the provider reads after creating"),
    StandIn("aws_ce_anomaly_monitor", "ce:CreateAnomalyMonitor", "moto's Cost Explorer has no anomaly detection",
            {"arn": "arn:aws:ce::{account}:anomalymonitor/{uuid}"}),
    StandIn("aws_ce_anomaly_subscription", "ce:CreateAnomalySubscription", "moto's Cost Explorer has no anomaly detection"),
    # CloudFront
    StandIn("aws_cloudfront_cache_policy", "cloudfront:CreateCachePolicy", "moto's CloudFront has no cache policies"),
    StandIn("aws_cloudfront_origin_request_policy", "cloudfront:CreateOriginRequestPolicy",
            "moto's CloudFront has no origin request policies"),
    StandIn("aws_cloudfront_response_headers_policy", "cloudfront:CreateResponseHeadersPolicy",
            "moto's CloudFront has no response headers policies"),
    StandIn("aws_cloudfront_monitoring_subscription", "cloudfront:CreateMonitoringSubscription",
            "moto's CloudFront has no monitoring subscriptions (additional metrics)"),
    Unreturned("aws_cloudfront_distribution", "default_cache_behavior.forwarded_values",
               "moto answers legacy ForwardedValues for a behavior that uses a cache policy instead"),
    Unreturned("aws_cloudfront_distribution", "ordered_cache_behavior.forwarded_values",
               "moto answers legacy ForwardedValues for a behavior that uses a cache policy instead"),
    Unreturned("aws_cloudfront_distribution", "origin.origin_access_control_id",
               "moto's origins keep no origin access control id"),
    Unreturned("aws_cloudfront_distribution", "viewer_certificate.cloudfront_default_certificate",
               "moto answers CloudFrontDefaultCertificate true beside an ACM certificate"),
    Unreturned("aws_cloudfront_key_group", "comment", "moto's key groups keep no comment"),
    Unreturned("aws_cloudfront_public_key", "comment", "moto's public keys keep no comment"),
    # CloudWatch and X-Ray
    StandIn("aws_cloudwatch_composite_alarm", "cloudwatch:PutCompositeAlarm", "moto's CloudWatch has no composite alarms",
            {"arn": "arn:aws:cloudwatch:{region}:{account}:alarm:{alarm_name}"}),
    StandIn("aws_cloudwatch_log_index_policy", "logs:PutIndexPolicy", "moto's CloudWatch Logs has no field index policies"),
    StandIn("aws_cloudwatch_query_definition", "logs:PutQueryDefinition",
            "moto's CloudWatch Logs has no saved Logs Insights queries"),
    StandIn("aws_synthetics_canary", "",
            "moto answers CreateCanary with timestamps the SDK cannot read (deserialization: expected Timestamp)"),
    StandIn("aws_xray_group", "xray:CreateGroup", "moto's X-Ray only takes trace segments: no groups"),
    StandIn("aws_xray_sampling_rule", "xray:CreateSamplingRule", "moto's X-Ray only takes trace segments: no sampling rules"),
    # Compute
    Unreturned("aws_ecs_service", "capacity_provider_strategy",
               "moto's ECS services keep no capacity provider strategy (they answer launch type EC2), so the plan "
               "replaces them"),
    Unreturned("aws_ecs_service", "availability_zone_rebalancing", "moto's ECS services keep no AZ rebalancing"),
    Unreturned("aws_ecs_service", "enable_ecs_managed_tags", "moto's ECS services keep no managed-tags setting"),
    Unreturned("aws_ecs_service", "health_check_grace_period_seconds",
               "moto's ECS services keep no health check grace period"),
    Unreturned("aws_ecs_service", "tags", "moto answers an empty tag list for a service created without tags; the "
               "replacement above plans none"),
    Unreturned("aws_lambda_function", "dead_letter_config", "moto's Lambda keeps no dead-letter configuration"),
    # Data
    Unreturned("aws_db_parameter_group", "parameter",
               "the provider reads back none of the parameters ModifyDBParameterGroup set on moto's DB parameter "
               "group (measured on the aurora-postgresql18 instance group; the cluster parameter group reads back)"),
    StandIn("aws_db_proxy_endpoint", "rds:CreateDBProxyEndpoint", "moto's RDS Proxy has no extra endpoints",
            {"endpoint": "{db_proxy_endpoint_name}.endpoint.proxy-{number}.{region}.rds.amazonaws.com"}),
    StandIn("aws_elasticache_replication_group", "",
            "moto lists the member clusters of a cluster-mode replication group but cannot describe them "
            "(DescribeCacheClusters: CacheClusterNotFound), and the provider reads the first one after creating",
            {"configuration_endpoint_address": "clustercfg.{replication_group_id}.{number}.cache.amazonaws.com"}),
    StandIn("aws_elasticache_user_group", "elasticache:CreateUserGroup", "moto's ElastiCache has no user groups"),
    Unreturned("aws_rds_cluster", "database_insights_mode", "moto's RDS keeps no Database Insights mode"),
    Unreturned("aws_rds_cluster", "performance_insights_enabled", "moto's RDS keeps no Performance Insights settings"),
    Unreturned("aws_rds_cluster", "performance_insights_kms_key_id", "moto's RDS keeps no Performance Insights settings"),
    Unreturned("aws_rds_cluster", "performance_insights_retention_period",
               "moto's RDS keeps no Performance Insights settings"),
    Unreturned("aws_rds_cluster", "scaling_configuration",
               "moto answers an empty Serverless v1 ScalingConfigurationInfo for a provisioned cluster, which the "
               "provider reads as a block of defaults"),
    Unreturned("aws_rds_cluster_instance", "performance_insights_enabled",
               "moto's RDS keeps no Performance Insights settings"),
    Unreturned("aws_rds_cluster_instance", "performance_insights_kms_key_id",
               "moto's RDS keeps no Performance Insights settings"),
    Unreturned("aws_rds_cluster_instance", "performance_insights_retention_period",
               "moto's RDS keeps no Performance Insights settings"),
    # Delivery
    Unreturned("aws_codebuild_project", "encryption_key",
               "moto's CodeBuild drops CreateProject's encryptionKey and answers the AWS-managed S3 key"),
    StandIn("aws_codepipeline", "",
            "moto answers GetPipeline with timestamps the SDK cannot read (deserialization: expected Timestamp)"),
    StandIn("aws_codestarconnections_connection", "codestarconnections:CreateConnection",
            "moto has no CodeStar Connections",
            {"arn": "arn:aws:codestar-connections:{region}:{account}:connection/{uuid}"}),
    # DNS
    StandIn("aws_route53_hosted_zone_dnssec", "route53:EnableHostedZoneDNSSEC", "moto's Route 53 cannot sign zones"),
    StandIn("aws_route53_key_signing_key", "route53:CreateKeySigningKey", "moto's Route 53 has no key-signing keys"),
    # Encryption
    Unreturned("aws_kms_key", "rotation_period_in_days",
               "moto's KMS keeps whether a key rotates, not the period (GetKeyRotationStatus has no RotationPeriodInDays)"),
    # Media
    StandIn("aws_media_convert_queue", "mediaconvert:CreateQueue", "moto has no MediaConvert",
            {"arn": "arn:aws:mediaconvert:{region}:{account}:queues/{name}"}),
    StandIn("aws_medialive_channel", "medialive:ListTagsForResource",
            "moto's MediaLive has no ListTagsForResource, which the provider reads after creating",
            {"id": "{number}", "arn": "arn:aws:medialive:{region}:{account}:channel:{number}"}),
    StandIn("aws_medialive_input", "medialive:ListTagsForResource",
            "moto's MediaLive has no ListTagsForResource, which the provider reads after creating",
            {"id": "{number}"}),
    StandIn("aws_medialive_input_security_group", "medialive:CreateInputSecurityGroup",
            "moto's MediaLive has no input security groups", {"id": "{number}"}),
    # Network
    Unreturned("aws_vpc_security_group_egress_rule", "description",
               "moto answers a rule's description from its CIDR range only: a rule to a security group comes back "
               "without it"),
    Unreturned("aws_vpc_security_group_ingress_rule", "description",
               "moto answers a rule's description from its CIDR range only: a rule from a security group comes back "
               "without it"),
    # Storage
    StandIn("aws_s3_bucket_intelligent_tiering_configuration", "s3:PutBucketIntelligentTieringConfiguration",
            "moto's S3 answers PutBucketIntelligentTieringConfiguration with 200 and keeps nothing, so every read "
            "finds none"),
    Unreturned("aws_s3_bucket_notification", "eventbridge",
               "moto keeps EventBridgeConfiguration but GetBucketNotificationConfiguration leaves it out"),
    Unreturned("aws_s3_bucket_replication_configuration", "rule.delete_marker_replication.status",
               "moto answers DeleteMarkerReplication Disabled whatever was put"),
    Unreturned("aws_s3_bucket_replication_configuration", "rule.source_selection_criteria",
               "moto's replication rules keep no SourceSelectionCriteria (replicating SSE-KMS objects)"),
)
"""Everything the emulator cannot do as AWS would, in one list.

- `StandIn(type, ...)`: every resource of the type is applied as a stand-in. Add one
  when moto answers a create or read of the type with an error (`unserved` names the
  operation it lacks, so the test notices when a moto upgrade serves it). Give
  `attributes` for what dependents read that is not one of its arguments.
- `Unreturned(type, path, ...)`: the post-apply plan changes `path` of resources of
  the type because moto does not return what was applied.
Never list what a real apply would also reject: that is a defect of the stacks.
"""


class StandInIncomplete(Exception):
    """A dependent reads an attribute of a stood-in resource that the stand-in cannot give."""


# -- the stand-ins --

_META_ARGUMENTS = ("//", "count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection")


def _template_values(stack: str, address: str, body: dict[str, Any], region: str, account: str) -> dict[str, str]:
    digest = hashlib.sha256(f"{stack}/{address}".encode()).hexdigest()
    values = {key: value for key, value in body.items() if isinstance(value, str)}
    values.update(region=region, account=account, number=str(1000000 + int(digest[:8], 16) % 9000000),
                  uuid=f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}")
    return values


def stand_in(document: dict[str, Any], stand_ins: tuple[StandIn, ...], stack: str = "") -> dict[str, list[str]]:
    """Replace, in place, every resource of the listed types by a `terraform_data`; {type: addresses replaced}.

    `aws_x.y` becomes `terraform_data.aws_x__y` with
    - `input`: its arguments (nested blocks as lists of objects), plus a plausible value for each attribute
      in `StandIn.attributes` and an `id` ({uuid} unless listed). References inside stay references, so
      Terraform still applies what it refers to first;
    - its `depends_on`, `count` and `for_each` (the provider, lifecycle and provisioners go: terraform_data
      takes none of an AWS resource's);
    and every reference to it elsewhere is rewritten: `aws_x.y.attr` reads `terraform_data.aws_x__y.output.attr`,
    `depends_on = ["aws_x.y"]` waits for the stand-in. A reference to an attribute that is neither an
    argument nor listed raises StandInIncomplete, naming the entry to extend.
    """
    resources = document.get("resource", {})
    regions = {("aws." + provider["alias"]) if "alias" in provider else "aws": provider.get("region", "")
               for provider in document.get("provider", {}).get("aws", [])}
    account = next((provider["allowed_account_ids"][0] for provider in document.get("provider", {}).get("aws", [])
                    if provider.get("allowed_account_ids")), "123456789012")
    replaced: dict[str, str] = {}  # aws_x.y -> terraform_data.aws_x__y
    readable: dict[str, set[str]] = {}  # aws_x.y -> attributes its stand-in gives
    entries: dict[str, StandIn] = {}
    for entry in stand_ins:
        for name, body in resources.pop(entry.type, {}).items():
            address, data_name = f"{entry.type}.{name}", f"{entry.type}__{name}"
            values = _template_values(stack, address, body, regions.get(body.get("provider", "aws"), ""), account)
            attributes = {"id": "{uuid}", **entry.attributes}
            arguments = {key: value for key, value in body.items() if key not in _META_ARGUMENTS}
            synthetic = {key: template.format_map(values) for key, template in attributes.items()
                         if key not in arguments}
            data: dict[str, Any] = {"input": {**arguments, **synthetic}}
            data.update({key: body[key] for key in ("//", "count", "for_each", "depends_on") if key in body})
            resources.setdefault(STAND_IN_TYPE, {})[data_name] = data
            replaced[address] = f"{STAND_IN_TYPE}.{data_name}"
            readable[address] = set(arguments) | set(synthetic)
            entries[address] = entry
    if not replaced:
        return {}
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(re.escape(address) for address in replaced)
                         + r")(?![\w-])((?:\[[^\]]*\])?)(?:\.(\w+))?")

    def rewrite(match: re.Match[str]) -> str:
        address, index, attribute = match[1], match[2], match[3]
        if attribute is not None and attribute not in readable[address]:
            raise StandInIncomplete(
                f"{stack}: `{match[0]}` is read, but the stand-in for {address} has no `{attribute}`: add it to "
                f"the attributes of StandIn({entries[address].type!r}) in EMULATOR_GAPS (tools/terraform_apply.py)")
        return f"{replaced[address]}{index}.output" + (f".{attribute}" if attribute else "")

    def walk(node: Any, in_depends_on: bool = False) -> Any:
        if isinstance(node, dict):
            return {key: walk(value, key == "depends_on") for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value, in_depends_on) for value in node]
        if isinstance(node, str):
            if in_depends_on:
                return replaced.get(node, node)
            if "${" in node:
                return pattern.sub(rewrite, node)
        return node

    for section in ("resource", "output", "locals", "module"):
        if section in document:
            document[section] = walk(document[section])
    by_type: dict[str, list[str]] = {}
    for address, entry in entries.items():
        by_type.setdefault(entry.type, []).append(address)
    return by_type


def moto_serves(operation: str) -> bool:
    """Whether the installed moto has `<moto service module>:<Operation>`: a method of that name (snake_case)
    in the service's responses or backend, which is how moto implements an operation."""
    from moto.core.utils import camelcase_to_underscores

    service, _, name = operation.partition(":")
    if importlib.util.find_spec(f"moto.{service}") is None:
        return False
    method = camelcase_to_underscores(name)
    return any(isinstance(member, type) and member.__module__ == module.__name__ and hasattr(member, method)
               for module in (importlib.import_module(f"moto.{service}.{part}") for part in ("responses", "models"))
               for member in vars(module).values())


def gaps_of(gaps: tuple[EmulatorGap, ...] = EMULATOR_GAPS) -> tuple[tuple[StandIn, ...], tuple[Unreturned, ...]]:
    return (tuple(gap for gap in gaps if isinstance(gap, StandIn)),
            tuple(gap for gap in gaps if isinstance(gap, Unreturned)))


def apply_copy(document: dict[str, Any], toolchain: Toolchain, state_path: Path, stack: str = "",
               gaps: tuple[EmulatorGap, ...] = EMULATOR_GAPS) -> dict[str, Any]:
    """The stack as the rehearsal applies it; `document` itself is left as synthesized."""
    applied = plan_copy(document, toolchain, state_path)
    for provider, synthesized in zip(applied["provider"]["aws"], document["provider"]["aws"], strict=True):
        provider.update(skip_requesting_account_id=False, max_retries=MAX_RETRIES)
        if "allowed_account_ids" in synthesized:
            provider["allowed_account_ids"] = synthesized["allowed_account_ids"]
    stand_in(applied, gaps_of(gaps)[0], stack)
    return applied


def account_of(document: dict[str, Any]) -> str:
    """The one account the stack's providers allow (moto runs as it)."""
    accounts = {account for provider in document["provider"]["aws"]
                for account in provider.get("allowed_account_ids", [])}
    if len(accounts) > 1:
        raise ValueError(f"the providers allow several accounts {sorted(accounts)}: the rehearsal runs as one")
    return accounts.pop() if accounts else "123456789012"


# -- applying --

@dataclass(frozen=True)
class ApplyError:
    address: str  # the resource Terraform names ("" when it names none)
    message: str  # the summary line and detail

    @property
    def type(self) -> str:
        return self.address.split(".")[0]


@dataclass(frozen=True)
class Change:
    """A change the post-apply plan would make: the resource, and a changed attribute path."""

    address: str
    type: str
    path: str
    actions: tuple[str, ...]


@dataclass
class ApplyResult:
    stack: str
    resources: int  # M: resources of the synthesized stack
    applied: list[str] = field(default_factory=list)  # N: AWS resources in the state afterwards
    stood_in: list[str] = field(default_factory=list)  # K: resources applied as stand-ins
    errors: list[ApplyError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)  # post-apply plan, on what was applied
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def line(self) -> str:
        return f"apply: {self.stack}: {len(self.applied)} of {self.resources} applied, {len(self.stood_in)} stood in"

    def unexplained_changes(self, gaps: tuple[EmulatorGap, ...] = EMULATOR_GAPS) -> list[Change]:
        unreturned = gaps_of(gaps)[1]
        return [change for change in self.changes if explaining(change, unreturned) is None]


def explaining(change: Change, unreturned: tuple[Unreturned, ...]) -> Unreturned | None:
    return next((gap for gap in unreturned if gap.type == change.type
                 and (change.path == gap.path or change.path.startswith(gap.path + "."))), None)


def _errors(stderr: str) -> list[ApplyError]:
    errors = []
    for section in re.split(r"^Error: ", stderr, flags=re.MULTILINE)[1:]:
        found = re.search(r"^\s+with ([^,\s]+),", section, re.MULTILINE)
        message = re.sub(r"\n\s+with [^\n]*\n\s+on [^\n]*(\n\s*\d+:[^\n]*)*", "", section).strip()
        message = re.sub(r"(RequestID|HostID): [^,]*, ", "", re.sub(r"\s*\n\s*", " ", message))  # differ per call
        errors.append(ApplyError(found[1] if found else "", message[:1500]))
    return errors


def _changed_paths(before: Any, after: Any, unknown: Any, path: str = "") -> Iterator[str]:
    """Paths whose planned value is known and differs; unknown values follow from another change."""
    if unknown is True:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from _changed_paths(before.get(key), after.get(key),
                                      unknown.get(key) if isinstance(unknown, dict) else None,
                                      f"{path}.{key}" if path else key)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from _changed_paths(old, new, unknown[index] if isinstance(unknown, list) else None, path)
    elif before != after:
        yield path


def _changes(plan: dict[str, Any]) -> list[Change]:
    changes = []
    for change in plan.get("resource_changes", []):
        actions = tuple(change["change"]["actions"])
        # A resource still to create is one the apply did not get to (its error is reported); what was applied
        # and would change again is what moto does not return as applied.
        if change["mode"] != "managed" or actions in (("no-op",), ("read",), ("create",)):
            continue
        detail = change["change"]
        replaced = {".".join(str(step) for step in path if not isinstance(step, int))
                    for path in detail.get("replace_paths", [])}
        paths = replaced | set(_changed_paths(detail.get("before"), detail.get("after"), detail.get("after_unknown")))
        changes += [Change(change["address"], change["type"], path, actions) for path in sorted(paths or {""})]
    return changes


def _state_addresses(state: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(AWS resources, stood-in resources) in the state, each as the synthesized `type.name`; tainted left out."""
    applied, stood_in = [], []
    for resource in state["resources"]:
        if resource["mode"] != "managed" or not resource["instances"] or any(
                instance.get("status") == "tainted" for instance in resource["instances"]):
            continue
        if resource["type"] == STAND_IN_TYPE and "__" in resource["name"]:
            stood_in.append(".".join(resource["name"].split("__", 1)))
        else:
            applied.append(f"{resource['type']}.{resource['name']}")
    return sorted(applied), sorted(stood_in)


def apply_stack(outdir: Path, stack: str, toolchain: Toolchain, aws_endpoint: str, workdir: Path,
                parallelism: int = PARALLELISM, gaps: tuple[EmulatorGap, ...] = EMULATOR_GAPS) -> ApplyResult:
    """init and apply one stack from a temporary copy in `workdir`/<stack> against the emulator at `aws_endpoint`,
    then plan it again, refreshing, against the same emulator (`apply_in`)."""
    stack_copy = StackCopy.write(outdir, stack, toolchain, aws_endpoint, workdir,
                                 lambda synthesized, chain, state: apply_copy(synthesized, chain, state, stack, gaps))
    return apply_in(stack_copy, json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text()), parallelism, gaps)


def apply_in(stack_copy: StackCopy, document: dict[str, Any], parallelism: int = PARALLELISM,
             gaps: tuple[EmulatorGap, ...] = EMULATOR_GAPS, init: tuple[str, ...] = ()) -> ApplyResult:
    """init (with `init` arguments) and apply a stack's prepared copy (the `ORDERING_PROBES` types first, on their
    own), then plan it again, refreshing, against the same emulator. `document` is the stack as synthesized.

    Stacks applied in turn against one emulator build on each other (state, then an environment, then delivery:
    tools/bootstrap.py). Raises TerraformFailed when init fails, or the post-apply plan of an apply without errors;
    apply errors are in the result (after a failed apply, a resource moto holds but cannot read back can fail the
    plan too).
    """
    stack = stack_copy.stack
    result = ApplyResult(stack, sum(len(by_name) for by_name in document.get("resource", {}).values()),
                         seconds=stack_copy.seconds)
    stack_copy.init(*init)
    probed = [f"-target={resource_type}.{name}" for resource_type in ORDERING_PROBES
              for name in document.get("resource", {}).get(resource_type, {})
              if resource_type not in {gap.type for gap in gaps_of(gaps)[0]}]
    for label, targets in (("ordering probe", probed), ("apply", [])):
        if label == "apply" or targets:
            apply = stack_copy.terraform("apply", "-auto-approve", "-input=false", "-lock=false",
                                         f"-parallelism={parallelism}", *targets, label=label, exit_codes=(0, 1))
            errors = _errors(apply.stderr)
            if apply.returncode == 1 and not errors:
                raise TerraformFailed(f"{stack}: terraform {label} failed without naming an error:\n"
                                      + apply.stderr[-4000:])
            result.errors += [error for error in errors if error not in result.errors]
    # Pulled, not read from a file: the state may be in the stack's S3 backend (tools/bootstrap.py).
    pulled = stack_copy.terraform("state", "pull").stdout.strip()
    result.applied, result.stood_in = _state_addresses(json.loads(pulled) if pulled else {"resources": []})
    plan = stack_copy.terraform("plan", "-refresh=true", "-detailed-exitcode", "-input=false", "-lock=false",
                                f"-parallelism={parallelism}", "-out=post-apply.tfplan", label="post-apply plan",
                                exit_codes=(0, 1, 2) if result.errors else (0, 2))
    if plan.returncode == 2:
        result.changes = _changes(json.loads(stack_copy.terraform("show", "-json", "post-apply.tfplan").stdout))
    return result


def rehearse(outdir: Path, stack: str, toolchain: Toolchain, workdir: Path, parallelism: int = PARALLELISM,
             gaps: tuple[EmulatorGap, ...] = EMULATOR_GAPS) -> ApplyResult:
    """`apply_stack` against a fresh moto server of its own, running as the stack's account."""
    document = json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text())
    settings = {**MOTO_SETTINGS, "MOTO_ACCOUNT_ID": account_of(document)}
    started = time.monotonic()
    with moto_server(workdir / f"moto-{stack}.log", settings) as endpoint:
        result = apply_stack(outdir, stack, toolchain, endpoint, workdir, parallelism, gaps)
    result.seconds["total"] = time.monotonic() - started
    return result


def report(result: ApplyResult, gaps: tuple[EmulatorGap, ...] = EMULATOR_GAPS) -> list[str]:
    """The summary line, then one line per error and per change the list does not explain."""
    steps = ", ".join(f"{step} {seconds:.0f}" for step, seconds in result.seconds.items() if step != "total")
    lines = [result.line + f" ({result.seconds.get('total', 0):.0f} s: {steps})"]
    lines += [f"  error: {error.address}: {error.message}" for error in result.errors]
    lines += [f"  change: {change.address}: {change.path or '(whole resource)'} ({'/'.join(change.actions)})"
              for change in result.unexplained_changes(gaps)]
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.terraform_apply", description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", default="cdktf.out", type=Path)
    parser.add_argument("stacks", nargs="*")
    parser.add_argument("--parallelism", type=int, default=PARALLELISM,
                        help=f"terraform -parallelism (default {PARALLELISM})")
    parser.add_argument("--jobs", type=int, default=1, help="stacks rehearsed at once (default 1)")
    parser.add_argument("--without-stand-in", action="append", default=[], metavar="TYPE",
                        help="apply this type for real although EMULATOR_GAPS stands it in (to see whether moto "
                        "serves it now); repeatable")
    parser.add_argument("--workdir", type=Path, help="keep the copies, states and moto logs here (default: a "
                        "temporary folder, removed afterwards)")
    arguments = parser.parse_args(argv)
    stacks = arguments.stacks or sorted(path.parent.name for path in (arguments.outdir / "stacks").glob("*/cdk.tf.json"))
    if not stacks:
        print(f"no synthesized stacks in {arguments.outdir}/stacks: run `python main.py` first", file=sys.stderr)
        return 2
    try:
        toolchain = find_toolchain()
    except ToolchainMissing as missing:
        print(f"cannot rehearse offline: {missing}", file=sys.stderr)
        return 2
    failed = False
    with tempfile.TemporaryDirectory(prefix="terraform-apply-") as scratch, \
            ThreadPoolExecutor(max_workers=arguments.jobs) as pool:
        workdir = arguments.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        gaps = tuple(gap for gap in EMULATOR_GAPS
                     if not (isinstance(gap, StandIn) and gap.type in arguments.without_stand_in))
        futures = [pool.submit(rehearse, arguments.outdir, stack, toolchain, workdir, arguments.parallelism, gaps)
                   for stack in stacks]
        for future in futures:
            try:
                result = future.result()
            except (TerraformFailed, StandInIncomplete, ToolchainMissing) as failure:
                print(failure, file=sys.stderr)
                failed = True
                continue
            print("\n".join(report(result, gaps)), flush=True)
            failed = failed or bool(result.errors or result.unexplained_changes(gaps))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
