"""Outputs: what operators and runbooks read with `terraform output -raw <name>` (never a secret value)."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from stacks.services import WEB
from stacks.tiers.compute import Compute
from stacks.tiers.data import Data
from stacks.tiers.edge import Edge
from stacks.tiers.foundation import Foundation
from stacks.tiers.streaming import Streaming


def build_outputs(stack: TerraformStack, foundation: Foundation, data: Data, edge: Edge, streaming: Streaming,
                  compute: Compute) -> None:
    database, cache, content = data.database, data.cache, edge.content
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
        "ecs_cluster_name": (compute.cluster.name, "ECS cluster of the web and WebSocket services"),
        **{f"{name}_service_name": (service.service_name, f"ECS service of the {name} tasks")
           for name, service in compute.services.items()},
        **{f"{name}_repository_url": (repository.url, f"ECR repository of the {name} image (tags are immutable)")
           for name, repository in compute.registry.repositories.items()},
        "app_subnet_ids": (foundation.network.app_subnet_ids,
                           "Private subnets of the app tasks (one-off tasks, CloudShell VPC)"),
        f"{WEB.name}_security_group_id": (foundation.security_groups.services[WEB.name],
                                          "Security group of the web tasks: the one that reaches the proxy and the cache"),
        "load_balancer_dns_name": (edge.load_balancer.dns_name, "Application load balancer DNS name"),
        **{f"{name}_distribution_{attribute}": (getattr(distribution, attribute),
                                                f"CloudFront distribution {attribute.replace('_', ' ')}: {name}")
           for name, distribution in (("media", edge.media), ("app", edge.app), ("streaming", streaming.distribution))
           for attribute in ("id", "domain_name")},
        **{f"{name}_bucket_name": (bucket.name, f"S3 bucket: {description}")
           for name, bucket, description in (
               ("content", content.content_bucket, "user content (AWS_S3_BUCKET_NAME)"),
               ("static", content.static_bucket, "the web app's hashed static assets"),
               ("recordings", content.recordings_bucket, "live stream recordings"),
               ("vod", content.vod_bucket, "converted video on demand"),
               ("logs", content.log_bucket, "access logs of buckets, load balancer and distributions"))},
        "live_channel_ids": (streaming.live.channel_ids, "MediaLive channel pool (MEDIALIVE_CHANNEL_ID)"),
        "alerts_topic_arn": (foundation.context.alerts_topic_arn, "SNS topic every alarm, budget and anomaly alert pages"),
    }
    for name, (value, description) in outputs.items():
        TerraformOutput(stack, name, value=value, description=description)
