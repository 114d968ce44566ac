"""Where alerts go: an SNS topic, KMS-encrypted, with e-mail subscribers (R7.4).

Alarms, budgets and cost-anomaly monitors publish to `topic_arn`. The topic
policy names the AWS services that may publish, each scoped to this account;
`keys.messaging` already lets the same services use the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.iam import policy_document

# Services that publish alerts, and the condition that ties each to this account.
PUBLISHERS = ("cloudwatch.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com",
              "codestar-notifications.amazonaws.com")


@dataclass(frozen=True)
class AlertsConfig:
    name: str
    account_id: str
    kms_key_arn: str
    emails: Sequence[str]


class Alerts(Construct):
    """Exposes `topic_arn`."""

    def __init__(self, scope: Construct, id: str, config: AlertsConfig, provider: AwsProvider | None = None) -> None:
        super().__init__(scope, id)
        topic = SnsTopic(self, "topic", name=config.name, kms_master_key_id=config.kms_key_arn, provider=provider)
        self.topic_arn = topic.arn
        SnsTopicPolicy(
            self,
            "policy",
            arn=topic.arn,
            policy=policy_document(
                [
                    {
                        "Sid": "AccountServicesPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": list(PUBLISHERS)},
                        "Action": "sns:Publish",
                        "Resource": topic.arn,
                        "Condition": {"StringEquals": {"aws:SourceAccount": config.account_id}},
                    },
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "sns:Publish",
                        "Resource": topic.arn,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ]
            ),
            provider=provider,
        )
        for index, address in enumerate(config.emails):
            # Each address confirms its subscription once, from the e-mail AWS sends.
            SnsTopicSubscription(self, f"email_{index}", topic_arn=topic.arn, protocol="email", endpoint=address,
                                 provider=provider)
