"""Monthly cost estimate per stack, from the synthesized JSON and `pricing/prices.toml`.

    python -m tools.views.cost                  # synthesizes, then writes docs/cost-estimate.md
    python -m tools.views.cost --synth cdktf.out --stdout

An estimate, labelled as one: on-demand list prices of the primary region
(each dated and sourced in the price table) times what the JSON says (task
sizes and autoscaling minimums, instance classes, node counts, gateways,
endpoints, keys) times usage assumptions the JSON cannot know (traffic,
stored GB, live hours), which sit per environment in the same table.

Lines are grouped by category and listed largest first; the savings section
shows what Fargate Spot, S3 Intelligent-Tiering and sizing (autoscaling
minimums, smaller non-production sizes) save. Resource types no line prices are
listed, so that a new priced type cannot hide.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.views.synth import REFERENCE, ROOT, Resource, Stack, read_stacks, synthesize_working_tree

PRICES = ROOT / "pricing" / "prices.toml"
OUTPUT = ROOT / "docs" / "cost-estimate.md"
ORDER = ("dev", "staging", "prod")


@dataclass(frozen=True)
class Line:
    category: str
    item: str
    basis: str  # how the number was reached
    usd: float


@dataclass(frozen=True)
class Saving:
    lever: str
    detail: str
    usd: float


@dataclass
class Estimate:
    stack: str
    lines: list[Line] = field(default_factory=list)
    savings: list[Saving] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(line.usd for line in self.lines), 2)

    def by_category(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.category] = totals.get(line.category, 0.0) + line.usd
        return dict(sorted(totals.items(), key=lambda item: -item[1]))


class PriceTable:
    def __init__(self, path: Path = PRICES) -> None:
        self.path = path
        self.table = tomllib.loads(path.read_text())
        self.hours = float(self.table["meta"]["hours_per_month"])
        self.compiled = str(self.table["meta"]["compiled"])

    def __call__(self, name: str) -> float:
        try:
            return float(self.table["price"][name]["usd"])
        except KeyError:
            raise KeyError(f"{self.path.name}: no [price.{name}]") from None

    def hourly(self, table: str, instance_class: str) -> float:
        prices = self.table["instance"][table]
        if instance_class not in prices:
            raise KeyError(f"{self.path.name}: no price for {instance_class} in [instance.{table}]: add it")
        return float(prices[instance_class])

    def usage(self, stack: str) -> dict[str, Any]:
        return dict(self.table.get("usage", {}).get(stack, {}))


def _money(usd: float) -> str:
    return f"${usd:,.2f}"


def _referenced(value: Any, resource_type: str) -> list[str]:
    """Logical ids of `resource_type` that a value refers to."""
    return [logical_id for kind, logical_id in REFERENCE.findall(str(value)) if kind == resource_type]


def _scaling_target(stack: Stack, namespace: str, refers_to: Resource) -> Resource | None:
    """The autoscaling target of a resource: its resource_id names it by reference or by its name."""
    names = {str(refers_to.body.get(key)) for key in ("name", "replication_group_id", "cluster_identifier")}
    for target in stack.of_type("aws_appautoscaling_target"):
        resource_id = str(target.body.get("resource_id", ""))
        depends = " ".join(target.body.get("depends_on", []))
        if target.body.get("service_namespace") == namespace and (
            refers_to.address in resource_id or refers_to.address in depends
            or any(name and name != "None" and resource_id.endswith(name) for name in names)
        ):
            return target
    return None


def _split(tasks: int, strategy: list[dict[str, Any]]) -> tuple[float, float]:
    """(on-demand, Spot) tasks on average for a count under a capacity-provider strategy (base first, then weights)."""
    if not strategy:
        return float(tasks), 0.0
    by_provider = {item["capacity_provider"]: item for item in strategy}
    on_demand, spot = by_provider.get("FARGATE", {}), by_provider.get("FARGATE_SPOT", {})
    base = min(tasks, int(on_demand.get("base") or 0))
    weights = int(on_demand.get("weight") or 0), int(spot.get("weight") or 0)
    spot_tasks = (tasks - base) * weights[1] / sum(weights) if sum(weights) else 0.0
    return tasks - spot_tasks, spot_tasks


Pricer = Callable[[Stack, PriceTable, dict[str, Any]], tuple[list[Line], list[Saving], set[str]]]


def compute(stack: Stack, price: PriceTable, usage: dict[str, Any]) -> tuple[list[Line], list[Saving], set[str]]:
    lines: list[Line] = []
    savings: list[Saving] = []
    task_definitions = {resource.id: resource.body for resource in stack.of_type("aws_ecs_task_definition")}
    cluster_strategies = {
        cluster: resource.body.get("default_capacity_provider_strategy", [])
        for resource in stack.of_type("aws_ecs_cluster_capacity_providers")
        for cluster in _referenced(resource.body.get("cluster_name"), "aws_ecs_cluster")
    }
    discount = price("fargate_spot_discount")
    for service in stack.of_type("aws_ecs_service"):
        body = service.body
        task = next((task_definitions[i] for i in _referenced(body.get("task_definition"), "aws_ecs_task_definition")
                     if i in task_definitions), None)
        if task is None:
            continue
        vcpu, memory_gb = int(task["cpu"]) / 1024, int(task["memory"]) / 1024
        arm = (task.get("runtime_platform") or {}).get("cpu_architecture") == "ARM64"
        prefix = "fargate_arm" if arm else "fargate"
        task_hour = vcpu * price(f"{prefix}_vcpu_hour") + memory_gb * price(f"{prefix}_gb_hour")
        target = _scaling_target(stack, "ecs", service)
        low = int(target.body["min_capacity"]) if target else int(body.get("desired_count", 1))
        high = int(target.body["max_capacity"]) if target else low
        strategy: list[dict[str, Any]] = body.get("capacity_provider_strategy") or next(
            (cluster_strategies[c] for c in _referenced(body.get("cluster"), "aws_ecs_cluster") if c in cluster_strategies), [])

        def monthly(tasks: int, strategy: list[dict[str, Any]] = strategy, task_hour: float = task_hour) -> float:
            on_demand, spot_tasks = _split(tasks, strategy)
            return (on_demand + spot_tasks * (1 - discount)) * task_hour * price.hours

        on_demand, spot_tasks = _split(low, strategy)
        name = body.get("name", service.id)
        lines.append(Line("Compute", f"Fargate: {name}",
                          f"{low} task(s) at the autoscaling minimum ({on_demand:g} on-demand, {spot_tasks:g} Spot on average) x "
                          f"{vcpu:g} vCPU/{memory_gb:g} GB{' ARM' if arm else ''}", monthly(low)))
        for tasks, when in ((low, "at the minimum"), (high, "at the maximum")):
            _, spot_at = _split(tasks, strategy)
            if spot_at:
                savings.append(Saving("Fargate Spot", f"{name}: {spot_at:g} of {tasks} tasks on Spot {when}",
                                      spot_at * discount * task_hour * price.hours))
        if high > low:
            savings.append(Saving("Sizing", f"{name}: autoscaling runs {low} tasks, not {high}, when idle",
                                  monthly(high) - monthly(low)))
    return lines, savings, {"aws_ecs_service", "aws_ecs_task_definition"}


def database(stack: Stack, price: PriceTable, usage: dict[str, Any]) -> tuple[list[Line], list[Saving], set[str]]:
    lines: list[Line] = []
    savings: list[Saving] = []
    instances = stack.of_type("aws_rds_cluster_instance")
    for cluster in stack.of_type("aws_rds_cluster"):
        members = [i for i in instances if cluster.id in _referenced(i.body.get("cluster_identifier"), "aws_rds_cluster")]
        if not members:
            continue
        classes = [str(member.body["instance_class"]) for member in members]
        hourly = sum(price.hourly("aurora_postgresql", c) for c in classes)
        lines.append(Line("Database", f"Aurora PostgreSQL: {cluster.id}",
                          f"{len(classes)} instance(s): {', '.join(sorted(set(classes)))} (writer and readers)",
                          hourly * price.hours))
        gb, io = float(usage.get("aurora_storage_gb", 0)), float(usage.get("aurora_io_million", 0))
        lines.append(Line("Database", "Aurora storage and I/O", f"{gb:g} GB, {io:g} million I/O (assumed)",
                          gb * price("aurora_storage_gb_month") + io * price("aurora_io_million")))
        target = _scaling_target(stack, "rds", cluster) or next(
            (t for t in stack.of_type("aws_appautoscaling_target") if t.body.get("service_namespace") == "rds"), None)
        if target:
            extra = int(target.body["max_capacity"]) - (len(members) - 1)
            if extra > 0:
                savings.append(Saving("Sizing", f"{cluster.id}: reader autoscaling adds up to {extra} readers only under load",
                                      extra * price.hourly("aurora_postgresql", classes[-1]) * price.hours))
        for proxy in stack.of_type("aws_db_proxy"):
            vcpus = sum(int(price.table["instance"]["db_vcpus"][c]) for c in classes)
            lines.append(Line("Database", f"RDS Proxy: {proxy.id}", f"{vcpus} vCPUs behind it",
                              vcpus * price("rds_proxy_vcpu_hour") * price.hours))
    if stack.of_type("aws_backup_plan") and "aurora_storage_gb" in usage:
        gb = float(usage["aurora_storage_gb"])
        lines.append(Line("Database", "Backups: copies in the backup vaults",
                          f"{gb:g} GB per vault x {len(stack.of_type('aws_backup_vault'))} vault(s) (assumed: one full copy each)",
                          gb * len(stack.of_type("aws_backup_vault")) * price("backup_gb_month")))
    return lines, savings, {"aws_rds_cluster", "aws_rds_cluster_instance", "aws_db_proxy", "aws_backup_plan", "aws_backup_vault"}


def cache(stack: Stack, price: PriceTable, usage: dict[str, Any]) -> tuple[list[Line], list[Saving], set[str]]:
    lines: list[Line] = []
    savings: list[Saving] = []
    for group in stack.of_type("aws_elasticache_replication_group"):
        body = group.body
        engine = str(body.get("engine", "redis"))
        per_shard = int(body.get("replicas_per_node_group", 0)) + 1
        shards = int(body.get("num_node_groups", 1)) if "num_node_groups" in body else 1
        nodes = shards * per_shard if "num_node_groups" in body else int(body.get("num_cache_clusters", 1))
        node_hour = price.hourly(f"elasticache_{engine}", str(body["node_type"]))
        lines.append(Line("Cache", f"ElastiCache ({engine}): {group.id}",
                          f"{shards} shard(s) x {per_shard} node(s) of {body['node_type']}", nodes * node_hour * price.hours))
        target = _scaling_target(stack, "elasticache", group)
        if target and int(target.body["max_capacity"]) > shards:
            extra = (int(target.body["max_capacity"]) - shards) * per_shard
            savings.append(Saving("Sizing", f"{group.id}: shard autoscaling adds up to {extra} nodes only under load",
                                  extra * node_hour * price.hours))
    return lines, savings, {"aws_elasticache_replication_group"}


def network(stack: Stack, price: PriceTable, usage: dict[str, Any]) -> tuple[list[Line], list[Saving], set[str]]:
    lines: list[Line] = []
    gateways = stack.of_type("aws_nat_gateway")
    if gateways:
        gb = float(usage.get("nat_gb", 0))
        lines.append(Line("NAT", "NAT gateways", f"{len(gateways)} gateway(s), {gb:g} GB processed (assumed)",
                          len(gateways) * price("nat_gateway_hour") * price.hours + gb * price("nat_gateway_gb")))
    addresses = stack.of_type("aws_eip")
    if addresses:
        lines.append(Line("NAT", "Public IPv4 addresses (Elastic IPs)", f"{len(addresses)} address(es)",
                          len(addresses) * price("public_ipv4_hour") * price.hours))
    interface = [e for e in stack.of_type("aws_vpc_endpoint") if e.body.get("vpc_endpoint_type") == "Interface"]
    if interface:
        zone_hours = sum(len(e.body.get("subnet_ids", [])) or 1 for e in interface)
        lines.append(Line("Network endpoints", "VPC interface endpoints",
                          f"{len(interface)} endpoint(s), {zone_hours} endpoint-zones",
                          zone_hours * price("interface_endpoint_hour") * price.hours))
    return lines, [], {"aws_nat_gateway", "aws_eip", "aws_vpc_endpoint"}


def load_balancer(stack: Stack, price: PriceTable, usage: dict[str, Any]) -> tuple[list[Line], list[Saving], set[str]]:
    lines: list[Line] = []
    for balancer in stack.of_type("aws_lb", "aws_alb"):
        lcu = float(usage.get("alb_lcu", 1))
        zones = len(balancer.body.get("subnets", [])) or 2
        public = 0 if balancer.body.get("internal") else zones
        lines.append(Line("Load balancer", f"Application Load Balancer: {balancer.id}",
                          f"1 ALB, {lcu:g} LCU average (assumed), {public} public IPv4 address(es)",
                          (price("alb_hour") + lcu * price("alb_lcu_hour") + public * price("public_ipv4_hour")) * price.hours))
    return lines, [], {"aws_lb", "aws_alb"}


def edge(stack: Stack, price: PriceTable, usage: dict[str, Any]) -> tuple[list[Line], list[Saving], set[str]]:
    lines: list[Line] = []
    if stack.of_type("aws_cloudfront_distribution"):
        gb, requests = float(usage.get("cloudfront_gb", 0)), float(usage.get("cloudfront_requests_million", 0))
        lines.append(Line("CloudFront", f"CloudFront ({len(stack.of_type('aws_cloudfront_distribution'))} distribution(s))",
                          f"{gb:g} GB out, {requests:g} million HTTPS requests (assumed)",
                          gb * price("cloudfront_gb") + requests * price("cloudfront_https_million")))
    for acl in stack.of_type("aws_wafv2_web_acl"):
        rules = len(acl.body.get("rule", []))
        # Requests are billed on the edge ACL; the regional ACL sees only what CloudFront forwards (cache misses).
        requests = float(usage.get("waf_requests_million", 0)) if acl.body.get("scope") == "CLOUDFRONT" else 0.0
        lines.append(Line("WAF", f"WAF web ACL: {acl.id}", f"1 ACL, {rules} rule(s), {requests:g} million requests",
                          price("waf_acl_month") + rules * price("waf_rule_month") + requests * price("waf_requests_million")))
    zones = stack.of_type("aws_route53_zone")
    checks = stack.of_type("aws_route53_health_check")
    if zones or checks:
        features = [feature for check in checks for feature in health_check_features(check.body)]
        named = ", ".join(f"{features.count(name)} {name}" for name in sorted(set(features))) or "none"
        lines.append(Line("DNS", "Route 53",
                          f"{len(zones)} hosted zone(s), {len(checks)} health check(s) with {len(features)} optional "
                          f"feature(s) billed each ({named}), at non-AWS-endpoint rates",
                          len(zones) * price("route53_zone_month") + len(checks) * price("route53_health_check_month")
                          + len(features) * price("route53_health_check_feature_month")))
    return lines, [], {"aws_cloudfront_distribution", "aws_wafv2_web_acl", "aws_route53_zone", "aws_route53_health_check"}


def health_check_features(check: dict[str, Any]) -> list[str]:
    """The optional features Route 53 bills per health check on top of the basic check."""
    check_type = str(check.get("type", ""))
    features = {
        "HTTPS": check_type.startswith("HTTPS"),
        "string matching": check_type.endswith("STR_MATCH"),
        "fast interval": int(check.get("request_interval") or 30) == 10,
        "latency measurement": bool(check.get("measure_latency")),
    }
    return [name for name, billed in features.items() if billed]


def _heights(channel: dict[str, Any]) -> list[int]:
    videos = (channel.get("encoder_settings") or {}).get("video_descriptions", [])
    return [int(video.get("height") or 0) for video in videos]


def streaming(stack: Stack, price: PriceTable, usage: dict[str, Any]) -> tuple[list[Line], list[Saving], set[str]]:
    channels = stack.of_type("aws_medialive_channel")
    if not channels:
        return [], [], set()
    hours = float(usage.get("streaming_channel_hours", 0))

    def channel_hour(body: dict[str, Any]) -> float:
        pipelines = 2 if body.get("channel_class", "STANDARD") == "STANDARD" else 1
        outputs = sum(price("medialive_hd_output_hour") if height >= 720 else price("medialive_sd_output_hour")
                      for height in _heights(body))
        return pipelines * (price("medialive_input_hour") + outputs)

    # A pool of identical channels: the hours are channel-hours across the pool (creators live at once).
    rate = sum(channel_hour(channel.body) for channel in channels) / len(channels)
    renditions = sorted(set(_heights(channels[0].body)), reverse=True)
    line = Line("Streaming", f"MediaLive: pool of {len(channels)} channel(s)",
                f"{hours:g} channel-hours live (assumed) x {_money(rate)}/h "
                f"({channels[0].body.get('channel_class', 'STANDARD')}, renditions {'/'.join(f'{h}p' for h in renditions)})",
                hours * rate)
    lines = [line]
    # Idle resources bill around the clock: each channel that is not running, and each push input not attached to
    # a running channel (MediaLive "Pricing in MediaLive"). A live channel-hour runs its attached push inputs.
    push = [resource for resource in stack.of_type("aws_medialive_input") if str(resource.body.get("type")).endswith("_PUSH")]
    attached = {input_id for channel in channels for attachment in channel.body.get("input_attachments", [])
                for input_id in _referenced(attachment.get("input_id"), "aws_medialive_input")}
    idle_channel_hours = max(len(channels) * price.hours - hours, 0.0)
    idle_input_hours = max(len(push) * price.hours - hours * sum(p.id in attached for p in push) / len(channels), 0.0)
    lines.append(Line("Streaming", f"MediaLive: idle pool ({len(channels)} channel(s), {len(push)} push input(s))",
                      f"{idle_channel_hours:g} idle channel-hours x {_money(price('medialive_idle_channel_hour'))}/h + "
                      f"{idle_input_hours:g} idle push-input-hours x {_money(price('medialive_idle_push_input_hour'))}/h "
                      "(billed whenever not live)",
                      idle_channel_hours * price("medialive_idle_channel_hour")
                      + idle_input_hours * price("medialive_idle_push_input_hour")))
    if stack.of_type("aws_media_convert_queue"):
        # Recordings become VOD renditions: one output minute per rendition per recorded minute.
        minutes = float(usage.get("vod_source_minutes", hours * 60))
        per_minute = sum(price("mediaconvert_hd_minute") if height >= 720 else price("mediaconvert_sd_minute")
                         for height in _heights(channels[0].body))
        lines.append(Line("Streaming", "MediaConvert: recordings to VOD renditions",
                          f"{minutes:g} recorded minutes (assumed) x {len(renditions)} renditions", minutes * per_minute))
    return lines, [], {"aws_medialive_channel", "aws_medialive_input", "aws_media_convert_queue"}


def storage(stack: Stack, price: PriceTable, usage: dict[str, Any]) -> tuple[list[Line], list[Saving], set[str]]:
    lines: list[Line] = []
    savings: list[Saving] = []
    sizes: dict[str, float] = {str(k): float(v) for k, v in usage.get("bucket_gb", {}).items()}
    tiered = {bucket for resource in stack.of_type("aws_s3_bucket_intelligent_tiering_configuration")
              for bucket in _referenced(resource.body.get("bucket"), "aws_s3_bucket")}
    tiered |= {bucket for resource in stack.of_type("aws_s3_bucket_lifecycle_configuration")
               if "INTELLIGENT_TIERING" in str(resource.body.get("rule"))
               for bucket in _referenced(resource.body.get("bucket"), "aws_s3_bucket")}
    infrequent, archive = float(usage.get("tiering_infrequent_share", 0)), float(usage.get("tiering_archive_share", 0))
    tiered_gb = sum(next((gb for word, gb in sizes.items() if word in bucket.id), 0.0)
                    for bucket in stack.of_type("aws_s3_bucket") if bucket.id in tiered)
    others: list[str] = []
    for bucket in stack.of_type("aws_s3_bucket"):
        gb = next((gb for word, gb in sizes.items() if word in bucket.id), None)
        if gb is None:
            others.append(bucket.id)
            continue
        standard = gb * price("s3_standard_gb_month")
        if bucket.id not in tiered:
            lines.append(Line("Storage", f"S3: {bucket.id}", f"{gb:g} GB Standard (assumed)", standard))
            continue
        monitoring = float(usage.get("objects_million", 0)) * price("s3_tiering_monitoring_million_objects") * gb / tiered_gb
        cost = gb * ((1 - infrequent - archive) * price("s3_standard_gb_month")
                     + infrequent * price("s3_infrequent_tier_gb_month")
                     + archive * price("s3_archive_instant_tier_gb_month")) + monitoring
        lines.append(Line("Storage", f"S3: {bucket.id}",
                          f"{gb:g} GB Intelligent-Tiering ({infrequent:.0%} infrequent, {archive:.0%} archive-instant, assumed)",
                          cost))
        savings.append(Saving("S3 Intelligent-Tiering", f"{bucket.id}: {gb:g} GB against S3 Standard", standard - cost))
    if others:
        lines.append(Line("Storage", f"S3: {len(others)} other bucket(s) (logs, replicas, state)",
                          "1 GB each (assumed)", len(others) * price("s3_standard_gb_month")))
    return lines, savings, {"aws_s3_bucket"}


def platform(stack: Stack, price: PriceTable, usage: dict[str, Any]) -> tuple[list[Line], list[Saving], set[str]]:
    lines: list[Line] = []
    keys = stack.of_type("aws_kms_key", "aws_kms_replica_key")
    if keys:
        lines.append(Line("Keys and secrets", "KMS keys", f"{len(keys)} key(s)", len(keys) * price("kms_key_month")))
    secrets = stack.of_type("aws_secretsmanager_secret")
    if secrets:
        lines.append(Line("Keys and secrets", "Secrets Manager", f"{len(secrets)} secret(s)",
                          len(secrets) * price("secret_month")))
    alarms, dashboards = stack.of_type("aws_cloudwatch_metric_alarm"), stack.of_type("aws_cloudwatch_dashboard")
    if alarms or dashboards:
        lines.append(Line("Observability", "CloudWatch alarms and dashboards", f"{len(alarms)} alarm(s), {len(dashboards)} dashboard(s)",
                          len(alarms) * price("cloudwatch_alarm_month") + len(dashboards) * price("cloudwatch_dashboard_month")))
    canaries = stack.of_type("aws_synthetics_canary")
    if canaries:
        runs = sum(_runs_per_month(c.body, price.hours) for c in canaries)
        lines.append(Line("Observability", "Synthetics canaries", f"{len(canaries)} canary(ies), {runs:,.0f} runs a month",
                          runs * price("synthetics_canary_run")))
    if stack.of_type("aws_cloudwatch_log_group") and usage.get("logs_gb"):
        gb = float(usage["logs_gb"])
        lines.append(Line("Observability", "CloudWatch Logs ingestion", f"{gb:g} GB (assumed)", gb * price("cloudwatch_logs_gb")))
    if stack.of_type("aws_codebuild_project") and usage.get("build_minutes"):
        minutes = float(usage["build_minutes"])
        lines.append(Line("Pipeline", "CodeBuild", f"{minutes:g} build-minutes (assumed)", minutes * price("codebuild_minute")))
    if stack.of_type("aws_codepipeline") and usage.get("pipeline_action_minutes"):
        minutes = float(usage["pipeline_action_minutes"])
        lines.append(Line("Pipeline", "CodePipeline V2", f"{minutes:g} action-minutes (assumed)",
                          minutes * price("codepipeline_action_minute")))
    return lines, [], {"aws_kms_key", "aws_kms_replica_key", "aws_secretsmanager_secret", "aws_cloudwatch_metric_alarm",
                       "aws_synthetics_canary",
                       "aws_cloudwatch_dashboard", "aws_cloudwatch_log_group", "aws_codebuild_project", "aws_codepipeline"}


def _runs_per_month(canary: dict[str, Any], hours: float) -> float:
    """Runs a month of a canary scheduled `rate(N minute(s)|hour(s))`; other schedules count once an hour."""
    schedule = canary.get("schedule")
    expression = str((schedule[0] if isinstance(schedule, list) else schedule or {}).get("expression", ""))
    match = re.fullmatch(r"rate\((\d+) (minute|hour)s?\)", expression)
    if not match:
        return hours
    every_minutes = int(match.group(1)) * (60 if match.group(2) == "hour" else 1)
    return hours * 60 / every_minutes


PRICERS: tuple[Pricer, ...] = (compute, database, cache, network, load_balancer, edge, streaming, storage, platform)


def estimate(stack: Stack, price: PriceTable) -> Estimate:
    usage = price.usage(stack.name)
    result = Estimate(stack.name)
    priced: set[str] = set()
    for pricer in PRICERS:
        lines, savings, types = pricer(stack, price, usage)
        result.lines += [Line(line.category, line.item, line.basis, round(line.usd, 2)) for line in lines]
        result.savings += [Saving(s.lever, s.detail, round(s.usd, 2)) for s in savings if s.usd > 0]
        priced |= types
    result.lines.sort(key=lambda line: (-line.usd, line.category, line.item))
    result.unpriced = sorted({resource.type for resource in stack.resources} - priced)
    return result


def _stack_order(name: str) -> tuple[int, str]:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def render(stacks: dict[str, Stack], price: PriceTable) -> str:
    estimates = [estimate(stacks[name], price) for name in sorted(stacks, key=_stack_order)]
    dates = sorted({str(entry.get("as_of")) for entry in price.table["price"].values()}
                   | {str(entry.get("as_of")) for entry in price.table["instance"].values()})
    out = [
        "# Cost estimate",
        "",
        f"**{price.table['meta']['label']}** Prices: `pricing/prices.toml`, "
        f"compiled {price.compiled} from on-demand list prices in {price.table['meta']['region']} dated "
        f"{', '.join(dates)} (each price names its source). Generated by `python -m tools.views.cost` "
        "from the synthesized stacks.",
        "",
        "| Stack | Monthly estimate (USD) |",
        "|-------|-----------------------:|",
    ]
    out += [f"| {e.stack} | {_money(e.total)} |" for e in estimates]
    for e in estimates:
        out += ["", f"## {e.stack}: {_money(e.total)} per month", "", "| Category | Item | Basis | USD/month |",
                "|----------|------|-------|----------:|"]
        out += [f"| {line.category} | {line.item} | {line.basis} | {_money(line.usd)} |" for line in e.lines]
        out.append(f"| **Total** | | | **{_money(e.total)}** |")
        if e.savings:
            out += ["", "What the design saves against running everything on-demand, at full size, in S3 Standard:", "",
                    "| Lever | Where | USD/month saved |", "|-------|-------|----------------:|"]
            out += [f"| {s.lever} | {s.detail} | {_money(s.usd)} |"
                    for s in sorted(e.savings, key=lambda s: (s.lever, -s.usd, s.detail))]
        if e.unpriced:
            out += ["", "Not priced (no charge of their own, or usage-based and small): "
                    + ", ".join(f"`{t}`" for t in e.unpriced) + "."]
    by_name = {e.stack: e for e in estimates}
    if "prod" in by_name:
        smaller = [f"{e.stack} costs {_money(by_name['prod'].total - e.total)} less than prod"
                   for e in estimates if e.stack in ORDER and e.stack != "prod"]
        if smaller:
            out += ["", "## Sizing across environments", "",
                    "Same shape, smaller sizes and counts: " + "; ".join(smaller) + " per month."]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.views.cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--synth", type=Path, help="an existing cdktf.out to read (default: synthesize now)")
    parser.add_argument("--stdout", action="store_true", help="print instead of writing docs/cost-estimate.md")
    arguments = parser.parse_args(argv)
    text = render(read_stacks(arguments.synth or synthesize_working_tree()), PriceTable())
    if arguments.stdout:
        print(text)
    else:
        OUTPUT.write_text(text)
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
