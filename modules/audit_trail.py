"""The audit trail (R6.5): CloudTrail for every region, into a write-once bucket and CloudWatch Logs.

- Multi-region, global service events (IAM, STS, CloudFront) included, log file
  validation on (signed digests prove no file was changed or removed).
- Files are encrypted with the logs key and land in a dedicated bucket: object
  lock in governance mode for `retention_days`, a policy that denies deleting
  any object version or bypassing the lock, and expiry after the retention.
- Events also go to a log group, where alarms and searches can use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudtrail import Cloudtrail
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
)
from constructs import Construct

from modules.context import StackContext
from modules.iam import policy_document, service_trust
from modules.log_group import log_group
from modules.naming import BUCKET_LIMIT
from modules.secure_bucket import SecureBucket, SecureBucketConfig


@dataclass(frozen=True)
class AuditTrailConfig:
    retention_days: int
    access_log_bucket: SecureBucket  # S3 server access logs of the trail's bucket (same region, SSE-S3)


class AuditTrail(Construct):
    """Exposes `trail_arn`, `bucket_name` and `log_group_name`."""

    def __init__(self, scope: Construct, id: str, config: AuditTrailConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        names, account, logs_key = context.names, context.account_id, context.keys.logs
        trail_name = names("audit")
        trail_arn = f"arn:aws:cloudtrail:{context.region}:{account}:trail/{trail_name}"
        bucket_name = names("audit", account, limit=BUCKET_LIMIT)
        bucket_arn = f"arn:aws:s3:::{bucket_name}"
        from_this_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}

        # CloudTrail checks the key before every delivery; DescribeKey carries no encryption context,
        # so the logs key's context-scoped statement does not cover it.
        logs_key.grant({
            "Sid": "CloudTrailDescribesKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": from_this_trail,
        })

        bucket = SecureBucket(
            self,
            "bucket",
            SecureBucketConfig(
                name=bucket_name,
                kms_key_arn=logs_key.arn,
                object_lock_days=config.retention_days,
                log_bucket=config.access_log_bucket,
                noncurrent_version_days=1,  # an expired file's last version goes the day after
                extra_lifecycle_rules=[
                    S3BucketLifecycleConfigurationRule(
                        id="expire-after-retention",
                        status="Enabled",
                        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                        expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=config.retention_days)],
                    )
                ],
                extra_policy_statements=[
                    {
                        "Sid": "CloudTrailChecksAcl",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:GetBucketAcl",
                        "Resource": bucket_arn,
                        "Condition": from_this_trail,
                    },
                    {
                        "Sid": "CloudTrailWrites",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"{bucket_arn}/AWSLogs/{account}/*",
                        "Condition": {"StringEquals": {"aws:SourceArn": trail_arn,
                                                       "s3:x-amz-acl": "bucket-owner-full-control"}},
                    },
                    {
                        # Nobody, administrators included, removes audit files; lifecycle expiry is not a request.
                        "Sid": "DenyDeletingAuditLogs",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": ["s3:BypassGovernanceRetention", "s3:DeleteObject", "s3:DeleteObjectVersion",
                                   "s3:PutObjectRetention"],
                        "Resource": f"{bucket_arn}/*",
                    },
                ],
                prevent_destroy=True,
            ),
        )

        group = log_group(self, "log_group", f"/directfanz/{names.environment}/cloudtrail", logs_key.arn)
        role = IamRole(self, "logs_role", name=names("cloudtrail-logs"),
                       assume_role_policy=service_trust("cloudtrail.amazonaws.com",
                                                        conditions=from_this_trail))
        IamRolePolicy(self, "logs_policy", role=role.id, policy=policy_document([{
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{group.arn}:log-stream:*",
        }]))

        trail = Cloudtrail(
            self,
            "trail",
            name=trail_name,
            s3_bucket_name=bucket.name,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=logs_key.arn,
            cloud_watch_logs_group_arn=f"{group.arn}:*",
            cloud_watch_logs_role_arn=role.arn,
            # The bucket policy must be in place before CloudTrail's first delivery check.
            depends_on=[bucket.policy],
        )
        self.trail_arn = trail.arn
        self.bucket_name = bucket.name
        self.log_group_name = group.name
