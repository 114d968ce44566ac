"""CloudFront: the pieces every distribution shares, and one distribution construct that any tier reuses (R4.2, R4.4, R4.6, R10.6, R12.3).

`ContentDelivery` holds what is shared: the cache policies, the origin request
policy for the API, the security-headers response policy, the origin access
control for S3, the key group that verifies signed URLs, and the log
destination. `Distribution` builds one distribution from origins and
behaviours on top of it: HTTPS only, HTTP/2 and HTTP/3, IPv6, compression,
origin shield for S3 origins, the WAF web ACL and the us-east-1 certificate, and access logs
through CloudFront standard logging v2 (CloudWatch log delivery to S3, which
needs no bucket ACLs; docs/decisions). An S3 origin is read through origin
access control and its bucket policy names only that distribution.

Cache hit ratio (R12.3): hashed static assets are cached for a year on a key
of path and encoding only, no cookies, headers or query strings; media for a
day by default and up to a year; origin shield puts one more cache layer
before the origin, so every edge location's miss becomes one origin request.
The private signing key never enters Terraform: only the public key is
configured (`signing_public_keys`), and the app signs URLs with the private
key it reads from Secrets Manager.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from cdktf_cdktf_provider_aws.cloudfront_cache_policy import (
    CloudfrontCachePolicy,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOrigin,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfig,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfig,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfig,
)
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionCustomErrorResponse,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomOriginConfig,
    CloudfrontDistributionOriginGroup,
    CloudfrontDistributionOriginGroupFailoverCriteria,
    CloudfrontDistributionOriginGroupMember,
    CloudfrontDistributionOriginOriginShield,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktf_cdktf_provider_aws.cloudfront_key_group import CloudfrontKeyGroup
from cdktf_cdktf_provider_aws.cloudfront_origin_access_control import CloudfrontOriginAccessControl
from cdktf_cdktf_provider_aws.cloudfront_origin_request_policy import (
    CloudfrontOriginRequestPolicy,
    CloudfrontOriginRequestPolicyCookiesConfig,
    CloudfrontOriginRequestPolicyHeadersConfig,
    CloudfrontOriginRequestPolicyQueryStringsConfig,
)
from cdktf_cdktf_provider_aws.cloudfront_public_key import CloudfrontPublicKey
from cdktf_cdktf_provider_aws.cloudfront_response_headers_policy import (
    CloudfrontResponseHeadersPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfig,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigXssProtection,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery import CloudwatchLogDelivery
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery_destination import (
    CloudwatchLogDeliveryDestination,
    CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery_source import CloudwatchLogDeliverySource
from constructs import Construct

from modules.context import StackContext
from modules.iam import Statement
from modules.secure_bucket import SecureBucket

DAY = 86_400
YEAR = 365 * DAY
READ_METHODS = ["GET", "HEAD", "OPTIONS"]
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
CACHED_METHODS = ["GET", "HEAD"]
# An origin error answered with the error page is cached this long: recovery shows within seconds.
ERROR_CACHING_SECONDS = 10
# CloudFront logs are delivered by CloudWatch Logs from us-east-1, where CloudFront reports.
LOG_DELIVERY_REGION = "us-east-1"


@dataclass(frozen=True)
class ContentDeliveryConfig:
    signing_public_keys: Sequence[str]  # PEM; more than one while a key is being rotated
    log_bucket: SecureBucket
    price_class: str
    certificate_arn: str  # ACM, in us-east-1, naming every alias
    web_acl_arn: str  # WAF, CLOUDFRONT scope


class ContentDelivery(Construct):
    """Shared by every distribution. Exposes `static_cache_policy_id`, `media_cache_policy_id`,
    `api_cache_policy_id`, `api_origin_request_policy_id`, `security_headers_policy_id`,
    `s3_origin_access_control_id`, `key_group_id`, `log_destination_arn`, `origin_shield_region` and `config`."""

    def __init__(self, scope: Construct, id: str, config: ContentDeliveryConfig) -> None:
        super().__init__(scope, id)
        self.config = config
        context = StackContext.of(self)
        self._names = names = context.names
        account = context.account_id
        # Origin shield sits in the region of the origins: the stack's.
        self.origin_shield_region = context.region

        self.static_cache_policy_id = self._cache_policy(
            "static", "Hashed static assets: a year, keyed on path and encoding only", min_ttl=DAY,
            default_ttl=YEAR, max_ttl=YEAR,
        )
        self.media_cache_policy_id = self._cache_policy(
            "media", "User media and VOD: a day unless the object says otherwise, at most a year", min_ttl=0,
            default_ttl=DAY, max_ttl=YEAR,
        )
        self.api_cache_policy_id = self._cache_policy("api", "API and pages: never cached", 0, 0, 0)
        self.api_origin_request_policy_id = CloudfrontOriginRequestPolicy(
            self,
            "api_origin_request",
            name=names("api"),
            comment="API and pages: every viewer header (Host included, for the origin certificate), cookie and query string",
            headers_config=CloudfrontOriginRequestPolicyHeadersConfig(header_behavior="allViewer"),
            cookies_config=CloudfrontOriginRequestPolicyCookiesConfig(cookie_behavior="all"),
            query_strings_config=CloudfrontOriginRequestPolicyQueryStringsConfig(query_string_behavior="all"),
        ).id
        self.security_headers_policy_id = CloudfrontResponseHeadersPolicy(
            self,
            "security_headers",
            name=names("security-headers"),
            comment="HSTS, no sniffing, no framing, strict referrer",
            security_headers_config=CloudfrontResponseHeadersPolicySecurityHeadersConfig(
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=2 * YEAR, include_subdomains=True, preload=True, override=True
                ),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(override=True),
                frame_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(
                    frame_option="DENY", override=True
                ),
                referrer_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
                xss_protection=CloudfrontResponseHeadersPolicySecurityHeadersConfigXssProtection(
                    protection=True, mode_block=True, override=True
                ),
            ),
        ).id
        self.s3_origin_access_control_id = CloudfrontOriginAccessControl(
            self,
            "s3_access",
            name=names("s3"),
            description="CloudFront reads S3 origins with SigV4; buckets stay private",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
        ).id
        public_keys = [
            CloudfrontPublicKey(
                self,
                f"signing_key_{index}",
                name=names("signing", str(index)),
                comment="Verifies signed URLs; the private half is in Secrets Manager, never in Terraform",
                encoded_key=pem,
            )
            for index, pem in enumerate(config.signing_public_keys)
        ]
        self.key_group_id = CloudfrontKeyGroup(
            self, "signing", name=names("signing"), items=[key.id for key in public_keys],
            comment="Signed URLs for private content",
        ).id
        destination = CloudwatchLogDeliveryDestination(
            self,
            "log_destination",
            name=names("cloudfront-logs"),
            output_format="parquet",
            delivery_destination_configuration=[
                CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration(
                    destination_resource_arn=config.log_bucket.arn
                )
            ],
            provider=context.providers.us_east_1,
        )
        self.log_destination_arn = destination.arn
        config.log_bucket.grant(
            {
                "Sid": "CloudFrontStandardLogsV2",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:PutObject",
                # Vended logs land under AWSLogs/<account>/CloudFront/<distribution id>/.
                "Resource": f"{config.log_bucket.arn}/AWSLogs/{account}/*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control"},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:aws:logs:{LOG_DELIVERY_REGION}:{account}:delivery-source:*"
                    },
                },
            }
        )

    def _cache_policy(self, name: str, comment: str, min_ttl: int, default_ttl: int, max_ttl: int) -> str:
        return cache_policy(self, f"{name}_cache", self._names(name), comment, min_ttl, default_ttl, max_ttl)


def cache_policy(scope: Construct, id: str, name: str, comment: str, min_ttl: int, default_ttl: int, max_ttl: int) -> str:
    """A cache policy keyed on the path alone (no cookies, headers or query strings); returns its id."""
    caching = max_ttl > 0  # CloudFront refuses compression keys in a policy that disables caching
    return CloudfrontCachePolicy(
        scope,
        id,
        name=name,
        comment=comment,
        min_ttl=min_ttl,
        default_ttl=default_ttl,
        max_ttl=max_ttl,
        parameters_in_cache_key_and_forwarded_to_origin=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOrigin(
            cookies_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfig(
                cookie_behavior="none"
            ),
            headers_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfig(
                header_behavior="none"
            ),
            query_strings_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfig(
                query_string_behavior="none"
            ),
            enable_accept_encoding_gzip=caching,
            enable_accept_encoding_brotli=caching,
        ),
    ).id


@dataclass(frozen=True)
class S3Origin:
    """A private bucket read through origin access control; with `failover` (its cross-region replica),
    CloudFront retries there when the primary answers 5xx or 403/404 of a not-yet-replicated object."""

    id: str
    bucket: SecureBucket
    failover: SecureBucket | None = None


@dataclass(frozen=True)
class HttpsOrigin:
    id: str
    domain_name: str


@dataclass(frozen=True)
class Behavior:
    origin_id: str
    cache_policy_id: str
    path_pattern: str | None = None  # None: the default behaviour
    origin_request_policy_id: str | None = None
    signed: bool = False  # viewers need a URL signed with a key of the key group (R4.6)
    methods: Literal["read", "all"] = "read"


@dataclass(frozen=True)
class DistributionConfig:
    name: str  # short: "media", "app", "streaming"
    comment: str
    default_behavior: Behavior
    origins: Sequence[S3Origin | HttpsOrigin]
    behaviors: Sequence[Behavior] = field(default_factory=tuple)
    aliases: Sequence[str] = field(default_factory=tuple)
    # A path this distribution serves, answered with 503 for `error_codes` from the origin: a maintenance page.
    error_page: str | None = None
    error_codes: Sequence[int] = (500, 502, 503, 504)
    default_root_object: str | None = None


class Distribution(Construct):
    """Exposes `distribution`, `id`, `arn`, `domain_name` and `hosted_zone_id` (for Route 53 aliases)."""

    def __init__(self, scope: Construct, id: str, config: DistributionConfig, delivery: ContentDelivery) -> None:
        super().__init__(scope, id)
        shared = delivery.config
        self._context = context = StackContext.of(self)
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            comment=f"{context.names.prefix} {config.name}: {config.comment}",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=shared.price_class,
            aliases=list(config.aliases),
            web_acl_id=shared.web_acl_arn,
            default_root_object=config.default_root_object,
            custom_error_response=[
                CloudfrontDistributionCustomErrorResponse(
                    error_code=code, response_code=503, response_page_path=config.error_page,
                    error_caching_min_ttl=ERROR_CACHING_SECONDS,
                )
                for code in (config.error_codes if config.error_page else ())
            ],
            origin=[
                self._origin(origin_id, domain_name, bucket is not None, delivery)
                for origin in config.origins
                for origin_id, bucket, domain_name in self._members(origin)
            ],
            origin_group=[
                CloudfrontDistributionOriginGroup(
                    origin_id=origin.id,
                    member=[CloudfrontDistributionOriginGroupMember(origin_id=member[0]) for member in self._members(origin)],
                    failover_criteria=CloudfrontDistributionOriginGroupFailoverCriteria(
                        status_codes=[403, 404, 500, 502, 503, 504]
                    ),
                )
                for origin in config.origins
                if isinstance(origin, S3Origin) and origin.failover
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                **self._behavior(config.default_behavior, delivery)
            ),
            ordered_cache_behavior=[
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern=behavior.path_pattern, **self._behavior(behavior, delivery)
                )
                for behavior in config.behaviors
            ],
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            viewer_certificate=CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=shared.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021",
            ),
        )
        self.id = self.distribution.id
        self.arn = self.distribution.arn
        self.domain_name = self.distribution.domain_name
        self.hosted_zone_id = self.distribution.hosted_zone_id

        for origin in config.origins:
            for _, bucket, _ in self._members(origin):
                if bucket is not None:
                    bucket.grant(
                        {
                            "Sid": f"CloudFront{config.name.title()}Reads",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": f"{bucket.arn}/*",
                            "Condition": {"StringEquals": {"AWS:SourceArn": self.arn}},
                        }
                    )
        self._log(config, delivery)

    def decrypt_statement(self) -> Statement:
        """The key-policy statement that lets this distribution read objects encrypted with a KMS key
        (`key.grant_decrypt(distribution)`)."""
        return {
            "Sid": f"CloudFrontDecrypts{self.node.id.title().replace('_', '')}",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"AWS:SourceArn": self.arn}},
        }

    @staticmethod
    def _members(origin: S3Origin | HttpsOrigin) -> list[tuple[str, SecureBucket | None, str]]:
        """(origin id, bucket, domain) of each origin CloudFront knows; a failover pair is grouped under the S3Origin's id."""
        if isinstance(origin, HttpsOrigin):
            return [(origin.id, None, origin.domain_name)]
        if origin.failover is None:
            return [(origin.id, origin.bucket, origin.bucket.regional_domain_name)]
        return [
            (f"{origin.id}-primary", origin.bucket, origin.bucket.regional_domain_name),
            (f"{origin.id}-failover", origin.failover, origin.failover.regional_domain_name),
        ]

    @staticmethod
    def _origin(origin_id: str, domain_name: str, s3: bool, delivery: ContentDelivery) -> CloudfrontDistributionOrigin:
        if s3:
            return CloudfrontDistributionOrigin(
                origin_id=origin_id,
                domain_name=domain_name,
                origin_access_control_id=delivery.s3_origin_access_control_id,
                origin_shield=CloudfrontDistributionOriginOriginShield(
                    enabled=True, origin_shield_region=delivery.origin_shield_region
                ),
            )
        # HTTPS origins serve dynamic responses (the app): nothing is cached, so a shield would only add a hop.
        return CloudfrontDistributionOrigin(
            origin_id=origin_id,
            domain_name=domain_name,
            custom_origin_config=CloudfrontDistributionOriginCustomOriginConfig(
                http_port=80,
                https_port=443,
                origin_protocol_policy="https-only",
                origin_ssl_protocols=["TLSv1.2"],
            ),
        )

    @staticmethod
    def _behavior(behavior: Behavior, delivery: ContentDelivery) -> dict:
        return {
            "target_origin_id": behavior.origin_id,
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ALL_METHODS if behavior.methods == "all" else READ_METHODS,
            "cached_methods": CACHED_METHODS,
            "cache_policy_id": behavior.cache_policy_id,
            "origin_request_policy_id": behavior.origin_request_policy_id,
            "response_headers_policy_id": delivery.security_headers_policy_id,
            "compress": True,
            "trusted_key_groups": [delivery.key_group_id] if behavior.signed else None,
        }

    def _log(self, config: DistributionConfig, delivery: ContentDelivery) -> None:
        source = CloudwatchLogDeliverySource(
            self,
            "log_source",
            name=self._context.names("cloudfront", config.name),
            log_type="ACCESS_LOGS",
            resource_arn=self.arn,
            # CloudFront reports, and delivers its logs, from us-east-1.
            provider=self._context.providers.us_east_1,
        )
        CloudwatchLogDelivery(
            self,
            "log_delivery",
            delivery_source_name=source.name,
            delivery_destination_arn=delivery.log_destination_arn,
            provider=self._context.providers.us_east_1,
        )
