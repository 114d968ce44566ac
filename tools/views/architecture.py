"""The architecture picture of each environment, drawn from its synthesized stack.

    python -m tools.views.architecture              # synthesizes, then writes docs/architecture/<env>.{dot,svg,png}
    python -m tools.views.architecture --synth cdktf.out

Nothing is drawn by hand. Each resource type the picture knows (`KINDS`) is a
node in its tier; resource types it does not know stay out (IAM, routes,
policies). The paths between nodes come from the JSON itself:

- references (`${aws_x.y.attr}`), followed through connecting resources such
  as listeners, target groups, DNS records and proxy targets (`JOINTS`), so
  that "the web service is behind the load balancer" appears without drawing
  target groups;
- permissions: what a workload's task definition and roles allow it to use
  (followed forward only, `PERMISSIONS`);
- security-group rules: a rule that lets group A reach group B on a port links
  every node in A to every node in B, labelled with the port;
- names: a shared stack (the delivery pipeline) that names this environment's
  resources, e.g. an ECS deploy action naming the service.

Arrows follow the request path (users -> DNS -> edge -> load balancer ->
services -> data); the pipeline points at what it deploys, and monitored
resources point at the alarms that watch them. The DOT text is deterministic,
so tests compare it with the committed .dot; Graphviz's `dot` renders SVG and PNG
(Debian package `graphviz`, installed by scripts/install-services).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tools.views.synth import REFERENCE, ROOT, Resource, Stack, read_stacks, synthesize_working_tree

OUTPUT = ROOT / "docs" / "architecture"
ENVIRONMENTS = ("dev", "staging", "prod")


@dataclass(frozen=True)
class Tier:
    label: str
    color: str  # fill of its nodes


TIERS: dict[str, Tier] = {
    "users": Tier("Internet", "#ffffff"),
    "dns": Tier("DNS", "#e8f0fe"),
    "edge": Tier("Edge: CloudFront and WAF", "#e6f4ea"),
    "balancing": Tier("Load balancing", "#fef7e0"),
    "services": Tier("Services (ECS Fargate)", "#fce8e6"),
    "streaming": Tier("Live streaming", "#f3e8fd"),
    "data": Tier("Data", "#e0f7fa"),
    "storage": Tier("Content storage (S3)", "#fff3e0"),
    "pipeline": Tier("Delivery pipeline", "#ede7f6"),
    "observability": Tier("Observability and alerts", "#f1f3f4"),
    "security": Tier("Security and audit", "#fbe9e7"),
    "network": Tier("Network", "#eceff1"),
}


def _names(body: dict[str, Any], *keys: str) -> str:
    return next((str(body[key]) for key in keys if isinstance(body.get(key), str) and "${" not in body[key]), "")


@dataclass(frozen=True)
class Kind:
    """How one resource type is drawn."""

    tier: str
    title: str
    rank: int  # position along the request path; equal ranks are associations, not flow
    aggregate: bool = False  # one node for all resources of the type ("CloudWatch alarms x 24")
    detail: Callable[[Resource, Stack], str] = lambda resource, stack: ""


def _db_detail(resource: Resource, stack: Stack) -> str:
    classes = sorted(str(i.body.get("instance_class")) for i in stack.of_type("aws_rds_cluster_instance")
                     if resource.id in str(i.body.get("cluster_identifier")))
    engine = f"{resource.body.get('engine', '')} {resource.body.get('engine_version', '')}".strip()
    sizes = ", ".join(f"{classes.count(c)} x {c}" for c in sorted(set(classes)))
    return "\n".join(part for part in (engine, sizes) if part)


def _cache_detail(resource: Resource, stack: Stack) -> str:
    body = resource.body
    shards, replicas = body.get("num_node_groups"), body.get("replicas_per_node_group")
    layout = f"{shards} shards x {int(replicas) + 1} nodes" if shards is not None and replicas is not None else ""
    return "\n".join(part for part in (f"{body.get('engine', '')} {body.get('node_type', '')}".strip(), layout) if part)


def _service_detail(resource: Resource, stack: Stack) -> str:
    tasks = resource.body.get("desired_count")
    return "\n".join(part for part in (_names(resource.body, "name"), f"{tasks} tasks" if tasks is not None else "") if part)


KINDS: dict[str, Kind] = {
    "aws_route53_zone": Kind("dns", "Route 53 hosted zone", 10, detail=lambda r, s: _names(r.body, "name")),
    "aws_route53_health_check": Kind("dns", "Route 53 health checks", 11, aggregate=True),  # the zone is the entry
    "aws_cloudfront_distribution": Kind("edge", "CloudFront distribution", 20,
                                        detail=lambda r, s: ", ".join(r.body.get("aliases", []))),
    "aws_lb": Kind("balancing", "Application Load Balancer", 30, detail=lambda r, s: _names(r.body, "name")),
    "aws_medialive_input": Kind("streaming", "MediaLive RTMP inputs", 35, aggregate=True),
    "aws_ecs_service": Kind("services", "ECS service", 40, detail=_service_detail),
    "aws_lambda_function": Kind("services", "Lambda functions", 40, aggregate=True),
    "aws_medialive_channel": Kind("streaming", "MediaLive channels", 45, aggregate=True),
    "aws_mediaconvert_queue": Kind("streaming", "MediaConvert queues", 45, aggregate=True),
    "aws_ivs_channel": Kind("streaming", "IVS channels", 45, aggregate=True),
    "aws_db_proxy": Kind("data", "RDS Proxy", 50, detail=lambda r, s: _names(r.body, "name")),
    "aws_rds_cluster": Kind("data", "Aurora cluster", 55, detail=_db_detail),
    "aws_db_instance": Kind("data", "RDS instance", 55, detail=lambda r, s: _names(r.body, "instance_class")),
    "aws_elasticache_replication_group": Kind("data", "ElastiCache", 55, detail=_cache_detail),
    "aws_backup_vault": Kind("data", "AWS Backup vaults", 58, aggregate=True),
    "aws_s3_bucket": Kind("storage", "S3 bucket", 60),
    "aws_codepipeline": Kind("pipeline", "CodePipeline", 5, detail=lambda r, s: _names(r.body, "name")),
    "aws_codebuild_project": Kind("pipeline", "CodeBuild projects", 5, aggregate=True),
    "aws_ecr_repository": Kind("pipeline", "ECR repositories", 5, aggregate=True),
    "aws_cloudwatch_metric_alarm": Kind("observability", "CloudWatch alarms", 90, aggregate=True),
    "aws_cloudwatch_composite_alarm": Kind("observability", "Composite alarms", 90, aggregate=True),
    "aws_cloudwatch_dashboard": Kind("observability", "CloudWatch dashboards", 90, aggregate=True),
    "aws_xray_group": Kind("observability", "X-Ray groups", 90, aggregate=True),
    "aws_synthetics_canary": Kind("observability", "Synthetics canaries", 90, aggregate=True),
    "aws_budgets_budget": Kind("observability", "Budgets", 90, aggregate=True),
    "aws_ce_anomaly_monitor": Kind("observability", "Cost anomaly monitors", 90, aggregate=True),
    "aws_sns_topic": Kind("observability", "SNS topic", 95, detail=lambda r, s: _names(r.body, "name")),
    "aws_cloudtrail": Kind("security", "CloudTrail", 99, detail=lambda r, s: _names(r.body, "name")),
    "aws_kms_key": Kind("security", "KMS keys", 99, aggregate=True),
    "aws_secretsmanager_secret": Kind("security", "Secrets Manager secrets", 99, aggregate=True),
    "aws_acm_certificate": Kind("security", "ACM certificates", 99, aggregate=True),
    "aws_vpc": Kind("network", "VPC", 99, detail=lambda r, s: _names(r.body, "cidr_block")),
    "aws_subnet": Kind("network", "Subnets", 99, aggregate=True),
    "aws_nat_gateway": Kind("network", "NAT gateways", 99, aggregate=True),
    "aws_vpc_endpoint": Kind("network", "VPC endpoints", 99, aggregate=True),
}

# WAF web ACLs sit with what they protect: CLOUDFRONT scope at the edge, REGIONAL at the load balancer.
WAF = {"CLOUDFRONT": Kind("edge", "WAF web ACL (CloudFront)", 20), "REGIONAL": Kind("balancing", "WAF web ACL (regional)", 30)}

# Resources that connect others without being drawn: a path through them becomes an edge.
JOINTS = frozenset({
    "aws_lb_listener", "aws_lb_listener_rule", "aws_lb_target_group", "aws_route53_record",
    "aws_db_proxy_target", "aws_db_proxy_default_target_group", "aws_db_proxy_endpoint",
    "aws_wafv2_web_acl_association", "aws_s3_bucket_replication_configuration", "aws_backup_selection",
    "aws_backup_plan", "aws_s3_bucket_notification",
    "aws_lambda_permission", "aws_cloudwatch_event_rule", "aws_cloudwatch_event_target", "aws_sns_topic_subscription",
    "aws_medialive_input_security_group",
})
MAX_JOINTS = 3
# What a workload may use: followed only forward, from the workload through its task definition and its
# roles (with their policies) to what the policies name. Undirected, a policy naming two buckets would
# join the buckets.
PERMISSIONS = frozenset({"aws_ecs_task_definition", "aws_iam_role", "aws_iam_role_policy", "aws_iam_policy",
                         "aws_iam_role_policy_attachment"})
# Tiers whose nodes are context only: everything references keys and the VPC, so their edges would be noise.
CONTEXT = frozenset({"security", "network"})
# Column order of the picture: the request path, then what watches, protects and carries it.
COLUMNS = ("dns", "edge", "balancing", "services", "streaming", "data", "storage", "observability", "security",
           "network")
WATCHED = {"dns": "DNS", "edge": "edge", "balancing": "load balancer", "services": "services",
           "streaming": "streaming", "data": "data", "storage": "storage", "security": "security",
           "network": "network", "pipeline": "pipeline", "observability": "observability"}
PHYSICAL_NAMES = ("name", "identifier", "cluster_identifier", "replication_group_id", "bucket")
SECURITY_GROUP_USERS = ("vpc_security_group_ids", "security_group_ids", "security_groups", "network_configuration")


@dataclass(frozen=True)
class Node:
    key: str  # the DOT id
    tier: str
    rank: int
    label: str
    members: tuple[str, ...]  # resource addresses drawn by this node
    watches: frozenset[str] = frozenset()  # tiers an alarm, dashboard or canary node watches

    @property
    def text(self) -> str:
        if not self.watches:
            return self.label
        watched = [name for tier, name in WATCHED.items() if tier in self.watches]
        return f"{self.label}\nwatching: {', '.join(watched)}"


def _watching(node: Node, tier: str) -> Node:
    return replace(node, watches=node.watches | {tier})


def _kind(resource: Resource) -> Kind | None:
    if resource.type == "aws_wafv2_web_acl":
        return WAF.get(str(resource.body.get("scope")))
    return KINDS.get(resource.type)


def nodes_of(stack: Stack) -> list[Node]:
    found: list[Node] = []
    grouped: dict[str, list[Resource]] = {}
    for resource in stack.resources:
        kind = _kind(resource)
        if kind is None:
            continue
        if kind.aggregate:
            grouped.setdefault(resource.type, []).append(resource)
            continue
        detail = kind.detail(resource, stack)
        label = "\n".join(part for part in (kind.title, resource.id, detail) if part)
        found.append(Node(resource.address.replace(".", "__"), kind.tier, kind.rank, label, (resource.address,)))
    for resource_type, members in grouped.items():
        kind = KINDS[resource_type]
        found.append(Node(resource_type, kind.tier, kind.rank, f"{kind.title}\nx {len(members)}",
                          tuple(member.address for member in members)))
    return sorted(found, key=lambda node: (node.rank, node.key))


def _reference_graph(resources: Iterable[Resource]) -> dict[str, set[str]]:
    """Undirected: address -> addresses it refers to or is referred to by."""
    graph: dict[str, set[str]] = {}
    for resource in resources:
        for target in resource.references():
            graph.setdefault(resource.address, set()).add(target)
            graph.setdefault(target, set()).add(resource.address)
    return graph


def _reachable(start: str, graph: dict[str, set[str]], drawn: dict[str, str]) -> set[str]:
    """Drawn addresses reachable from `start` through at most MAX_JOINTS joint resources.

    The limit keeps paths direct: load balancer <- listener -> target group <- service is two joints,
    while web -> target group <- rule -> listener <- rule -> target group <- websocket is five, and
    would join two services that merely share a listener.
    """
    found: set[str] = set()
    seen, frontier = {start}, [(start, 0)]
    while frontier:
        current, depth = frontier.pop(0)
        for neighbour in sorted(graph.get(current, ())):
            if neighbour in seen:
                continue
            seen.add(neighbour)
            if neighbour in drawn:
                # Two resources of one type are related only by a direct connector (a bucket and its
                # replica); sharing a listener or a policy further away does not relate two services.
                if neighbour.split(".")[0] != start.split(".")[0] or depth == 1:
                    found.add(neighbour)
            elif neighbour.split(".")[0] in JOINTS and depth < MAX_JOINTS:
                frontier.append((neighbour, depth + 1))
    return found


def _permission_graph(resources: list[Resource]) -> dict[str, set[str]]:
    """Directed: address -> what it refers to, where a role also refers to what its policies name."""
    graph = {resource.address: resource.references() for resource in resources}
    for resource in resources:
        if resource.type in PERMISSIONS - {"aws_ecs_task_definition", "aws_iam_role"}:
            for role in (ref for ref in resource.references() if ref.startswith("aws_iam_role.")):
                graph.setdefault(role, set()).update(resource.references() - {role})
    return graph


def _permitted(start: str, graph: dict[str, set[str]], drawn: dict[str, str]) -> set[str]:
    """Drawn addresses a workload reaches through its task definition, roles and policies."""
    found: set[str] = set()
    seen, frontier = {start}, [start]
    while frontier:
        current = frontier.pop()
        for target in sorted(graph.get(current, ())):
            if target in seen:
                continue
            seen.add(target)
            if target.split(".")[0] in PERMISSIONS:
                frontier.append(target)
            elif target in drawn and current != start:
                found.add(target)
    return found


def _group_ids(body: dict[str, Any]) -> set[str]:
    text = json.dumps({key: body.get(key) for key in SECURITY_GROUP_USERS})
    return {logical_id for kind, logical_id in REFERENCE.findall(text) if kind == "aws_security_group"}


def _ports(rule: dict[str, Any]) -> str:
    low, high = rule.get("from_port"), rule.get("to_port")
    return f"{low}" if low == high else f"{low}-{high}"


Edge = tuple[str, str, str]  # (from node, to node, label)


def _pair(first: str, second: str) -> tuple[str, str]:
    return (first, second) if first <= second else (second, first)


def edges_of(stack: Stack, nodes: list[Node], shared: Iterable[Stack] = ()) -> tuple[list[Node], set[Edge]]:
    """The edges between drawn nodes, and the nodes from shared stacks that name this stack's resources."""
    drawn = {address: node.key for node in nodes for address in node.members}
    by_key = {node.key: node for node in nodes}
    pairs: dict[tuple[str, str], str] = {}
    graph, permissions = _reference_graph(stack.resources), _permission_graph(stack.resources)
    for address, key in sorted(drawn.items()):
        if by_key[key].tier in CONTEXT:
            continue
        for other in _reachable(address, graph, drawn) | _permitted(address, permissions, drawn):
            if by_key[drawn[other]].tier not in CONTEXT and drawn[other] != key:
                pairs.setdefault(_pair(key, drawn[other]), "")
    # Security-group rules: who may reach whom, on which port.
    members_of_group: dict[str, set[str]] = {}
    for resource in stack.resources:
        if resource.address in drawn:
            for group in _group_ids(resource.body):
                members_of_group.setdefault(group, set()).add(drawn[resource.address])
    for rule in stack.of_type("aws_vpc_security_group_ingress_rule"):
        to_groups = {i for k, i in REFERENCE.findall(str(rule.body.get("security_group_id"))) if k == "aws_security_group"}
        from_groups = {i for k, i in REFERENCE.findall(str(rule.body.get("referenced_security_group_id")))
                       if k == "aws_security_group"}
        for source in sorted(n for g in from_groups for n in members_of_group.get(g, ())):
            for target in sorted(n for g in to_groups for n in members_of_group.get(g, ())):
                if source != target and CONTEXT.isdisjoint((by_key[source].tier, by_key[target].tier)):
                    pairs[_pair(source, target)] = f"TCP {_ports(rule.body)}"
    # Shared stacks (the pipeline) that name this stack's resources, e.g. a deploy build's list of services.
    names = {str(resource.body["name"]): drawn[resource.address] for resource in stack.resources
             if resource.address in drawn and isinstance(resource.body.get("name"), str) and "${" not in resource.body["name"]}
    extra: list[Node] = []
    for shared_stack in shared:
        for node in nodes_of(shared_stack):
            if node.tier in CONTEXT:
                continue
            bodies = " ".join(json.dumps(r.body) for r in shared_stack.resources if r.address in node.members)
            targets = sorted({key for name, key in names.items()
                              if re.search(rf'(?<=[",;]){re.escape(name)}(?=[",;])', bodies)})
            if targets:
                shared_node = Node(f"{shared_stack.name}__{node.key}", node.tier, node.rank,
                                   f"{node.label}\n({shared_stack.name} stack)", node.members)
                extra.append(shared_node)
                by_key[shared_node.key] = shared_node
                for target in targets:
                    pairs[(shared_node.key, target)] = "deploys"
    # Alarms often name what they watch (a dimension's cluster or service name) rather than refer to it.
    physical = {str(value): drawn[resource.address] for resource in stack.resources if resource.address in drawn
                for key in PHYSICAL_NAMES if isinstance(value := resource.body.get(key), str) and "${" not in value}
    for node in nodes:
        if node.tier == "observability":
            bodies = " ".join(json.dumps(r.body) for r in stack.resources if r.address in node.members)
            for name, key in physical.items():
                if f'"{name}"' in bodies and by_key[key].tier != "observability":
                    pairs.setdefault(_pair(node.key, key), "")
    edges: set[Edge] = set()
    for (first, second), label in pairs.items():
        a, b = by_key[first], by_key[second]
        if (a.tier == "observability") != (b.tier == "observability"):
            # Dozens of alarms watch every tier: the alarm nodes name the tiers instead of an edge to each.
            watcher, watched = (a, b) if a.tier == "observability" else (b, a)
            extra = [_watching(node, watched.tier) if node.key == watcher.key else node for node in extra]
            by_key[watcher.key] = _watching(by_key[watcher.key], watched.tier)
            continue
        if b.tier == "pipeline" or (a.tier != "pipeline" and a.rank > b.rank):
            a, b = b, a  # arrows run along the path; the pipeline points at what it deploys
        edges.add((a.key, b.key, label))
    watchers = [node for node in by_key.values() if node.watches]
    return extra + [node for node in watchers if node not in extra], edges


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(stack: Stack, shared: Iterable[Stack] = ()) -> str:
    nodes = nodes_of(stack)
    extra, edges = edges_of(stack, nodes, shared)
    # Nodes edges_of returns (shared-stack nodes, and alarm nodes now naming what they watch) win.
    merged = {node.key: node for node in nodes} | {node.key: node for node in extra}
    nodes = sorted(merged.values(), key=lambda node: (node.rank, node.key))
    ranks = {node.key: node.rank for node in nodes}
    tiers = {node.key: node.tier for node in nodes}
    lines = [
        f"// Generated by `python -m tools.views.architecture` from the synthesized `{stack.name}` stack; do not edit.",
        f"digraph {_quote(stack.name)} {{",
        f"  graph [rankdir=LR, fontname=Helvetica, fontsize=20, labelloc=t, newrank=true, nodesep=0.3, ranksep=0.9,"
        f" label={_quote(f'DirectFanz {stack.name}: tiers and paths (from the synthesized stack)')}];",
        "  node [shape=box, style=\"rounded,filled\", fontname=Helvetica, fontsize=11];",
        "  edge [fontname=Helvetica, fontsize=9, color=\"#5f6368\"];",
        f"  users [label={_quote('Users and creators')}, shape=oval, fillcolor=\"#ffffff\"];",
    ]
    for tier, spec in TIERS.items():
        members = [node for node in nodes if node.tier == tier]
        if not members:
            continue
        lines.append(f"  subgraph cluster_{tier} {{")
        lines.append(f"    label={_quote(spec.label)}; style=\"rounded,dashed\"; color=\"#9aa0a6\"; fontsize=13;")
        lines += [f"    {_quote(node.key)} [label={_quote(node.text)}, fillcolor=\"{spec.color}\"];" for node in members]
        # One column per tier: its nodes share a rank, stacked top to bottom.
        lines.append("    { rank=same; " + " ".join(_quote(node.key) for node in members) + " }")
        lines.append("  }")
    # Users enter at the first tier of the request path that exists, and creators at the stream inputs.
    entry = min((node for node in nodes if node.tier in ("dns", "edge", "balancing")), key=lambda node: node.rank, default=None)
    if entry is not None:
        lines.append(f"  users -> {_quote(entry.key)} [label=\"HTTPS\", penwidth=2];")
    for node in nodes:
        if node.key == "aws_medialive_input":
            lines.append(f"  users -> {_quote(node.key)} [label=\"RTMP\", penwidth=2];")
    for first, second, label in sorted(edges):
        style: list[str] = [f"label={_quote(label)}"] if label else []
        if ranks[first] == ranks[second] and tiers[first] == tiers[second]:
            style.append("dir=none")
        if "pipeline" in (tiers[first], tiers[second]):
            style.append("style=dashed")  # deploys, rather than carries requests
        lines.append(f"  {_quote(first)} -> {_quote(second)}" + (f" [{', '.join(style)}]" if style else "") + ";")
    # Invisible links between consecutive tiers lay the tiers out left to right in path order.
    firsts = [next(node.key for node in nodes if node.tier == tier) for tier in COLUMNS if any(n.tier == tier for n in nodes)]
    lines += [f"  {_quote(a)} -> {_quote(b)} [style=invis];" for a, b in itertools.pairwise(firsts)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_files(stacks: dict[str, Stack]) -> dict[str, str]:
    """{environment: DOT text} for every environment stack in the synth."""
    shared = [stack for name, stack in sorted(stacks.items()) if name not in ENVIRONMENTS]
    return {name: render_dot(stacks[name], shared) for name in ENVIRONMENTS if name in stacks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.views.architecture", description=__doc__.split("\n\n")[0])
    parser.add_argument("--synth", type=Path, help="an existing cdktf.out to read (default: synthesize now)")
    arguments = parser.parse_args(argv)
    if shutil.which("dot") is None:
        print("architecture: Graphviz `dot` is missing: run scripts/install-services (Debian package graphviz)",
              file=sys.stderr)
        return 1
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, text in dot_files(read_stacks(arguments.synth or synthesize_working_tree())).items():
        source = OUTPUT / f"{name}.dot"
        source.write_text(text)
        for fmt in ("svg", "png"):
            subprocess.run(["dot", f"-T{fmt}", "-Gdpi=110" if fmt == "png" else "-Gdpi=72", str(source),
                            "-o", str(OUTPUT / f"{name}.{fmt}")], check=True)
        print(f"wrote docs/architecture/{name}.dot, .svg, .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
