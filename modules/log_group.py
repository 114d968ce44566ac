"""A CloudWatch log group as the platform keeps them: KMS-encrypted, 30 days (R7.1, R7.6)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

LOG_RETENTION_DAYS = 30  # R7.6; checkov's one-year check is suppressed per type with this reason


def log_group(scope: Construct, id: str, name: str, kms_key_arn: str,
              provider: AwsProvider | None = None) -> CloudwatchLogGroup:
    """`provider` for a group outside the primary region (WAF for CloudFront, Route 53 query logs: us-east-1)."""
    return CloudwatchLogGroup(scope, id, name=name, retention_in_days=LOG_RETENTION_DAYS, kms_key_id=kms_key_arn,
                              provider=provider)
