"""Observability, audit and cost (R5.7, R6.5, R7, R10.5, R12): streaming metrics, the audit trail, alarms,
canaries, log metrics and queries, dashboards, tracing and cost controls."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformStack

from environments.config import EnvironmentConfig
from modules.alarms import Alarms, CacheMetrics, DatabaseMetrics, LoadBalancerMetrics, ServiceMetrics
from modules.audit_trail import AuditTrail, AuditTrailConfig
from modules.canaries import Canaries, CanariesConfig
from modules.cost import CostConfig, CostControls
from modules.dashboards import Dashboards, DashboardsConfig
from modules.logs_insights import LogsInsights, LogsInsightsConfig
from modules.streaming import HLS_OUTPUT_GROUP
from modules.streaming_metrics import StreamingMetrics, StreamingMetricsConfig
from modules.tracing import HealthChecks, Tracing, TracingConfig
from stacks.services import SERVICES, WEBSOCKET, public_endpoints
from stacks.tiers.compute import Compute
from stacks.tiers.data import Data
from stacks.tiers.edge import Edge
from stacks.tiers.foundation import Foundation
from stacks.tiers.streaming import Streaming


@dataclass(frozen=True)
class Observability:
    alarms: Alarms
    tracing: Tracing


def build_observability(stack: TerraformStack, config: EnvironmentConfig, foundation: Foundation, data: Data,
                        edge: Edge, streaming: Streaming, compute: Compute) -> Observability:
    settings = config.observability
    StreamingMetrics(stack, "streaming_metrics", StreamingMetricsConfig(
        channel_ids=streaming.live.channel_ids, channel_names=streaming.live.channel_names,
        hls_output_group=HLS_OUTPUT_GROUP, distribution_id=streaming.distribution.id,
        vod_dead_letter_queue_name=streaming.vod.dead_letter_queue_name,
        # The WebSocket server logs viewers joining and leaving.
        viewer_log_group_name=compute.services[WEBSOCKET.name].log_group_name))
    # The audit trail (R6.5) records reads of its bucket in the content tier's access-log bucket.
    AuditTrail(stack, "audit", AuditTrailConfig(retention_days=config.security.audit_log_retention_days,
                                                access_log_bucket=edge.content.log_bucket))
    alarms = Alarms(stack, "alarms")
    canaries = Canaries(stack, "canaries", CanariesConfig(
        endpoints=public_endpoints(config.domain), interval_minutes=settings.canary_interval_minutes,
        log_bucket=edge.content.log_bucket))
    alarms.canaries(canaries.canary_names, settings.canary_interval_minutes)
    # The media distribution serves only cacheable content (R12.3); the app's mixes in the uncached API.
    distribution_ids = {"media": edge.media.id, "app": edge.app.id}
    alarms.distributions(distribution_ids, cache_hit_rate_for=("media",))
    load_balancer = edge.load_balancer
    # Both colours of each service: after a blue/green deployment the other one serves.
    load_balancer_metrics = LoadBalancerMetrics(
        arn_suffix=load_balancer.arn_suffix,
        target_groups={f"{name}-{colour}": getattr(route, f"{colour}_arn_suffix")
                       for name, route in load_balancer.routes.items() for colour in ("blue", "green")},
    )
    service_metrics = ServiceMetrics(cluster_name=compute.cluster.name,
                                     services={name: service.service_name for name, service in compute.services.items()})
    database_metrics = DatabaseMetrics(cluster_identifier=data.database.cluster_identifier,
                                       max_connections=data.database.max_connections)
    # Every shard autoscaling may add has its nodes watched from the start (R3.6).
    cache_metrics = CacheMetrics(replication_group_id=data.cache.replication_group_id,
                                 max_shards=config.cache.max_shards, nodes_per_shard=config.cache.replicas_per_shard + 1)
    alarms.load_balancer(load_balancer_metrics)
    alarms.services(service_metrics)
    alarms.database(database_metrics)
    alarms.cache(cache_metrics)
    alarms.health_checks(foundation.dns.health_check_ids)
    logs = LogsInsights(stack, "logs", LogsInsightsConfig(
        namespace=f"DirectFanz/{config.name}",
        log_groups={name: service.log_group_name for name, service in compute.services.items()}))
    Dashboards(stack, "dashboards", DashboardsConfig(
        alarm_arns=alarms.composite_arns, load_balancer=load_balancer_metrics, services=service_metrics,
        database=database_metrics, cache=cache_metrics, distribution_ids=distribution_ids,
        canary_names=canaries.canary_names, business_namespace=logs.namespace, business_metrics=logs.business_metrics))
    tracing = Tracing(stack, "tracing", TracingConfig(
        sample_rate=settings.trace_sample_rate, services=[spec.name for spec in SERVICES],
        health_checks=[HealthChecks(*spec.health_trace_rule, path=f"{spec.health_path}*") for spec in SERVICES]))
    CostControls(stack, "cost", CostConfig(
        monthly_budget_usd=config.monthly_budget_usd,
        alert_thresholds_percent=tuple(settings.budget_alert_thresholds_percent),
        anomaly_alert_usd=settings.anomaly_alert_usd, emails=tuple(config.alert_emails)))
    return Observability(alarms=alarms, tracing=tracing)
