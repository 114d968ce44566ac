"""What the application's logs answer (R7.3, R7.6): business metrics, indexed fields, saved queries.

The services log one JSON object per line; the fields used here are the
contract with the application: `level`, `msg`, `event` (business events),
`route`, `method`, `status`, `duration_ms`, `request_id`, `user_id`,
`session_id` and, on payments, `amount_usd`.

- Metric filters turn business events into CloudWatch metrics (sign-ups,
  payments and their value, stream starts) and count each service's errors.
- A field index policy per log group makes the id fields fast to search (R7.6).
- Saved Logs Insights queries answer the common questions: errors by route,
  slow requests, p95 by route, and one user's session.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_index_policy import CloudwatchLogIndexPolicy
from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.cloudwatch_query_definition import CloudwatchQueryDefinition
from constructs import Construct

from modules.context import StackContext

# metric name -> the `event` value the app logs for it.
BUSINESS_EVENTS = {"SignUps": "user.signed_up", "Payments": "payment.succeeded", "StreamStarts": "stream.started"}
INDEXED_FIELDS = ("request_id", "user_id", "session_id", "route")
SLOW_REQUEST_MS = 200  # R12.1's objective

QUERIES = {
    "errors-by-route": (
        "fields @timestamp, route, status, msg\n"
        '| filter level = "error" or status >= 500\n'
        "| stats count(*) as errors by route, status\n"
        "| sort errors desc"
    ),
    "slow-requests": (
        "fields @timestamp, method, route, status, duration_ms, request_id\n"
        f"| filter duration_ms > {SLOW_REQUEST_MS}\n"
        "| sort duration_ms desc\n"
        "| limit 100"
    ),
    "p95-by-route": (
        "filter ispresent(duration_ms)\n"
        "| stats pct(duration_ms, 95) as p95_ms, count(*) as requests by route\n"
        "| sort p95_ms desc"
    ),
    # Replace USER_ID (or filter on session_id) before running.
    "user-session": (
        "fields @timestamp, @logStream, session_id, method, route, status, event, msg\n"
        '| filter user_id = "USER_ID"\n'
        "| sort @timestamp asc"
    ),
}


@dataclass(frozen=True)
class LogsInsightsConfig:
    namespace: str  # where business metrics go, e.g. DirectFanz/prod
    log_groups: Mapping[str, str]  # service -> log group name


class LogsInsights(Construct):
    """Exposes `namespace` and `business_metrics` (metric names)."""

    def __init__(self, scope: Construct, id: str, config: LogsInsightsConfig) -> None:
        super().__init__(scope, id)
        names = StackContext.of(self).names
        self.namespace = config.namespace
        self.business_metrics = (*BUSINESS_EVENTS, "PaymentsUsd")
        for service, group in sorted(config.log_groups.items()):
            def metric(key: str, metric_name: str, pattern: str, value: str = "1",
                       service: str = service, group: str = group) -> None:
                CloudwatchLogMetricFilter(
                    self,
                    f"{service}_{key}",
                    name=names(service, key.replace("_", "-")),
                    log_group_name=group,
                    pattern=pattern,
                    metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                        name=metric_name, namespace=config.namespace, value=value, unit="None"),
                )

            for metric_name, event in BUSINESS_EVENTS.items():
                metric(metric_name.lower(), metric_name, f'{{ $.event = "{event}" }}')
            metric("payments_usd", "PaymentsUsd", f'{{ $.event = "{BUSINESS_EVENTS["Payments"]}" }}',
                   value="$.amount_usd")
            metric("errors", f"{service.title()}Errors", '{ $.level = "error" }')
            CloudwatchLogIndexPolicy(self, f"{service}_index", log_group_name=group,
                                     policy_document=json.dumps({"Fields": list(INDEXED_FIELDS)}))
        for name, query in QUERIES.items():
            # A "/" files the query in a folder per environment in the console.
            CloudwatchQueryDefinition(self, f"query_{name.replace('-', '_')}", name=f"{names.prefix}/{name}",
                                      log_group_names=list(config.log_groups.values()), query_string=query)
