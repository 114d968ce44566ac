"""Where creators' files live: user content, static assets, stream recordings, VOD output, and access logs (R4).

Every bucket is a `SecureBucket` (versioned, KMS content key, private,
TLS-only). On top of that:

- Served media (user content, VOD output) moves into S3 Intelligent-Tiering
  on upload, whose optional archive tiers take only objects nobody has read
  for months (the app restores one on demand); nothing is sent to Glacier
  by age while it may still be served (R4.1, R10.2). Old versions are archived, then expired (R4.5).
- Raw stream recordings are read once, by the VOD conversion, so they are
  archived by age (R4.5).
- User content and recordings are the originals: they are replicated to the
  second region (R4.7). Static assets are rebuilt by the pipeline and VOD
  output is re-transcoded from the recordings, so neither is replicated.
- The browser uploads straight to the content bucket with presigned URLs:
  CORS allows PUT/POST of any media type (video, image, document) from the
  app's origins and exposes the ETag multipart uploads need (R4.3).
- One log bucket per region (SSE-S3: S3 and load-balancer log delivery
  cannot write with KMS) receives server access logs; the load balancer and
  CloudFront grant themselves write access with `log_bucket.grant(...)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket_cors_configuration import (
    S3BucketCorsConfiguration,
    S3BucketCorsConfigurationCorsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_intelligent_tiering_configuration import (
    S3BucketIntelligentTieringConfiguration,
    S3BucketIntelligentTieringConfigurationTiering,
)
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionTransition,
    S3BucketLifecycleConfigurationRuleTransition,
)
from constructs import Construct

from modules.context import StackContext
from modules.iam import Statement, allow_s3_server_access_logs
from modules.naming import BUCKET_LIMIT
from modules.secure_bucket import Replication, SecureBucket, SecureBucketConfig

# Headers a browser sends with a presigned single-part or multipart upload.
UPLOAD_HEADERS = ("Content-Type", "Content-MD5", "Content-Disposition", "Cache-Control", "x-amz-*")


@dataclass(frozen=True)
class ContentStorageConfig:
    upload_origins: Sequence[str]  # https://<domain>: the pages that upload directly to S3
    archive_after_days: int  # Intelligent-Tiering Archive Access: not read for this long
    deep_archive_after_days: int  # ... and Deep Archive Access
    recordings_archive_after_days: int
    noncurrent_archive_after_days: int
    noncurrent_expire_after_days: int
    log_retention_days: int
    prevent_destroy: bool


class ContentStorage(Construct):
    """Exposes SecureBuckets `content_bucket`, `static_bucket`, `recordings_bucket`, `vod_bucket`,
    `log_bucket` (this region), and in the replica region `content_replica`, `recordings_replica`
    and `replica_log_bucket`; `app_access_statements()` for an app task's role."""

    def __init__(self, scope: Construct, id: str, config: ContentStorageConfig) -> None:
        super().__init__(scope, id)
        self.config = config
        self._context = context = StackContext.of(self)
        # Originals are replicated to the second region, encrypted there with its key.
        replica_provider = context.providers.replica
        self._content_key, self._replica_key = context.keys.content.arn, context.keys.replica.arn
        self.log_bucket = self._log_bucket("logs", "access-logs", provider=None)
        self.replica_log_bucket = self._log_bucket("replica_logs", "access-logs-replica", provider=replica_provider)

        served_media = [_intelligent_tiering_on_upload(), self._archive_old_versions()]
        self.content_replica = self._replica("content", replica_provider)
        self.content_bucket = self._bucket("content", served_media, replica=self.content_replica, cors=True)
        self.static_bucket = self._bucket("static", [self._archive_old_versions()])
        self.recordings_replica = self._replica("recordings", replica_provider)
        self.recordings_bucket = self._bucket(
            "recordings",
            [
                S3BucketLifecycleConfigurationRule(
                    id="archive-old-recordings",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    transition=[
                        S3BucketLifecycleConfigurationRuleTransition(
                            days=config.recordings_archive_after_days, storage_class="GLACIER"
                        )
                    ],
                ),
                self._archive_old_versions(),
            ],
            replica=self.recordings_replica,
        )
        self.vod_bucket = self._bucket("vod", served_media)
        self._archive_unread("content", self.content_bucket)
        self._archive_unread("vod", self.vod_bucket)

    def _name(self, purpose: str) -> str:
        # Bucket names are global: the account id keeps them ours.
        return self._context.names(purpose, self._context.account_id, limit=BUCKET_LIMIT)

    def _log_bucket(self, id: str, purpose: str, provider: AwsProvider | None) -> SecureBucket:
        name = self._name(purpose)
        return SecureBucket(
            self,
            id,
            SecureBucketConfig(
                name=name,
                kms_key_arn=None,  # S3 server access logs and load-balancer logs are delivered to SSE-S3 buckets only
                noncurrent_version_days=30,
                extra_lifecycle_rules=[
                    S3BucketLifecycleConfigurationRule(
                        id="expire-logs",
                        status="Enabled",
                        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                        expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=self.config.log_retention_days)],
                    )
                ],
                extra_policy_statements=[allow_s3_server_access_logs(name, self._context.account_id)],
            ),
            provider=provider,
        )

    def _replica(self, id: str, provider: AwsProvider) -> SecureBucket:
        config = self.config
        return SecureBucket(
            self,
            f"{id}_replica",
            SecureBucketConfig(
                name=self._name(f"{id}-replica"),
                kms_key_arn=self._replica_key,
                noncurrent_version_days=config.noncurrent_expire_after_days,
                extra_lifecycle_rules=[_intelligent_tiering_on_upload()],
                log_bucket=self.replica_log_bucket,
                prevent_destroy=config.prevent_destroy,
            ),
            provider=provider,
        )

    def _bucket(
        self,
        id: str,
        lifecycle_rules: list[S3BucketLifecycleConfigurationRule],
        replica: SecureBucket | None = None,
        cors: bool = False,
    ) -> SecureBucket:
        config = self.config
        replication = (
            Replication(
                destination=replica,
                destination_kms_key_arn=self._replica_key,
                role_name=self._context.names(id, "replication"),
            )
            if replica
            else None
        )
        bucket = SecureBucket(
            self,
            id,
            SecureBucketConfig(
                name=self._name(id),
                kms_key_arn=self._content_key,
                noncurrent_version_days=config.noncurrent_expire_after_days,
                extra_lifecycle_rules=lifecycle_rules,
                log_bucket=self.log_bucket,
                prevent_destroy=config.prevent_destroy,
            ),
            replication=replication,
        )
        if cors:
            S3BucketCorsConfiguration(
                self,
                f"{id}_cors",
                bucket=bucket.bucket.id,
                cors_rule=[
                    S3BucketCorsConfigurationCorsRule(
                        id="direct-uploads",
                        allowed_methods=["PUT", "POST"],
                        allowed_origins=list(config.upload_origins),
                        allowed_headers=list(UPLOAD_HEADERS),
                        # Multipart uploads read each part's ETag from the browser.
                        expose_headers=["ETag", "x-amz-version-id"],
                        max_age_seconds=3000,
                    ),
                    S3BucketCorsConfigurationCorsRule(
                        id="downloads",
                        allowed_methods=["GET", "HEAD"],
                        allowed_origins=list(config.upload_origins),
                        allowed_headers=["Range"],
                        expose_headers=["Content-Length", "Content-Range", "ETag"],
                        max_age_seconds=3000,
                    ),
                ],
            )
        return bucket

    def _archive_old_versions(self) -> S3BucketLifecycleConfigurationRule:
        return S3BucketLifecycleConfigurationRule(
            id="archive-old-versions",
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            noncurrent_version_transition=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionTransition(
                    noncurrent_days=self.config.noncurrent_archive_after_days, storage_class="GLACIER"
                )
            ],
        )

    def _archive_unread(self, id: str, bucket: SecureBucket) -> None:
        """Intelligent-Tiering's archive tiers take only objects nobody has read for months.

        A GET of an archived object answers 403 InvalidObjectState until the app
        restores it (RestoreObject, hours), after which it is back in the frequent tier.
        """
        S3BucketIntelligentTieringConfiguration(
            self,
            f"{id}_intelligent_tiering",
            bucket=bucket.bucket.id,
            name=self._context.names("archive-unread", id),
            status="Enabled",
            tiering=[
                S3BucketIntelligentTieringConfigurationTiering(
                    access_tier="ARCHIVE_ACCESS", days=self.config.archive_after_days
                ),
                S3BucketIntelligentTieringConfigurationTiering(
                    access_tier="DEEP_ARCHIVE_ACCESS", days=self.config.deep_archive_after_days
                ),
            ],
        )

    def app_access_statements(self) -> list[Statement]:
        """What an app task does with the buckets: presign uploads and downloads of user content, read recordings
        and VOD."""
        return [
            {
                "Sid": "UserContent",
                "Effect": "Allow",
                "Action": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts",
                           "s3:PutObject", "s3:RestoreObject"],
                "Resource": f"{self.content_bucket.arn}/*",
            },
            {
                "Sid": "ReadMedia",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"{self.recordings_bucket.arn}/*", f"{self.vod_bucket.arn}/*"],
            },
            {
                "Sid": "ListMedia",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": [self.content_bucket.arn, self.recordings_bucket.arn, self.vod_bucket.arn],
            },
            {
                "Sid": "ContentKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": self._content_key,
            },
        ]


def _intelligent_tiering_on_upload() -> S3BucketLifecycleConfigurationRule:
    """Every new object moves to Intelligent-Tiering at once, whatever storage class the uploader set."""
    return S3BucketLifecycleConfigurationRule(
        id="intelligent-tiering",
        status="Enabled",
        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
        transition=[S3BucketLifecycleConfigurationRuleTransition(days=0, storage_class="INTELLIGENT_TIERING")],
    )
