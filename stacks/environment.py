"""One environment's stack: every module of the platform, wired in one place.

Tiers are added in dependency order: network and security, data, compute and
content, streaming, observability and delivery. Each module takes a typed
config and exposes what the next ones need as attributes.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from environments.config import PROJECT, EnvironmentConfig
from modules.alarms import Alarms, CacheMetrics, DatabaseMetrics, LoadBalancerMetrics, ServiceMetrics
from modules.alerts import Alerts, AlertsConfig
from modules.app_secrets import AppSecrets, AppSecretsConfig
from modules.audit_trail import AuditTrail, AuditTrailConfig
from modules.backup import Backup, BackupConfig
from modules.cache import Cache, CacheConfig, CacheSizing
from modules.canaries import Canaries, CanariesConfig
from modules.cdn import (
    Behavior,
    ContentDelivery,
    ContentDeliveryConfig,
    Distribution,
    DistributionConfig,
    HttpsOrigin,
    S3Origin,
)
from modules.certificates import Certificates, CertificatesConfig
from modules.container_registry import ContainerRegistry, ContainerRegistryConfig
from modules.content_storage import ContentStorage, ContentStorageConfig
from modules.context import StackContext
from modules.cost import CostConfig, CostControls
from modules.dashboards import Dashboards, DashboardsConfig
from modules.database import Database, DatabaseConfig, DatabaseSizing
from modules.dns import SERVICE_HOSTS, AliasTarget, Dns, DnsConfig
from modules.ecs_cluster import CapacityStrategy, Cluster, EcsClusterConfig
from modules.ecs_service import EcsServiceConfig, Service, TaskSizing
from modules.encryption import EncryptionKeys, EncryptionKeysConfig
from modules.load_balancer import LoadBalancer, LoadBalancerConfig, RouteConfig
from modules.logs_insights import LogsInsights, LogsInsightsConfig
from modules.maintenance import MaintenanceSite, MaintenanceSiteConfig
from modules.naming import Names
from modules.network import Network, NetworkConfig
from modules.providers import Providers, ProvidersConfig
from modules.remote_state import StateStore, use_remote_state
from modules.security_groups import WEB_PORT, WEBSOCKET_PORT, SecurityGroups, SecurityGroupsConfig
from modules.streaming import ARCHIVE_PREFIX, HLS_OUTPUT_GROUP, LIVE_PREFIX, LiveChannels, LiveChannelsConfig
from modules.streaming_metrics import StreamingMetrics, StreamingMetricsConfig
from modules.streaming_vod import VOD_PREFIX, VodConversion, VodConversionConfig
from modules.tracing import COLLECTOR_STATEMENT, SAMPLER_ENVIRONMENT, Tracing, TracingConfig
from modules.waf import Waf, WafConfig
from stacks.base import PlatformStack
from stacks.tags import cost_tags


class EnvironmentStack(PlatformStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig, state: StateStore) -> None:
        super().__init__(scope, config.name)
        self.config = config
        names = Names(PROJECT, config.name)
        use_remote_state(self, state, key=f"{config.name}/terraform.tfstate")
        providers = Providers(
            self,
            "providers",
            ProvidersConfig(
                account_id=config.account_id,
                region=config.region,
                replica_region=config.replica_region,
                tags=cost_tags(config),
            ),
        )

        # -- network and security (R6, R9) --
        keys = EncryptionKeys(
            self,
            "keys",
            EncryptionKeysConfig(names=names, account_id=config.account_id, region=config.region,
                                 replica_region=config.replica_region),
            replica_provider=providers.replica,
            us_east_1_provider=providers.us_east_1,
        )
        # Every tier's alarms page the alerts topic; CloudFront and Route 53 publish their metrics in us-east-1
        # only, so their alarms need a topic there.
        alerts = Alerts(
            self,
            "alerts",
            AlertsConfig(name=names("alerts"), account_id=config.account_id, kms_key_arn=keys.messaging.arn,
                         emails=tuple(config.alert_emails)),
        )
        edge_alerts = alerts if config.region == "us-east-1" else Alerts(
            self,
            "edge_alerts",
            AlertsConfig(name=names("edge-alerts"), account_id=config.account_id, kms_key_arn=keys.edge_messaging.arn,
                         emails=tuple(config.alert_emails)),
            provider=providers.us_east_1,
        )
        StackContext(names=names, account_id=config.account_id, region=config.region, providers=providers, keys=keys,
                     alerts_topic_arn=alerts.topic_arn, edge_alerts_topic_arn=edge_alerts.topic_arn).provide(self)
        network = Network(
            self,
            "network",
            NetworkConfig(cidr=config.vpc_cidr, zones=config.availability_zones, nat_per_zone=config.is_prod),
        )
        security_groups = SecurityGroups(
            self,
            "security_groups",
            SecurityGroupsConfig(vpc_id=network.vpc_id,
                                 endpoints_security_group_id=network.endpoints_security_group_id),
        )
        waf = Waf(
            self,
            "waf",
            WafConfig(rate_limit_per_ip=config.security.waf_rate_limit_per_ip),
        )
        dns = Dns(
            self,
            "dns",
            DnsConfig(domain=config.domain, delegations=config.dns.delegations),
        )
        certificates = Certificates(
            self,
            "certificates",
            CertificatesConfig(domain=config.domain, alternative_names=[dns.fqdn(host) for host in SERVICE_HOSTS],
                               zone_id=dns.zone_id),
        )
        app_secrets = AppSecrets(
            self,
            "app_secrets",
            AppSecretsConfig(recovery_window_days=config.security.secret_recovery_window_days),
        )

        # -- data (R2, R3, R11.4) --
        database = Database(
            self,
            "database",
            DatabaseConfig(sizing=DatabaseSizing(**config.database.model_dump()), zones=network.zones,
                           subnet_ids=network.data_subnet_ids, security_group_id=security_groups.database,
                           proxy_security_group_id=security_groups.database_proxy,
                           secret_recovery_window_days=config.security.secret_recovery_window_days),
        )
        cache = Cache(
            self,
            "cache",
            CacheConfig(sizing=CacheSizing(**config.cache.model_dump()), subnet_ids=network.data_subnet_ids,
                        security_group_id=security_groups.cache,
                        secret_recovery_window_days=config.security.secret_recovery_window_days),
        )
        Backup(
            self,
            "backup",
            BackupConfig(retention_days=config.database.backup_retention_days, database=database,
                         database_security_group_id=security_groups.database),
        )

        # -- compute, content and CDN (R1, R4) --
        content = ContentStorage(
            self,
            "storage",
            ContentStorageConfig(
                upload_origins=[f"https://{config.domain}", f"https://www.{config.domain}"],
                archive_after_days=config.content.archive_after_days,
                deep_archive_after_days=config.content.deep_archive_after_days,
                recordings_archive_after_days=config.content.recordings_archive_after_days,
                noncurrent_archive_after_days=config.content.noncurrent_archive_after_days,
                noncurrent_expire_after_days=config.content.noncurrent_expire_after_days,
                log_retention_days=config.content.log_retention_days,
                prevent_destroy=config.is_prod,
            ),
        )
        cdn = ContentDelivery(
            self,
            "cdn",
            ContentDeliveryConfig(
                signing_public_keys=config.content.signing_public_keys,
                log_bucket=content.log_bucket,
                price_class=config.content.cdn_price_class,
                certificate_arn=certificates.cloudfront_certificate_arn,
                web_acl_arn=waf.cloudfront_web_acl_arn,
            ),
        )
        media_cdn = Distribution(
            self,
            "media_cdn",
            DistributionConfig(
                name="media",
                comment="user content, through signed URLs only",
                origins=[S3Origin("content", content.content_bucket, failover=content.content_replica)],
                default_behavior=Behavior(origin_id="content", cache_policy_id=cdn.media_cache_policy_id, signed=True),
                aliases=[dns.fqdn("media")],
            ),
            cdn,
        )
        keys.replica.grant_decrypt(media_cdn)  # the failover origin is encrypted in the replica region
        dns.alias("media", AliasTarget(media_cdn.domain_name, media_cdn.hosted_zone_id, ipv6=True))

        registry = ContainerRegistry(
            self,
            "registry",
            ContainerRegistryConfig(images=("web", "websocket"), keep_releases=config.compute.keep_images),
        )
        capacity = CapacityStrategy(on_demand_base=config.compute.on_demand_base,
                                    spot_weight=config.compute.spot_weight)
        cluster = Cluster(self, "ecs", EcsClusterConfig(capacity=capacity))
        app_names = ("", "www", "app", "api")
        app_hosts = [dns.fqdn(name) for name in app_names]
        load_balancer = LoadBalancer(
            self,
            "load_balancer",
            LoadBalancerConfig(
                vpc_id=network.vpc_id,
                subnet_ids=network.public_subnet_ids,
                security_group_id=security_groups.load_balancer,
                log_bucket=content.log_bucket,
                deletion_protection=config.is_prod,
                certificate_arn=certificates.load_balancer_certificate_arn,
                web_acl_arn=waf.regional_web_acl_arn,
                routes=[
                    RouteConfig(name="web", port=WEB_PORT, health_check_path="/api/health", hosts=app_hosts,
                                priority=200),
                    RouteConfig(name="websocket", port=WEBSOCKET_PORT, health_check_path="/health",
                                hosts=[dns.fqdn("ws")], priority=100, sticky=True, deregistration_delay=60),
                ],
            ),
        )
        # R9.3: the static maintenance origin. Route 53 fails names served by the load balancer over to it;
        # the app distribution shows its page when the load balancer cannot answer.
        maintenance = MaintenanceSite(
            self,
            "maintenance",
            MaintenanceSiteConfig(log_bucket=content.log_bucket, hosts=[dns.fqdn("ws")]),
            cdn,
        )
        app_cdn = Distribution(
            self,
            "app_cdn",
            DistributionConfig(
                name="app",
                comment="the web app: pages and API from the load balancer, hashed assets from S3",
                origins=[HttpsOrigin("load_balancer", load_balancer.dns_name), S3Origin("static", content.static_bucket),
                         S3Origin("maintenance", maintenance.bucket)],
                default_behavior=Behavior(origin_id="load_balancer", cache_policy_id=cdn.api_cache_policy_id,
                                          origin_request_policy_id=cdn.api_origin_request_policy_id, methods="all"),
                behaviors=[Behavior(origin_id="static", cache_policy_id=cdn.static_cache_policy_id,
                                    path_pattern="/_next/static/*"),
                           Behavior(origin_id="maintenance", cache_policy_id=cdn.media_cache_policy_id,
                                    path_pattern=maintenance.path_pattern)],
                aliases=app_hosts,
                # The load balancer unreachable or without healthy tasks: the maintenance page (R9.3).
                error_page=maintenance.page_path,
                error_codes=(502, 503, 504),
            ),
            cdn,
        )
        app_url = f"https://{config.domain}"
        common_environment = {
            "NODE_ENV": "production",
            "AWS_REGION": config.region,
            "HOSTNAME": "0.0.0.0",
            "NEXTAUTH_URL": app_url,
            "NEXT_PUBLIC_APP_URL": app_url,
            "REDIS_CLUSTER_MODE": "true",
            "SENTRY_ENVIRONMENT": config.name,  # R7.7: errors carry environment and release (the service adds it)
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            **SAMPLER_ENVIRONMENT,
        }
        # Each secret's whole value is the variable's value (no JSON keys); the browser's Sentry DSN is the server's.
        data_secrets = {"DATABASE_URL": database.database_url_secret_arn, "REDIS_URL": cache.redis_url_secret_arn}
        web_secrets = {**app_secrets.arns, **data_secrets, "NEXT_PUBLIC_SENTRY_DSN": app_secrets.arns["SENTRY_DSN"]}
        websocket_secrets = {**{name: app_secrets.arns[name] for name in ("NEXTAUTH_SECRET", "JWT_SECRET", "SENTRY_DSN")},
                             **data_secrets}
        services = {}
        for service, port, health, sizing, environment, secrets, statements in (
            ("web", WEB_PORT, "/api/health", config.compute.web,
             {"AWS_S3_BUCKET_NAME": content.content_bucket.name,
              "STREAMING_RECORDINGS_BUCKET": content.recordings_bucket.name,
              "VOD_CONTENT_BUCKET": content.vod_bucket.name,
              "CLOUDFRONT_DOMAIN": dns.fqdn("media"),
              "FROM_EMAIL": f"no-reply@{config.domain}"},
             web_secrets, [COLLECTOR_STATEMENT, *content.app_access_statements()]),
            ("websocket", WEBSOCKET_PORT, "/health", config.compute.websocket, {}, websocket_secrets,
             [COLLECTOR_STATEMENT]),
        ):
            services[service] = Service(
                self,
                service,
                EcsServiceConfig(
                    name=service,
                    cluster=cluster,
                    repository=registry.repositories[service],
                    port=port,
                    health_check_path=health,
                    sizing=TaskSizing(**sizing.model_dump()),
                    subnet_ids=network.app_subnet_ids,
                    security_group_id=getattr(security_groups, service),
                    route=load_balancer.routes[service],
                    load_balancer_arn_suffix=load_balancer.arn_suffix,
                    bake_time_minutes=config.compute.bake_time_minutes,
                    environment={**common_environment, **environment, "PORT": str(port),
                                 "OTEL_SERVICE_NAME": names(service)},
                    secrets=secrets,
                    task_policy_statements=statements,
                    # Next.js writes its image and ISR cache; everything else is read-only.
                    writable_paths=("/tmp", "/app/.next/cache") if service == "web" else ("/tmp",),
                ),
            )
        # Names users type, by reference to what serves them (R9.4).
        app_target = AliasTarget(app_cdn.domain_name, app_cdn.hosted_zone_id, ipv6=True)
        for name in ("", "www", "app"):
            dns.alias(name, app_target)
        # The web app's shallow health through the public path (CloudFront, load balancer, web tasks) (R9.3).
        app_health = dns.health_check("app", "", "/api/health")
        # The API by weight (R9.6): another region or a canary stack is one more entry here.
        dns.weighted_alias("api", {config.region: (app_target, 100)}, app_health)
        dns.failover_alias("ws", AliasTarget(load_balancer.dns_name, load_balancer.zone_id), app_health,
                           maintenance.target)

        # -- streaming (R5, R12.6) --
        streaming = config.streaming
        live = LiveChannels(
            self,
            "live",
            LiveChannelsConfig(
                pool_size=streaming.channel_pool_size,
                ingest_cidrs=[str(cidr) for cidr in streaming.ingest_cidrs],
                live_segment_days=streaming.live_segment_days,
                recordings=content.recordings_bucket,
                log_bucket=content.log_bucket,
            ),
        )
        live.grant_channel_control(services["web"].task_role_name)
        vod = VodConversion(
            self,
            "vod",
            VodConversionConfig(
                recordings=content.recordings_bucket,
                archive_prefix=ARCHIVE_PREFIX,
                vod=content.vod_bucket,
                reserved_concurrency=streaming.vod_submit_concurrency,
            ),
        )
        streaming_cdn = Distribution(
            self,
            "streaming_cdn",
            DistributionConfig(
                name="streaming",
                comment="live HLS and VOD, through signed URLs or cookies only",
                origins=[S3Origin("live", live.origin), S3Origin("vod", content.vod_bucket)],
                default_behavior=Behavior(origin_id="live", cache_policy_id=cdn.media_cache_policy_id, signed=True),
                behaviors=[
                    Behavior(origin_id="live", path_pattern=f"{LIVE_PREFIX}*.m3u8",
                             cache_policy_id=live.playlist_cache_policy_id, signed=True),
                    Behavior(origin_id="vod", path_pattern=f"{VOD_PREFIX}*", cache_policy_id=cdn.media_cache_policy_id,
                             signed=True),
                ],
                aliases=[f"live.{config.domain}"],
            ),
            cdn,
        )
        dns.alias("live", AliasTarget(streaming_cdn.domain_name, streaming_cdn.hosted_zone_id, ipv6=True))
        # The app assigns idle pool channels to creators and signs playback URLs for the live host.
        services["web"].add_environment({"MEDIALIVE_CHANNEL_ID": ",".join(live.channel_ids),
                                         "CLOUDFRONT_STREAMING_DOMAIN": dns.fqdn("live")})
        StreamingMetrics(
            self,
            "streaming_metrics",
            StreamingMetricsConfig(
                channel_ids=live.channel_ids,
                channel_names=live.channel_names,
                hls_output_group=HLS_OUTPUT_GROUP,
                distribution_id=streaming_cdn.id,
                vod_dead_letter_queue_name=vod.dead_letter_queue_name,
                viewer_log_group_name=services["websocket"].log_group_name,
            ),
        )

        # -- observability, delivery and cost (R7, R8, R10.5) --
        # The audit trail (R6.5) records reads of its bucket in the content tier's access-log bucket.
        AuditTrail(
            self,
            "audit",
            AuditTrailConfig(retention_days=config.security.audit_log_retention_days,
                             access_log_bucket=content.log_bucket),
        )
        observability = config.observability
        alarms = Alarms(self, "alarms")
        canaries = Canaries(
            self,
            "canaries",
            CanariesConfig(domain=config.domain, interval_minutes=observability.canary_interval_minutes,
                           log_bucket=content.log_bucket),
        )
        alarms.canaries(canaries.canary_names, observability.canary_interval_minutes)
        # The media distribution serves only cacheable content (R12.3); the app's mixes in the uncached API.
        distribution_ids = {"media": media_cdn.id, "app": app_cdn.id}
        alarms.distributions(distribution_ids, cache_hit_rate_for=("media",))
        # Both colours of each service: after a blue/green deployment the other one serves.
        load_balancer_metrics = LoadBalancerMetrics(
            arn_suffix=load_balancer.arn_suffix,
            target_groups={f"{name}-{colour}": getattr(route, f"{colour}_arn_suffix")
                           for name, route in load_balancer.routes.items() for colour in ("blue", "green")},
        )
        service_metrics = ServiceMetrics(cluster_name=cluster.name,
                                         services={name: service.service_name for name, service in services.items()})
        database_metrics = DatabaseMetrics(cluster_identifier=database.cluster_identifier,
                                           max_connections=database.max_connections)
        # Every shard autoscaling may add has its nodes watched from the start (R3.6).
        cache_metrics = CacheMetrics(replication_group_id=cache.replication_group_id, max_shards=config.cache.max_shards,
                                     nodes_per_shard=config.cache.replicas_per_shard + 1)
        alarms.load_balancer(load_balancer_metrics)
        alarms.services(service_metrics)
        alarms.database(database_metrics)
        alarms.cache(cache_metrics)
        alarms.health_checks(dns.health_check_ids)
        logs = LogsInsights(
            self,
            "logs",
            LogsInsightsConfig(namespace=f"DirectFanz/{config.name}",
                               log_groups={name: service.log_group_name for name, service in services.items()}),
        )
        Dashboards(
            self,
            "dashboards",
            DashboardsConfig(alarm_arns=alarms.composite_arns,
                             load_balancer=load_balancer_metrics, services=service_metrics, database=database_metrics,
                             cache=cache_metrics, distribution_ids=distribution_ids,
                             canary_names=canaries.canary_names, business_namespace=logs.namespace,
                             business_metrics=logs.business_metrics),
        )
        self.tracing = Tracing(self, "tracing", TracingConfig(sample_rate=observability.trace_sample_rate))
        CostControls(
            self,
            "cost",
            CostConfig(monthly_budget_usd=config.monthly_budget_usd,
                       alert_thresholds_percent=tuple(observability.budget_alert_thresholds_percent),
                       anomaly_alert_usd=observability.anomaly_alert_usd, emails=tuple(config.alert_emails)),
        )

        # -- outputs: what operators and runbooks read with `terraform output -raw <name>` (never a secret value) --
        outputs = {
            "database_proxy_endpoint": (database.proxy_endpoint,
                                        "RDS Proxy read/write endpoint, port 5432: the host in DATABASE_URL"),
            "database_proxy_read_only_endpoint": (database.reader_endpoint,
                                                  "RDS Proxy read-only endpoint, port 5432: the Aurora readers"),
            "database_cluster_endpoint": (database.cluster.endpoint,
                                          "Aurora writer endpoint, past the proxy: data migration only (cutover runbook)"),
            "database_cluster_identifier": (database.cluster_identifier, "Aurora cluster identifier"),
            "database_url_secret_arn": (database.database_url_secret_arn,
                                        "Secret whose value is DATABASE_URL (written by the data bootstrap runbook)"),
            "database_app_credentials_secret_arn": (database.app_credentials_secret_arn,
                                                    "Secret with the app role's credentials that RDS Proxy reads"),
            "cache_configuration_endpoint": (cache.configuration_endpoint,
                                             "Valkey cluster configuration endpoint, port 6379: the host in REDIS_URL"),
            "cache_replication_group_id": (cache.replication_group_id, "ElastiCache replication group id"),
            "redis_url_secret_arn": (cache.redis_url_secret_arn,
                                     "Secret whose value is REDIS_URL (written by the data bootstrap runbook)"),
            "ecs_cluster_name": (cluster.name, "ECS cluster of the web and WebSocket services"),
            **{f"{name}_service_name": (service.service_name, f"ECS service of the {name} tasks")
               for name, service in services.items()},
            **{f"{name}_repository_url": (repository.url, f"ECR repository of the {name} image (tags are immutable)")
               for name, repository in registry.repositories.items()},
            "app_subnet_ids": (network.app_subnet_ids, "Private subnets of the app tasks (one-off tasks, CloudShell VPC)"),
            "web_security_group_id": (security_groups.web,
                                      "Security group of the web tasks: the one that reaches the proxy and the cache"),
            "load_balancer_dns_name": (load_balancer.dns_name, "Application load balancer DNS name"),
            **{f"{name}_distribution_{attribute}": (getattr(distribution, attribute),
                                                    f"CloudFront distribution {attribute.replace('_', ' ')}: {name}")
               for name, distribution in (("media", media_cdn), ("app", app_cdn), ("streaming", streaming_cdn))
               for attribute in ("id", "domain_name")},
            **{f"{name}_bucket_name": (bucket.name, f"S3 bucket: {description}")
               for name, bucket, description in (
                   ("content", content.content_bucket, "user content (AWS_S3_BUCKET_NAME)"),
                   ("static", content.static_bucket, "the web app's hashed static assets"),
                   ("recordings", content.recordings_bucket, "live stream recordings"),
                   ("vod", content.vod_bucket, "converted video on demand"),
                   ("logs", content.log_bucket, "access logs of buckets, load balancer and distributions"))},
            "live_channel_ids": (live.channel_ids, "MediaLive channel pool (MEDIALIVE_CHANNEL_ID)"),
            "alerts_topic_arn": (alerts.topic_arn, "SNS topic every alarm, budget and anomaly alert pages"),
        }
        for name, (value, description) in outputs.items():
            TerraformOutput(self, name, value=value, description=description)
