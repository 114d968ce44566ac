"""Streaming (R5, R12.6): the MediaLive channel pool, VOD conversion and the streaming distribution. Built
before compute, so the services start with the channels they control."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformStack

from environments.config import EnvironmentConfig
from modules.cdn import Behavior, Distribution, DistributionConfig, S3Origin
from modules.dns import AliasTarget
from modules.streaming import ARCHIVE_PREFIX, LIVE_PREFIX, LiveChannels, LiveChannelsConfig
from modules.streaming_vod import VOD_PREFIX, VodConversion, VodConversionConfig
from stacks.services import LIVE_HOST
from stacks.tiers.edge import Edge
from stacks.tiers.foundation import Foundation


@dataclass(frozen=True)
class Streaming:
    live: LiveChannels
    vod: VodConversion
    distribution: Distribution


def build_streaming(stack: TerraformStack, config: EnvironmentConfig, foundation: Foundation, edge: Edge) -> Streaming:
    settings, content, cdn, dns = config.streaming, edge.content, edge.cdn, foundation.dns
    live = LiveChannels(
        stack,
        "live",
        LiveChannelsConfig(pool_size=settings.channel_pool_size,
                           ingest_cidrs=[str(cidr) for cidr in settings.ingest_cidrs],
                           live_segment_days=settings.live_segment_days, recordings=content.recordings_bucket,
                           log_bucket=content.log_bucket),
    )
    vod = VodConversion(
        stack,
        "vod",
        VodConversionConfig(recordings=content.recordings_bucket, archive_prefix=ARCHIVE_PREFIX, vod=content.vod_bucket,
                            reserved_concurrency=settings.vod_submit_concurrency),
    )
    distribution = Distribution(
        stack,
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
            aliases=[dns.fqdn(LIVE_HOST)],
        ),
        cdn,
    )
    dns.alias(LIVE_HOST, AliasTarget(distribution.domain_name, distribution.hosted_zone_id, ipv6=True))
    return Streaming(live=live, vod=vod, distribution=distribution)
