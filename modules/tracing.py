"""Distributed tracing with AWS X-Ray, fed by OpenTelemetry (R7.2).

Each ECS task runs an AWS Distro for OpenTelemetry collector sidecar (added by
the compute tier) that receives OTLP from the app and exports to X-Ray; the
X-Ray SDKs and daemon reach end of support on 2027-02-25
(docs/decisions/0002-tracing-with-adot.md). Here: sampling rules (health
checks never, the API at twice the rate of the rest), X-Ray groups
that split the service map per service with insights on, the policy the
collector's task role needs, and the app's sampler settings: the app's X-Ray
remote sampler fetches the rules and its quotas through the collector's
`awsproxy` extension, which signs the calls with the task role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.xray_group import XrayGroup, XrayGroupInsightsConfiguration
from cdktf_cdktf_provider_aws.xray_sampling_rule import XraySamplingRule
from constructs import Construct

from modules.context import StackContext
from modules.iam import Statement

# The collector's awsproxy extension (modules/ecs_service.py) listens here; the app's sampler calls it.
AWSPROXY_ENDPOINT = "127.0.0.1:2000"
# OpenTelemetry's X-Ray remote sampler (`xray`); without it the app samples on its own and ignores the rules.
SAMPLER_ENVIRONMENT = {"OTEL_TRACES_SAMPLER": "xray", "OTEL_TRACES_SAMPLER_ARG": f"endpoint=http://{AWSPROXY_ENDPOINT}"}

# What the ADOT collector calls: put traces, and (through awsproxy) the sampling rules and quotas defined here.
COLLECTOR_STATEMENT: Statement = {
    "Sid": "XRayFromCollector",
    "Effect": "Allow",
    "Action": [
        "xray:GetSamplingRules",
        "xray:GetSamplingStatisticSummaries",
        "xray:GetSamplingTargets",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ],
    # X-Ray has no resource-level permissions for these actions.
    "Resource": "*",
}


@dataclass(frozen=True)
class HealthChecks:
    """A service's health-check requests, which are never traced."""

    rule_id: str  # the sampling rule's construct id
    rule_name: str  # its name after the prefix
    path: str  # X-Ray's URL pattern, e.g. /api/health*


@dataclass(frozen=True)
class TracingConfig:
    # Share of requests traced beyond each second's reservoir (0..1).
    sample_rate: float
    services: Sequence[str]  # an X-Ray group each
    health_checks: Sequence[HealthChecks]


class Tracing(Construct):
    """Exposes `group_names` {service: X-Ray group name} and `collector_statement`."""

    def __init__(self, scope: Construct, id: str, config: TracingConfig) -> None:
        super().__init__(scope, id)
        self.collector_statement = COLLECTOR_STATEMENT
        prefix = StackContext.of(self).names.prefix  # directfanz-prod: X-Ray names are account-wide

        def rule(construct_id: str, name: str, priority: int, fixed_rate: float, reservoir: int, url_path: str,
                 http_method: str = "*") -> None:
            XraySamplingRule(
                self,
                construct_id,
                rule_name=name,
                priority=priority,
                version=1,
                reservoir_size=reservoir,
                fixed_rate=fixed_rate,
                url_path=url_path,
                host="*",
                http_method=http_method,
                service_name=f"{prefix}-*",
                service_type="*",
                resource_arn="*",
            )

        # Load balancer health checks every few seconds would drown real traffic.
        for priority, checks in enumerate(config.health_checks, start=100):
            rule(checks.rule_id, f"{prefix}-{checks.rule_name}", priority, 0.0, 0, checks.path)
        rule("api", f"{prefix}-api", 200, min(1.0, config.sample_rate * 2), 5, "/api/*")
        rule("default", f"{prefix}-default", 1000, config.sample_rate, 1, "*")

        self.group_names: dict[str, str] = {}
        for service in config.services:
            name = f"{prefix}-{service}"
            XrayGroup(
                self,
                f"group_{service}",
                group_name=name,
                filter_expression=f'service("{name}")',
                insights_configuration=XrayGroupInsightsConfiguration(insights_enabled=True, notifications_enabled=True),
            )
            self.group_names[service] = name
        XrayGroup(
            self,
            "group_errors",
            group_name=f"{prefix}-errors",
            filter_expression="(" + " OR ".join(f'service("{name}")' for name in self.group_names.values())
            + ") AND (fault = true OR error = true)",
            insights_configuration=XrayGroupInsightsConfiguration(insights_enabled=True, notifications_enabled=True),
        )
