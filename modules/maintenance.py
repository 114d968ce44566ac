"""The static maintenance origin (R9.3): where users land while the platform is down.

One page (`modules/static/maintenance.html`) in a private bucket, served by its
own CloudFront distribution for the host names Route 53 fails over here: every
path answers with the page and HTTP 503, so clients and crawlers know it is
temporary. It depends on nothing the platform runs (no load balancer, no task,
no database), which is the point.

Distributions that serve app host names themselves (CloudFront cannot serve one
name from two distributions) show the same page on origin errors instead:
they add `bucket` as an origin behind `path_pattern` and `page_path` as their `error_page`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cdktf_cdktf_provider_aws.s3_object import S3Object
from constructs import Construct

from modules.cdn import Behavior, ContentDelivery, Distribution, DistributionConfig, S3Origin
from modules.context import StackContext
from modules.dns import AliasTarget
from modules.naming import BUCKET_LIMIT
from modules.secure_bucket import SecureBucket, SecureBucketConfig

PAGE = Path(__file__).parent / "static" / "maintenance.html"
PAGE_KEY = "maintenance/index.html"
PAGE_PATH = f"/{PAGE_KEY}"
PATH_PATTERN = "/maintenance/*"  # the behaviour other distributions route to this bucket


@dataclass(frozen=True)
class MaintenanceSiteConfig:
    log_bucket: SecureBucket  # S3 access logs (same region)
    hosts: Sequence[str]  # full names that fail over here


class MaintenanceSite(Construct):
    """Exposes `bucket` (a SecureBucket), `page_path` and `path_pattern` (for other distributions' error
    pages), `distribution` and `target` (for Route 53 failover)."""

    def __init__(self, scope: Construct, id: str, config: MaintenanceSiteConfig, delivery: ContentDelivery) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        content_key = context.keys.content
        self.page_path, self.path_pattern = PAGE_PATH, PATH_PATTERN
        self.bucket = SecureBucket(
            self,
            "bucket",
            SecureBucketConfig(name=context.names("maintenance", context.account_id, limit=BUCKET_LIMIT),
                               kms_key_arn=content_key.arn, log_bucket=config.log_bucket),
        )
        S3Object(
            self,
            "page",
            bucket=self.bucket.name,
            key=PAGE_KEY,
            content=PAGE.read_text(),
            content_type="text/html; charset=utf-8",
            cache_control="no-cache",
            server_side_encryption="aws:kms",
            kms_key_id=content_key.arn,
        )
        self.distribution = Distribution(
            self,
            "cdn",
            DistributionConfig(
                name="maintenance",
                comment="static maintenance page, the failover of the public endpoints",
                origins=[S3Origin("page", self.bucket)],
                default_behavior=Behavior(origin_id="page", cache_policy_id=delivery.media_cache_policy_id),
                aliases=list(config.hosts),
                default_root_object=PAGE_KEY,
                # The bucket answers 403 for any other key: every path shows the page.
                error_page=PAGE_PATH,
                error_codes=(403, 404, 500, 502, 503, 504),
            ),
            delivery,
        )
        content_key.grant_decrypt(self.distribution)
        self.target = AliasTarget(self.distribution.domain_name, self.distribution.hosted_zone_id, ipv6=True)
