"""Cost controls of one environment (R10.5): a monthly budget and an anomaly monitor.

Both are scoped to the environment by its `Environment` cost-allocation tag,
which every taggable resource carries through the providers' default tags
(R10.7), so three environments in one account keep three budgets. Alerts go
to the environment's alerts topic; the budget also e-mails directly, so a
misconfigured topic cannot silence it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.budgets_budget import BudgetsBudget, BudgetsBudgetCostFilter, BudgetsBudgetNotification
from cdktf_cdktf_provider_aws.ce_anomaly_monitor import CeAnomalyMonitor
from cdktf_cdktf_provider_aws.ce_anomaly_subscription import (
    CeAnomalySubscription,
    CeAnomalySubscriptionSubscriber,
    CeAnomalySubscriptionThresholdExpression,
    CeAnomalySubscriptionThresholdExpressionDimension,
)
from cdktf_cdktf_provider_aws.ce_cost_allocation_tag import CeCostAllocationTag
from constructs import Construct

from modules.context import StackContext


@dataclass(frozen=True)
class CostConfig:
    monthly_budget_usd: int
    # Percent of the budget: actual spend alerts at each, forecast spend at the last.
    alert_thresholds_percent: Sequence[int]
    anomaly_alert_usd: int
    emails: Sequence[str]


class CostControls(Construct):
    """Exposes `budget_name` and `anomaly_monitor_arn`."""

    def __init__(self, scope: Construct, id: str, config: CostConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        # Scoped to the environment by its Environment tag; alerts to its topic.
        name, environment, topic_arn = context.names("cost"), context.names.environment, context.alerts_topic_arn
        notifications = [
            BudgetsBudgetNotification(
                comparison_operator="GREATER_THAN",
                notification_type="ACTUAL",
                threshold=percent,
                threshold_type="PERCENTAGE",
                subscriber_sns_topic_arns=[topic_arn],
                subscriber_email_addresses=list(config.emails),
            )
            for percent in config.alert_thresholds_percent
        ]
        # Forecast at the top threshold warns before the month's money is spent.
        notifications.append(
            BudgetsBudgetNotification(
                comparison_operator="GREATER_THAN",
                notification_type="FORECASTED",
                threshold=max(config.alert_thresholds_percent),
                threshold_type="PERCENTAGE",
                subscriber_sns_topic_arns=[topic_arn],
                subscriber_email_addresses=list(config.emails),
            )
        )
        budget = BudgetsBudget(
            self,
            "budget",
            name=name,
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=str(config.monthly_budget_usd),
            limit_unit="USD",
            cost_filter=[BudgetsBudgetCostFilter(name="TagKeyValue", values=[f"user:Environment${environment}"])],
            notification=notifications,
        )
        self.budget_name = budget.name
        monitor = CeAnomalyMonitor(
            self,
            "anomaly_monitor",
            name=name,
            monitor_type="CUSTOM",
            monitor_specification=json.dumps(
                {"Tags": {"Key": "Environment", "Values": [environment], "MatchOptions": ["EQUALS"]}},
                sort_keys=True,
            ),
        )
        self.anomaly_monitor_arn = monitor.arn
        CeAnomalySubscription(
            self,
            "anomaly_subscription",
            name=name,
            # SNS subscribers get each anomaly as it is found (IMMEDIATE is the only frequency SNS accepts).
            frequency="IMMEDIATE",
            monitor_arn_list=[monitor.arn],
            subscriber=[CeAnomalySubscriptionSubscriber(type="SNS", address=topic_arn)],
            threshold_expression=CeAnomalySubscriptionThresholdExpression(
                dimension=CeAnomalySubscriptionThresholdExpressionDimension(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[str(config.anomaly_alert_usd)],
                )
            ),
        )


class CostAllocationTags(Construct):
    """Activates tag keys for cost allocation (R10.7): an account-wide billing setting.

    Only a standalone account or an AWS Organizations management account may
    activate keys, and billing offers a key only up to a day after a resource
    first carries it; so this is behind a switch that is off by default
    (`delivery.activate_cost_allocation_tags`, docs/decisions/0023).
    """

    def __init__(self, scope: Construct, id: str, keys: Sequence[str]) -> None:
        super().__init__(scope, id)
        for key in keys:
            CeCostAllocationTag(self, key.lower(), tag_key=key, status="Active")
