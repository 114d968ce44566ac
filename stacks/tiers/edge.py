"""Edge and content (R1.6, R4, R9): the content buckets, CloudFront, the load balancer with a route per
service, the maintenance origin, and the names users type.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformStack

from environments.config import EnvironmentConfig
from modules.cdn import (
    Behavior,
    ContentDelivery,
    ContentDeliveryConfig,
    Distribution,
    DistributionConfig,
    HttpsOrigin,
    S3Origin,
)
from modules.content_storage import ContentStorage, ContentStorageConfig
from modules.dns import AliasTarget
from modules.load_balancer import LoadBalancer, LoadBalancerConfig, RouteConfig
from modules.maintenance import MaintenanceSite, MaintenanceSiteConfig
from stacks.services import (
    API_HOST,
    APP_HOSTS,
    MEDIA_HOST,
    SERVICES,
    STATIC_ASSETS_PATH,
    UPLOAD_HOSTS,
    WEB,
    WEBSOCKET,
)
from stacks.tiers.foundation import Foundation


@dataclass(frozen=True)
class Edge:
    content: ContentStorage
    cdn: ContentDelivery  # what every distribution shares
    media: Distribution
    load_balancer: LoadBalancer
    app: Distribution


def build_edge(stack: TerraformStack, config: EnvironmentConfig, foundation: Foundation) -> Edge:
    content = _content(stack, config, foundation)
    cdn = ContentDelivery(
        stack,
        "cdn",
        ContentDeliveryConfig(signing_public_keys=config.content.signing_public_keys, log_bucket=content.log_bucket,
                              price_class=config.content.cdn_price_class,
                              certificate_arn=foundation.certificates.cloudfront_certificate_arn,
                              web_acl_arn=foundation.waf.cloudfront_web_acl_arn),
    )
    dns, context = foundation.dns, foundation.context
    media = Distribution(
        stack,
        "media_cdn",
        DistributionConfig(
            name="media",
            comment="user content, through signed URLs only",
            origins=[S3Origin("content", content.content_bucket, failover=content.content_replica)],
            default_behavior=Behavior(origin_id="content", cache_policy_id=cdn.media_cache_policy_id, signed=True),
            aliases=[dns.fqdn(MEDIA_HOST)],
        ),
        cdn,
    )
    context.keys.replica.grant_decrypt(media)  # the failover origin is encrypted in the replica region
    dns.alias(MEDIA_HOST, AliasTarget(media.domain_name, media.hosted_zone_id, ipv6=True))
    load_balancer = _load_balancer(stack, config, foundation, content)
    # R9.3: the static maintenance origin. Route 53 fails the names served by the load balancer over to it;
    # the app distribution shows its page when the load balancer cannot answer.
    maintenance = MaintenanceSite(
        stack,
        "maintenance",
        MaintenanceSiteConfig(log_bucket=content.log_bucket, hosts=[dns.fqdn(host) for host in WEBSOCKET.hosts]),
        cdn,
    )
    app = _app_distribution(stack, foundation, content, cdn, load_balancer, maintenance)
    # Names users type, by reference to what serves them (R9.4).
    app_target = AliasTarget(app.domain_name, app.hosted_zone_id, ipv6=True)
    for host in APP_HOSTS:
        if host != API_HOST:
            dns.alias(host, app_target)
    # The web app's shallow health through the public path (CloudFront, load balancer, web tasks) (R9.3).
    app_health = dns.health_check("app", "", WEB.health_path)
    # The API by weight (R9.6): another region or a canary stack is one more entry here.
    dns.weighted_alias(API_HOST, {config.region: (app_target, 100)}, app_health)
    for host in WEBSOCKET.hosts:
        dns.failover_alias(host, AliasTarget(load_balancer.dns_name, load_balancer.zone_id), app_health,
                           maintenance.target)
    return Edge(content=content, cdn=cdn, media=media, load_balancer=load_balancer, app=app)


def _content(stack: TerraformStack, config: EnvironmentConfig, foundation: Foundation) -> ContentStorage:
    settings = config.content
    return ContentStorage(
        stack,
        "storage",
        ContentStorageConfig(
            upload_origins=[f"https://{foundation.dns.fqdn(host)}" for host in UPLOAD_HOSTS],
            archive_after_days=settings.archive_after_days,
            deep_archive_after_days=settings.deep_archive_after_days,
            recordings_archive_after_days=settings.recordings_archive_after_days,
            noncurrent_archive_after_days=settings.noncurrent_archive_after_days,
            noncurrent_expire_after_days=settings.noncurrent_expire_after_days,
            log_retention_days=settings.log_retention_days,
            prevent_destroy=config.is_prod,
        ),
    )


def _load_balancer(stack: TerraformStack, config: EnvironmentConfig, foundation: Foundation,
                   content: ContentStorage) -> LoadBalancer:
    dns = foundation.dns
    return LoadBalancer(
        stack,
        "load_balancer",
        LoadBalancerConfig(
            vpc_id=foundation.network.vpc_id,
            subnet_ids=foundation.network.public_subnet_ids,
            security_group_id=foundation.security_groups.load_balancer,
            log_bucket=content.log_bucket,
            deletion_protection=config.is_prod,
            certificate_arn=foundation.certificates.load_balancer_certificate_arn,
            web_acl_arn=foundation.waf.regional_web_acl_arn,
            routes=[
                RouteConfig(name=spec.name, port=spec.port, health_check_path=spec.health_path,
                            hosts=[dns.fqdn(host) for host in spec.hosts], priority=spec.route_priority,
                            sticky=spec.sticky, deregistration_delay=spec.deregistration_delay)
                for spec in SERVICES
            ],
        ),
    )


def _app_distribution(stack: TerraformStack, foundation: Foundation, content: ContentStorage, cdn: ContentDelivery,
                      load_balancer: LoadBalancer, maintenance: MaintenanceSite) -> Distribution:
    return Distribution(
        stack,
        "app_cdn",
        DistributionConfig(
            name="app",
            comment="the web app: pages and API from the load balancer, hashed assets from S3",
            origins=[HttpsOrigin("load_balancer", load_balancer.dns_name), S3Origin("static", content.static_bucket),
                     S3Origin("maintenance", maintenance.bucket)],
            default_behavior=Behavior(origin_id="load_balancer", cache_policy_id=cdn.api_cache_policy_id,
                                      origin_request_policy_id=cdn.api_origin_request_policy_id, methods="all"),
            behaviors=[Behavior(origin_id="static", cache_policy_id=cdn.static_cache_policy_id,
                                path_pattern=STATIC_ASSETS_PATH),
                       Behavior(origin_id="maintenance", cache_policy_id=cdn.media_cache_policy_id,
                                path_pattern=maintenance.path_pattern)],
            aliases=[foundation.dns.fqdn(host) for host in WEB.hosts],
            # The load balancer unreachable or without healthy tasks: the maintenance page (R9.3).
            error_page=maintenance.page_path,
            error_codes=(502, 503, 504),
        ),
        cdn,
    )
