"""The alarm set (R7.4, R12.1, R12.3, R12.4, R12.7, R3.6): one method per tier, each taking a small typed view of it.

Every alarm reaches the alerts topic. Where one fault trips several alarms
at once (a struggling database raises CPU, connections and both latencies),
the tier's alarms are children of a composite alarm that pages once and says
which children fired; a child then carries no action of its own. A tier with a
single alarm pages directly. Metrics that CloudWatch keeps only in us-east-1
(CloudFront, Route 53 health checks) are alarmed there, through the context's `edge_alerts_topic_arn`.

Thresholds are the objectives of the requirements: p95 target response time
above 200 ms (R12.1), database read/write latency above 50 ms (R12.4), CDN
cache hit rate below 95 % (R12.3), canary success below 99.9 % (R12.7).
Utilisation alarms back up autoscaling: each is stated beside the target it
must stay above (or the cap it must stay below), imported from the module that
scales, and tests/test_invariants.py asserts every such order on the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudfront_monitoring_subscription import (
    CloudfrontMonitoringSubscription,
    CloudfrontMonitoringSubscriptionMonitoringSubscription,
    CloudfrontMonitoringSubscriptionMonitoringSubscriptionRealtimeMetricsSubscriptionConfig,
)
from cdktf_cdktf_provider_aws.cloudwatch_composite_alarm import CloudwatchCompositeAlarm
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from modules.cache import MEMORY_TARGET_PERCENT as CACHE_MEMORY_TARGET_PERCENT
from modules.context import StackContext
from modules.database import PROXY_MAX_CONNECTIONS_PERCENT, READER_CPU_TARGET_PERCENT
from modules.ecs_service import CPU_TARGET, MEMORY_TARGET

RESPONSE_TIME_P95_SECONDS = 0.2  # R12.1
DATABASE_LATENCY_SECONDS = 0.05  # R12.4
CACHE_HIT_RATE_PERCENT = 95  # R12.3
AVAILABILITY_PERCENT = 99.9  # R12.7
AVAILABILITY_PERIOD_SECONDS = 300  # at least the canaries' interval
CACHE_LATENCY_MICROSECONDS = 1000  # R3.6: sub-millisecond
# Utilisation alarms, each above the autoscaling target it backs up:
UTILISATION_PERCENT = 85  # ECS: above CPU_TARGET, MEMORY_TARGET and the spike step's SPIKE_CPU_THRESHOLD
DATABASE_CPU_PERCENT = 80  # above READER_CPU_TARGET_PERCENT
CACHE_MEMORY_PERCENT = 90  # above CACHE_MEMORY_TARGET_PERCENT, where shards are added
CACHE_CPU_PERCENT = 80  # shards scale on memory only
# Of max_connections, and below PROXY_MAX_CONNECTIONS_PERCENT: RDS Proxy opens no more, so above it, it never fires.
DATABASE_CONNECTIONS_PERCENT = 80


@dataclass(frozen=True)
class LoadBalancerMetrics:
    arn_suffix: str
    target_groups: Mapping[str, str]  # service -> target group arn_suffix


@dataclass(frozen=True)
class ServiceMetrics:
    cluster_name: str
    services: Mapping[str, str]  # service -> ECS service name


@dataclass(frozen=True)
class DatabaseMetrics:
    cluster_identifier: str
    max_connections: int


@dataclass(frozen=True)
class CacheMetrics:
    """Cluster-mode nodes are named <group>-<shard:04>-<node:03>; alarms cover every shard autoscaling may add."""

    replication_group_id: str
    max_shards: int
    nodes_per_shard: int


class Alarms(Construct):
    """Exposes `composite_names` and `composite_arns` {tier: composite alarm}."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        self._names = context.names
        self._topic_arn, self._global_topic_arn = context.alerts_topic_arn, context.edge_alerts_topic_arn
        self._us_east_1 = context.providers.us_east_1
        self.composite_names: dict[str, str] = {}
        self.composite_arns: dict[str, str] = {}

    # -- tiers --

    def load_balancer(self, lb: LoadBalancerMetrics) -> None:
        """5xx from the load balancer and the targets, p95 response time per service (R12.1), unhealthy targets."""
        alarms = [
            self._alarm("load_balancer", "5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count",
                        {"LoadBalancer": lb.arn_suffix}, "GreaterThanThreshold", 10, statistic="Sum",
                        description="The load balancer answered 5xx itself (no healthy target, timeouts)"),
        ]
        for service, target_group in sorted(lb.target_groups.items()):
            dimensions = {"LoadBalancer": lb.arn_suffix, "TargetGroup": target_group}
            alarms += [
                self._alarm("load_balancer", f"{service}-p95", "AWS/ApplicationELB", "TargetResponseTime", dimensions,
                            "GreaterThanThreshold", RESPONSE_TIME_P95_SECONDS, extended_statistic="p95",
                            description=f"{service}: p95 response time above 200 ms (R12.1)"),
                self._alarm("load_balancer", f"{service}-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count",
                            dimensions, "GreaterThanThreshold", 10, statistic="Sum",
                            description=f"{service}: the app answered 5xx"),
                self._alarm("load_balancer", f"{service}-unhealthy", "AWS/ApplicationELB", "UnHealthyHostCount",
                            dimensions, "GreaterThanThreshold", 0, statistic="Maximum",
                            description=f"{service}: a task fails the load balancer's health check"),
            ]
        self._composite("load_balancer", "Load balancer or app errors or slow responses", alarms)

    def services(self, ecs: ServiceMetrics) -> None:
        """CPU and memory of each ECS service, near the ceiling autoscaling aims below."""
        alarms = []
        for service, service_name in sorted(ecs.services.items()):
            dimensions = {"ClusterName": ecs.cluster_name, "ServiceName": service_name}
            for metric, target in (("CPUUtilization", CPU_TARGET), ("MemoryUtilization", MEMORY_TARGET)):
                alarms.append(self._alarm("services", f"{service}-{metric.removesuffix('Utilization').lower()}",
                                          "AWS/ECS", metric, dimensions, "GreaterThanThreshold", UTILISATION_PERCENT,
                                          description=f"{service}: {metric} above {UTILISATION_PERCENT} % although "
                                                      f"autoscaling aims at {target} %"))
        self._composite("services", "ECS services near their CPU or memory ceiling", alarms)

    def database(self, db: DatabaseMetrics) -> None:
        """CPU, connections and read/write latency of the Aurora cluster (R12.4)."""
        dimensions = {"DBClusterIdentifier": db.cluster_identifier}
        alarms = [
            self._alarm("database", "cpu", "AWS/RDS", "CPUUtilization", dimensions, "GreaterThanThreshold",
                        DATABASE_CPU_PERCENT, description=f"Database CPU above {DATABASE_CPU_PERCENT} % "
                                                          f"(readers are added above {READER_CPU_TARGET_PERCENT} %)"),
            self._alarm("database", "connections", "AWS/RDS", "DatabaseConnections", dimensions, "GreaterThanThreshold",
                        db.max_connections * DATABASE_CONNECTIONS_PERCENT // 100, statistic="Maximum",
                        description=f"Database connections above {DATABASE_CONNECTIONS_PERCENT} % of max_connections "
                                    f"(RDS Proxy opens up to {PROXY_MAX_CONNECTIONS_PERCENT} %)"),
            self._alarm("database", "read-latency", "AWS/RDS", "ReadLatency", dimensions, "GreaterThanThreshold",
                        DATABASE_LATENCY_SECONDS, description="Database read latency above 50 ms (R12.4)"),
            self._alarm("database", "write-latency", "AWS/RDS", "WriteLatency", dimensions, "GreaterThanThreshold",
                        DATABASE_LATENCY_SECONDS, description="Database write latency above 50 ms (R12.4)"),
        ]
        self._composite("database", "Database overloaded or slow", alarms)

    def cache(self, cache: CacheMetrics) -> None:
        """Engine CPU, memory, evictions and read/write latency of every cache node (R3.6)."""
        alarms = []
        for shard in range(1, cache.max_shards + 1):
            for node in range(1, cache.nodes_per_shard + 1):
                node_id = f"{cache.replication_group_id}-{shard:04d}-{node:03d}"
                label = f"{shard:04d}-{node:03d}"
                dimensions = {"CacheClusterId": node_id}
                alarms += [
                    self._alarm("cache", f"{label}-cpu", "AWS/ElastiCache", "EngineCPUUtilization", dimensions,
                                "GreaterThanThreshold", CACHE_CPU_PERCENT,
                                description=f"Cache node {node_id}: engine CPU above {CACHE_CPU_PERCENT} %"),
                    self._alarm("cache", f"{label}-memory", "AWS/ElastiCache", "DatabaseMemoryUsagePercentage",
                                dimensions, "GreaterThanThreshold", CACHE_MEMORY_PERCENT,
                                description=f"Cache node {node_id}: memory above {CACHE_MEMORY_PERCENT} % "
                                            f"(autoscaling adds shards at {CACHE_MEMORY_TARGET_PERCENT} %)"),
                    self._alarm("cache", f"{label}-evictions", "AWS/ElastiCache", "Evictions", dimensions,
                                "GreaterThanThreshold", 0, statistic="Sum",
                                description=f"Cache node {node_id} evicts keys: sessions may be lost"),
                    *(self._alarm("cache", f"{label}-{kind}-latency", "AWS/ElastiCache",
                                  f"Successful{kind.title()}RequestLatency", dimensions, "GreaterThanThreshold",
                                  CACHE_LATENCY_MICROSECONDS,
                                  description=f"Cache node {node_id}: {kind} latency above 1 ms (R3.6)")
                      for kind in ("read", "write")),
                ]
        self._composite("cache", "Cache overloaded, evicting or slow", alarms)

    def distributions(self, distribution_ids: Mapping[str, str], cache_hit_rate_for: Sequence[str]) -> None:
        """5xx rate of each CloudFront distribution; cache hit rate of those serving only static content (R12.3).

        CloudFront reports the hit rate per distribution, not per path: a distribution that also passes
        uncached API calls through (the app's) would alarm on its API traffic, not on its static assets.
        """
        alarms = []
        for name, distribution_id in sorted(distribution_ids.items()):
            dimensions = {"DistributionId": distribution_id, "Region": "Global"}
            alarms.append(self._alarm("cdn", f"{name}-5xx", "AWS/CloudFront", "5xxErrorRate", dimensions,
                                      "GreaterThanThreshold", 1, period=300, evaluation_periods=3, datapoints=2,
                                      description=f"CloudFront {name}: more than 1 % of responses are 5xx", global_=True))
            if name in cache_hit_rate_for:
                # CacheHitRate is one of CloudFront's additional metrics, published only with this subscription.
                CloudfrontMonitoringSubscription(
                    self,
                    f"cdn_{name}_metrics",
                    distribution_id=distribution_id,
                    monitoring_subscription=CloudfrontMonitoringSubscriptionMonitoringSubscription(
                        realtime_metrics_subscription_config=CloudfrontMonitoringSubscriptionMonitoringSubscriptionRealtimeMetricsSubscriptionConfig(
                            realtime_metrics_subscription_status="Enabled")),
                    provider=self._us_east_1,
                )
                # An hour of traffic: a short window after a deploy or at night is noise, not a trend.
                alarms.append(self._alarm("cdn", f"{name}-cache-hit-rate", "AWS/CloudFront", "CacheHitRate", dimensions,
                                          "LessThanThreshold", CACHE_HIT_RATE_PERCENT, period=3600, evaluation_periods=1,
                                          datapoints=1, description=f"CloudFront {name}: cache hit rate below 95 % (R12.3)",
                                          global_=True))
        self._composite("cdn", "CloudFront errors or a falling cache hit rate", alarms, global_=True)

    def health_checks(self, health_check_ids: Mapping[str, str]) -> None:
        """Route 53 health checks of the public endpoints (R9.3)."""
        alarms = [
            self._alarm("dns", f"{name}-health", "AWS/Route53", "HealthCheckStatus", {"HealthCheckId": check_id},
                        "LessThanThreshold", 1, statistic="Minimum", evaluation_periods=3, datapoints=2,
                        description=f"Route 53 sees {name} unhealthy: DNS fails over to the maintenance origin",
                        global_=True)
            for name, check_id in sorted(health_check_ids.items())
        ]
        self._composite("dns", "Public endpoints failing their Route 53 health checks", alarms, global_=True)

    def canaries(self, canary_names: Mapping[str, str], run_every_minutes: int) -> None:
        """Availability of each public endpoint, seen by its canary, against the 99.9 % objective (R12.7)."""
        # A missing run counts as a failed one (a canary that stops is not "available"), so every window
        # holds at least one run: 5 minutes, or the canary's own interval when it runs less often.
        period = max(AVAILABILITY_PERIOD_SECONDS, run_every_minutes * 60)
        alarms = [
            # Two windows of three below 99.9 %: a failed run pages, a single blip does not.
            self._alarm("availability", name, "CloudWatchSynthetics", "SuccessPercent", {"CanaryName": canary},
                        "LessThanThreshold", AVAILABILITY_PERCENT, period=period, evaluation_periods=3, datapoints=2,
                        missing="breaching", description=f"{name}: availability below the 99.9 % objective (R12.7)")
            for name, canary in sorted(canary_names.items())
        ]
        self._composite("availability", "Public endpoints unavailable", alarms)

    # -- building blocks --

    def _alarm(self, tier: str, key: str, namespace: str, metric: str, dimensions: Mapping[str, str],
               comparison: str, threshold: float, *, statistic: str = "Average", extended_statistic: str | None = None,
               period: int = 60, evaluation_periods: int = 5, datapoints: int = 3, missing: str = "notBreaching",
               description: str, global_: bool = False) -> CloudwatchMetricAlarm:
        # Three of five minutes: long enough to skip a spike, short enough to act within minutes.
        return CloudwatchMetricAlarm(
            self,
            f"{tier}_{key}".replace("-", "_"),
            alarm_name=self._names(tier.replace("_", "-"), key),
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dict(dimensions),
            statistic=None if extended_statistic else statistic,
            extended_statistic=extended_statistic,
            comparison_operator=comparison,
            threshold=threshold,
            period=period,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints,
            treat_missing_data=missing,
            provider=self._us_east_1 if global_ else None,
        )

    def _composite(self, tier: str, description: str, alarms: Sequence[CloudwatchMetricAlarm],
                   global_: bool = False) -> None:
        if not alarms:
            return
        topic = self._global_topic_arn if global_ else self._topic_arn
        if len(alarms) == 1:
            alarms[0].alarm_actions = [topic]
            alarms[0].ok_actions = [topic]
            return
        composite = CloudwatchCompositeAlarm(
            self,
            f"{tier}_composite",
            alarm_name=self._names(tier.replace("_", "-")),
            alarm_description=f"{description}; the triggering child alarms are named in the notification",
            alarm_rule=" OR ".join(f'ALARM("{alarm.alarm_name}")' for alarm in alarms),
            alarm_actions=[topic],
            ok_actions=[topic],
            provider=self._us_east_1 if global_ else None,
        )
        self.composite_names[tier] = composite.alarm_name
        self.composite_arns[tier] = composite.arn
