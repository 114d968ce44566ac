"""An S3 bucket with the platform's secure defaults, and the knobs each use needs.

Defaults: versioning, KMS encryption with a bucket key, every public-access
block, owner-enforced object ownership (no ACLs), a TLS-only bucket policy,
EventBridge notifications, and lifecycle rules that abort stale multipart
uploads and expire old non-current versions. Access logging and cross-region
replication are wired when the caller passes a log bucket or a replica.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_notification import S3BucketNotification
from cdktf_cdktf_provider_aws.s3_bucket_object_lock_configuration import (
    S3BucketObjectLockConfigurationA,
    S3BucketObjectLockConfigurationRuleA,
    S3BucketObjectLockConfigurationRuleDefaultRetentionA,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from constructs import Construct

from modules.iam import Statement, deny_insecure_transport, policy_document, service_trust


@dataclass(frozen=True)
class SecureBucketConfig:
    name: str
    # None means SSE-S3: only for buckets that AWS log delivery writes to, which cannot use KMS.
    kms_key_arn: str | None
    noncurrent_version_days: int = 90
    extra_lifecycle_rules: Sequence[S3BucketLifecycleConfigurationRule] = field(default_factory=tuple)
    extra_policy_statements: Sequence[Statement] = field(default_factory=tuple)
    # Server access logs go to this bucket (same region) under `<name>/`; its policy grants logging.s3.amazonaws.com.
    # A name is a bucket of a stack applied before this one, whose policy exists already.
    log_bucket: SecureBucket | str | None = None
    prevent_destroy: bool = False
    force_destroy: bool = False
    # Write-once: every new object is locked this many days (governance mode). Only at creation.
    object_lock_days: int | None = None


@dataclass(frozen=True)
class Replication:
    """Where to replicate every object, and with which key in the destination region."""

    destination: SecureBucket
    destination_kms_key_arn: str
    role_name: str


class SecureBucket(Construct):
    """Exposes `bucket` (the S3Bucket), `name`, `arn`, `regional_domain_name` and `policy`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        config: SecureBucketConfig,
        provider: AwsProvider | None = None,
        replication: Replication | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.config = config
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=config.name,
            force_destroy=config.force_destroy,
            object_lock_enabled=True if config.object_lock_days is not None else None,
            provider=provider,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if config.prevent_destroy else None,
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.regional_domain_name = self.bucket.bucket_regional_domain_name

        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
            provider=provider,
        )
        if config.object_lock_days is not None:
            S3BucketObjectLockConfigurationA(
                self,
                "object_lock",
                bucket=self.bucket.id,
                rule=S3BucketObjectLockConfigurationRuleA(
                    default_retention=S3BucketObjectLockConfigurationRuleDefaultRetentionA(
                        mode="GOVERNANCE", days=config.object_lock_days
                    )
                ),
                depends_on=[self.versioning],
                provider=provider,
            )
        by_default = (
            S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms", kms_master_key_id=config.kms_key_arn
            )
            if config.kms_key_arn
            else S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(sse_algorithm="AES256")
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=by_default,
                    bucket_key_enabled=config.kms_key_arn is not None,
                )
            ],
            provider=provider,
        )
        self.public_access_block = S3BucketPublicAccessBlock(
            self,
            "public_access_block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            provider=provider,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
            provider=provider,
        )
        self._statements: list[Statement] = [
            deny_insecure_transport(self.bucket.arn, f"{self.bucket.arn}/*"),
            *config.extra_policy_statements,
        ]
        self.policy = S3BucketPolicy(
            self,
            "policy",
            bucket=self.bucket.id,
            policy=policy_document(self._statements),
            # A policy put before the public-access block may be refused as public.
            depends_on=[self.public_access_block],
            provider=provider,
        )
        S3BucketNotification(self, "notification", bucket=self.bucket.id, eventbridge=True, provider=provider)
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="abort-incomplete-multipart-uploads",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=config.noncurrent_version_days
                        )
                    ],
                ),
                *config.extra_lifecycle_rules,
            ],
            depends_on=[self.versioning],
            provider=provider,
        )
        if config.log_bucket is not None:
            # With ACLs off only the target's bucket policy lets S3 deliver the logs: it must exist first.
            target, policy = ((config.log_bucket.name, [config.log_bucket.policy])
                              if isinstance(config.log_bucket, SecureBucket) else (config.log_bucket, None))
            S3BucketLoggingA(
                self,
                "logging",
                bucket=self.bucket.id,
                target_bucket=target,
                target_prefix=f"{config.name}/",
                depends_on=policy,
                provider=provider,
            )
        if replication:
            self._replicate(replication, provider)

    def grant(self, statement: Statement) -> None:
        """Grant a principal that exists only after the bucket (a distribution, a log delivery) what `statement` says."""
        self._statements.append(statement)
        self.policy.policy = policy_document(self._statements)

    def _replicate(self, replication: Replication, provider: AwsProvider | None) -> None:
        destination = replication.destination
        role = IamRole(
            self,
            "replication_role",
            name=replication.role_name,
            assume_role_policy=service_trust("s3.amazonaws.com"),
            provider=provider,
        )
        IamRolePolicy(
            self,
            "replication_policy",
            role=role.id,
            policy=policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                        "Resource": [self.arn],
                    },
                    {
                        "Effect": "Allow",
                        "Action": [
                            "s3:GetObjectVersionAcl",
                            "s3:GetObjectVersionForReplication",
                            "s3:GetObjectVersionTagging",
                        ],
                        "Resource": [f"{self.arn}/*"],
                    },
                    {
                        "Effect": "Allow",
                        "Action": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
                        "Resource": [f"{destination.arn}/*"],
                    },
                    {
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt"],
                        "Resource": [self.config.kms_key_arn],
                    },
                    {
                        "Effect": "Allow",
                        "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                        "Resource": [replication.destination_kms_key_arn],
                    },
                ]
            ),
            provider=provider,
        )
        S3BucketReplicationConfigurationA(
            self,
            "replication",
            bucket=self.bucket.id,
            role=role.arn,
            rule=[
                S3BucketReplicationConfigurationRule(
                    id="replicate-everything",
                    status="Enabled",
                    filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),
                    delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                        status="Enabled"
                    ),
                    source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                            status="Enabled"
                        )
                    ),
                    destination=S3BucketReplicationConfigurationRuleDestination(
                        bucket=destination.arn,
                        storage_class="STANDARD",
                        encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                            replica_kms_key_id=replication.destination_kms_key_arn
                        ),
                    ),
                )
            ],
            # S3 refuses a replication configuration until versioning is on at both ends.
            depends_on=[self.versioning, destination.versioning],
            provider=provider,
        )
