"""One environment's CloudWatch dashboards (R7.5): application, data, edge and cost.

Each shows the metrics its tier is judged by, with the objective drawn as a
line where a requirement sets one, and the state of the tier's composite
alarm. Streaming's channel widgets come with the streaming tier.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from constructs import Construct

from modules.alarms import (
    AVAILABILITY_PERCENT,
    CACHE_HIT_RATE_PERCENT,
    DATABASE_LATENCY_SECONDS,
    RESPONSE_TIME_P95_SECONDS,
    CacheMetrics,
    DatabaseMetrics,
    LoadBalancerMetrics,
    ServiceMetrics,
)
from modules.context import StackContext

WIDTH, HEIGHT = 12, 6  # two widgets a row on the 24-column grid


@dataclass(frozen=True)
class DashboardsConfig:
    alarm_arns: Mapping[str, str]  # tier -> composite alarm ARN
    load_balancer: LoadBalancerMetrics
    services: ServiceMetrics
    database: DatabaseMetrics
    cache: CacheMetrics
    distribution_ids: Mapping[str, str]
    canary_names: Mapping[str, str]
    business_namespace: str
    business_metrics: Sequence[str]


def _metric(title: str, region: str, metrics: list[list[Any]], stat: str = "Average", period: int = 60,
            objective: tuple[float, str] | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"title": title, "region": region, "metrics": metrics, "stat": stat,
                                  "period": period, "view": "timeSeries"}
    if objective:
        properties["annotations"] = {"horizontal": [{"value": objective[0], "label": objective[1]}]}
    return {"type": "metric", "properties": properties}


def _alarms(title: str, arns: Sequence[str]) -> dict[str, Any]:
    return {"type": "alarm", "properties": {"title": title, "alarms": list(arns)}}


class Dashboards(Construct):
    """Exposes `dashboard_names` {view: dashboard name}."""

    def __init__(self, scope: Construct, id: str, config: DashboardsConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        self._names = context.names
        region, lb, arns = context.region, config.load_balancer, config.alarm_arns
        self.dashboard_names: dict[str, str] = {}
        services = sorted(config.services.services.items())
        self._dashboard("application", [
            _alarms("Alarms", [arns[t] for t in ("load_balancer", "services", "availability") if t in arns]),
            _metric("p95 response time per target group (s)", region,
                    [["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb.arn_suffix, "TargetGroup", tg]
                     for _, tg in sorted(lb.target_groups.items())],
                    stat="p95", objective=(RESPONSE_TIME_P95_SECONDS, "R12.1: 200 ms")),
            _metric("Requests and 5xx", region,
                    [["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb.arn_suffix],
                     ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb.arn_suffix],
                     ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb.arn_suffix]], stat="Sum"),
            _metric("ECS CPU and memory (%)", region,
                    [["AWS/ECS", metric, "ClusterName", config.services.cluster_name, "ServiceName", name]
                     for _, name in services for metric in ("CPUUtilization", "MemoryUtilization")]),
            _metric("Running tasks", region,
                    [["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", config.services.cluster_name,
                      "ServiceName", name] for _, name in services]),
            _metric("Availability seen by the canaries (%)", region,
                    [["CloudWatchSynthetics", "SuccessPercent", "CanaryName", canary]
                     for _, canary in sorted(config.canary_names.items())],
                    period=300, objective=(AVAILABILITY_PERCENT, "R12.7: 99.9 %")),
            _metric("Business events (R7.3)", region,
                    [[config.business_namespace, metric] for metric in config.business_metrics], stat="Sum",
                    period=300),
        ])
        db = {"DBClusterIdentifier": config.database.cluster_identifier}
        first_nodes = [f"{config.cache.replication_group_id}-{shard:04d}-001"
                       for shard in range(1, config.cache.max_shards + 1)]
        self._dashboard("data", [
            _alarms("Alarms", [arns[t] for t in ("database", "cache") if t in arns]),
            _metric("Database read and write latency (s)", region,
                    [["AWS/RDS", metric, *_flat(db)] for metric in ("ReadLatency", "WriteLatency")],
                    objective=(DATABASE_LATENCY_SECONDS, "R12.4: 50 ms")),
            _metric("Database CPU (%) and connections", region,
                    [["AWS/RDS", metric, *_flat(db)] for metric in ("CPUUtilization", "DatabaseConnections")]),
            _metric("Cache read latency per shard primary (µs)", region,
                    [["AWS/ElastiCache", "SuccessfulReadRequestLatency", "CacheClusterId", node] for node in first_nodes],
                    objective=(1000, "R3.6: 1 ms")),
            _metric("Cache memory (%) per shard primary", region,
                    [["AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "CacheClusterId", node] for node in first_nodes]),
        ])
        distributions = sorted(config.distribution_ids.items())
        self._dashboard("edge", [
            _alarms("Alarms", [arns[t] for t in ("cdn",) if t in arns]),
            _metric("CloudFront cache hit rate (%)", "us-east-1",
                    [["AWS/CloudFront", "CacheHitRate", "DistributionId", d, "Region", "Global"] for _, d in distributions],
                    period=3600, objective=(CACHE_HIT_RATE_PERCENT, "R12.3: 95 %")),
            _metric("CloudFront 5xx rate (%)", "us-east-1",
                    [["AWS/CloudFront", "5xxErrorRate", "DistributionId", d, "Region", "Global"] for _, d in distributions],
                    period=300),
            _metric("CloudFront requests", "us-east-1",
                    [["AWS/CloudFront", "Requests", "DistributionId", d, "Region", "Global"] for _, d in distributions],
                    stat="Sum", period=300),
        ])
        # Billing metrics exist only in us-east-1, for the whole account (the budget scopes this environment).
        self._dashboard("cost", [
            _metric("Estimated charges this month (USD, account)", "us-east-1",
                    [["AWS/Billing", "EstimatedCharges", "Currency", "USD"]], stat="Maximum", period=21600),
            _metric("Estimated charges by service (USD, account)", "us-east-1",
                    [["AWS/Billing", "EstimatedCharges", "ServiceName", service, "Currency", "USD"]
                     for service in ("AmazonECS", "AmazonRDS", "AmazonElastiCache", "AmazonCloudFront",
                                     "AWSELB", "AmazonS3", "AmazonCloudWatch")], stat="Maximum", period=21600),
        ])

    def _dashboard(self, view: str, widgets: list[dict[str, Any]]) -> None:
        placed = [{**widget, "x": (i % 2) * WIDTH, "y": (i // 2) * HEIGHT, "width": WIDTH, "height": HEIGHT}
                  for i, widget in enumerate(widgets)]
        dashboard = CloudwatchDashboard(self, view, dashboard_name=self._names(view),
                                        dashboard_body=json.dumps({"widgets": placed}, sort_keys=True))
        self.dashboard_names[view] = dashboard.dashboard_name


def _flat(dimensions: Mapping[str, str]) -> list[str]:
    return [part for item in sorted(dimensions.items()) for part in item]
