"""Live streaming: RTMP ingest, a pool of MediaLive channels, and the S3 origin they write HLS to (R5.1-R5.3, R12.6).

Each channel in the pool has its own RTMP push input and encodes an adaptive
bitrate ladder (`LADDER`) into HLS in the origin bucket, which CloudFront
serves with signed URLs only. The same channel writes an archive copy to the
recordings bucket, where the VOD conversion (modules/streaming_vod.py) picks
it up. The app starts an idle channel when a creator goes live and stops it
afterwards; the pool's size is how many creators can be live at once. Every
channel and push input also bills an idle rate while not running, so the pool
is a standing cost: sized and scaled by docs/decisions/0018.

MediaStore, the origin this used to need, reached end of support on
2025-11-13: docs/decisions/ records why S3 is the origin and why a MediaLive
pool rather than Amazon IVS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.medialive_channel import (
    MedialiveChannel,
    MedialiveChannelDestinations,
    MedialiveChannelDestinationsSettings,
    MedialiveChannelEncoderSettings,
    MedialiveChannelEncoderSettingsAudioDescriptions,
    MedialiveChannelEncoderSettingsAudioDescriptionsCodecSettings,
    MedialiveChannelEncoderSettingsAudioDescriptionsCodecSettingsAacSettings,
    MedialiveChannelEncoderSettingsOutputGroups,
    MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsArchiveGroupSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsArchiveGroupSettingsArchiveCdnSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsArchiveGroupSettingsArchiveCdnSettingsArchiveS3Settings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsArchiveGroupSettingsDestination,
    MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsHlsGroupSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsHlsGroupSettingsDestination,
    MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsHlsGroupSettingsHlsCdnSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsHlsGroupSettingsHlsCdnSettingsHlsS3Settings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputs,
    MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsArchiveOutputSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsArchiveOutputSettingsContainerSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsArchiveOutputSettingsContainerSettingsM2TsSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsHlsOutputSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsHlsOutputSettingsHlsSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsHlsOutputSettingsHlsSettingsStandardHlsSettings,
    MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsHlsOutputSettingsHlsSettingsStandardHlsSettingsM3U8Settings,
    MedialiveChannelEncoderSettingsTimecodeConfig,
    MedialiveChannelEncoderSettingsVideoDescriptions,
    MedialiveChannelEncoderSettingsVideoDescriptionsCodecSettings,
    MedialiveChannelEncoderSettingsVideoDescriptionsCodecSettingsH264Settings,
    MedialiveChannelInputAttachments,
    MedialiveChannelInputAttachmentsInputSettings,
    MedialiveChannelInputAttachmentsInputSettingsAudioSelector,
    MedialiveChannelInputSpecification,
)
from cdktf_cdktf_provider_aws.medialive_input import MedialiveInput, MedialiveInputDestinations
from cdktf_cdktf_provider_aws.medialive_input_security_group import (
    MedialiveInputSecurityGroup,
    MedialiveInputSecurityGroupWhitelistRules,
)
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
)
from constructs import Construct

from modules.cdn import cache_policy
from modules.context import StackContext
from modules.iam import policy_document, service_trust
from modules.secure_bucket import SecureBucket, SecureBucketConfig

# Where the channels write in the buckets; the VOD rule and the CDN behaviours key on these.
LIVE_PREFIX = "live/"
ARCHIVE_PREFIX = "live-archive/"
HLS_OUTPUT_GROUP = "hls"
ARCHIVE_OUTPUT_GROUP = "archive"
# Archive files roll over hourly: each closed file is one VOD conversion.
ARCHIVE_ROLLOVER_SECONDS = 3600
SEGMENT_SECONDS = 6
# Live playlists change every segment: an edge may serve one for at most this long.
PLAYLIST_MAX_TTL_SECONDS = 2


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    bitrate: int  # video, bits per second


# The adaptive bitrate ladder (R5.3), highest first; MediaConvert's VOD settings use the same rungs.
LADDER = (
    Rendition("1080p", 1920, 1080, 6_000_000),
    Rendition("720p", 1280, 720, 3_000_000),
    Rendition("480p", 854, 480, 1_200_000),
    Rendition("360p", 640, 360, 700_000),
)
AUDIO_BITRATE = 128_000


@dataclass(frozen=True)
class LiveChannelsConfig:
    pool_size: int
    ingest_cidrs: Sequence[str]
    live_segment_days: int
    recordings: SecureBucket  # where each broadcast is archived, for VOD
    # Server access logs of the origin bucket go here (same region), as for every content bucket.
    log_bucket: SecureBucket


class LiveChannels(Construct):
    """Exposes `origin` (the HLS origin SecureBucket), `playlist_cache_policy_id` (for `live/*.m3u8`),
    `channel_ids`, `channel_arns`, `channel_names` and `medialive_role_arn`; `grant_channel_control(role)`
    lets the app start and stop the channels."""

    def __init__(self, scope: Construct, id: str, config: LiveChannelsConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        self._names = names = context.names
        # The origin and the recordings bucket are both encrypted with the content key.
        self._content_key = context.keys.content.arn
        self.origin = SecureBucket(
            self,
            "origin",
            SecureBucketConfig(
                name=names("live-origin", limit=63),
                kms_key_arn=self._content_key,
                # Segments are rewritten every few seconds; old versions are noise, not data.
                noncurrent_version_days=1,
                extra_lifecycle_rules=(
                    S3BucketLifecycleConfigurationRule(
                        id="expire-live-segments",
                        status="Enabled",
                        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix=LIVE_PREFIX)],
                        expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=config.live_segment_days)],
                    ),
                ),
                log_bucket=config.log_bucket,
                force_destroy=True,  # only transient segments: the recordings bucket keeps the archive
            ),
        )
        self.playlist_cache_policy_id = cache_policy(
            self,
            "playlist_cache",
            names("live-playlists"),
            "Live HLS playlists: rewritten every segment, cached for seconds",
            min_ttl=0,
            default_ttl=1,
            max_ttl=PLAYLIST_MAX_TTL_SECONDS,
        )
        self.input_security_group = MedialiveInputSecurityGroup(
            self,
            "input_security_group",
            whitelist_rules=[MedialiveInputSecurityGroupWhitelistRules(cidr=cidr) for cidr in config.ingest_cidrs],
            tags={"Name": names("live-ingest")},
        )
        role = IamRole(
            self,
            "medialive_role",
            name=names("medialive"),
            assume_role_policy=service_trust("medialive.amazonaws.com"),
        )
        IamRolePolicy(self, "medialive_policy", role=role.id, policy=self._medialive_policy(config))
        self.medialive_role_arn = role.arn

        channels = [self._channel(config, index, role.arn) for index in range(1, config.pool_size + 1)]
        self.channel_ids = [channel.id for channel in channels]
        self.channel_arns = [channel.arn for channel in channels]
        self.channel_names = [channel.name for channel in channels]

    def grant_channel_control(self, role_name: str) -> None:
        """Let the app's task role start and stop the pool's channels, nothing more (R5.6)."""
        IamRolePolicy(
            self,
            "app_channel_control",
            name=self._names("live-channel-control"),
            role=role_name,
            policy=policy_document(
                [
                    {
                        "Sid": "StartStopLiveChannels",
                        "Effect": "Allow",
                        "Action": ["medialive:StartChannel", "medialive:StopChannel"],
                        "Resource": self.channel_arns,
                    }
                ]
            ),
        )

    def _medialive_policy(self, config: LiveChannelsConfig) -> str:
        origin, recordings = self.origin.arn, config.recordings.arn
        return policy_document(
            [
                {
                    "Sid": "WriteLiveHlsAndArchive",
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                    "Resource": [f"{origin}/{LIVE_PREFIX}*", f"{recordings}/{ARCHIVE_PREFIX}*"],
                },
                {
                    "Sid": "ListOwnPrefixes",
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": [origin, recordings],
                    "Condition": {"StringLike": {"s3:prefix": [f"{LIVE_PREFIX}*", f"{ARCHIVE_PREFIX}*"]}},
                },
                {
                    # Both buckets are encrypted with the content key by default.
                    "Sid": "EncryptWithContentKey",
                    "Effect": "Allow",
                    "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                    "Resource": self._content_key,
                },
            ]
        )

    def _channel(self, config: LiveChannelsConfig, index: int, role_arn: str) -> MedialiveChannel:
        name = self._names("live", f"{index:02d}")
        ingest = MedialiveInput(
            self,
            f"input_{index:02d}",
            name=name,
            type="RTMP_PUSH",
            input_security_groups=[self.input_security_group.id],
            # One destination: a single-pipeline input for a single-pipeline channel.
            destinations=[MedialiveInputDestinations(stream_name=f"live/{name}")],
        )
        return MedialiveChannel(
            self,
            f"channel_{index:02d}",
            name=name,
            channel_class="SINGLE_PIPELINE",
            role_arn=role_arn,
            input_specification=MedialiveChannelInputSpecification(
                codec="AVC", input_resolution="HD", maximum_bitrate="MAX_10_MBPS"
            ),
            input_attachments=[
                MedialiveChannelInputAttachments(
                    input_attachment_name=name,
                    input_id=ingest.id,
                    input_settings=MedialiveChannelInputAttachmentsInputSettings(
                        audio_selector=[MedialiveChannelInputAttachmentsInputSettingsAudioSelector(name="default")]
                    ),
                )
            ],
            destinations=[
                MedialiveChannelDestinations(
                    id=HLS_OUTPUT_GROUP,
                    settings=[
                        MedialiveChannelDestinationsSettings(url=f"s3ssl://{self.origin.name}/{LIVE_PREFIX}{name}/index")
                    ],
                ),
                MedialiveChannelDestinations(
                    id=ARCHIVE_OUTPUT_GROUP,
                    # $dt$ is the channel's start time: each broadcast gets its own folder, so a pool
                    # channel's next broadcast never overwrites the last one's recording.
                    settings=[
                        MedialiveChannelDestinationsSettings(
                            url=f"s3ssl://{config.recordings.name}/{ARCHIVE_PREFIX}{name}/$dt$/archive"
                        )
                    ],
                ),
            ],
            encoder_settings=_encoder_settings(),
        )


def _video(name: str, rendition: Rendition) -> MedialiveChannelEncoderSettingsVideoDescriptions:
    return MedialiveChannelEncoderSettingsVideoDescriptions(
        name=name,
        width=rendition.width,
        height=rendition.height,
        respond_to_afd="NONE",
        scaling_behavior="DEFAULT",
        codec_settings=MedialiveChannelEncoderSettingsVideoDescriptionsCodecSettings(
            h264_settings=MedialiveChannelEncoderSettingsVideoDescriptionsCodecSettingsH264Settings(
                rate_control_mode="CBR",
                bitrate=rendition.bitrate,
                profile="HIGH",
                level="H264_LEVEL_AUTO",
                framerate_control="SPECIFIED",
                framerate_numerator=30,
                framerate_denominator=1,
                # Two-second closed GOPs align segments across renditions, so players can switch bitrates.
                gop_size=2,
                gop_size_units="SECONDS",
                gop_closed_cadence=1,
                scan_type="PROGRESSIVE",
                par_control="SPECIFIED",
                par_numerator=1,
                par_denominator=1,
                adaptive_quantization="AUTO",
                scene_change_detect="ENABLED",
            )
        ),
    )


def _audio(name: str) -> MedialiveChannelEncoderSettingsAudioDescriptions:
    return MedialiveChannelEncoderSettingsAudioDescriptions(
        name=name,
        audio_selector_name="default",
        codec_settings=MedialiveChannelEncoderSettingsAudioDescriptionsCodecSettings(
            aac_settings=MedialiveChannelEncoderSettingsAudioDescriptionsCodecSettingsAacSettings(
                bitrate=AUDIO_BITRATE, coding_mode="CODING_MODE_2_0", sample_rate=48_000
            )
        ),
    )


def _encoder_settings() -> MedialiveChannelEncoderSettings:
    """One HLS output per rung of the ladder, and an archive of the top rung for VOD."""
    top = LADDER[0]
    hls_outputs = [
        MedialiveChannelEncoderSettingsOutputGroupsOutputs(
            output_name=rendition.name,
            video_description_name=f"video_{rendition.name}",
            audio_description_names=[f"audio_{rendition.name}"],
            output_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettings(
                hls_output_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsHlsOutputSettings(
                    name_modifier=f"_{rendition.name}",
                    hls_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsHlsOutputSettingsHlsSettings(
                        standard_hls_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsHlsOutputSettingsHlsSettingsStandardHlsSettings(
                            m3_u8_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsHlsOutputSettingsHlsSettingsStandardHlsSettingsM3U8Settings()
                        )
                    ),
                )
            ),
        )
        for rendition in LADDER
    ]
    archive_output = MedialiveChannelEncoderSettingsOutputGroupsOutputs(
        output_name=ARCHIVE_OUTPUT_GROUP,
        video_description_name=f"video_{ARCHIVE_OUTPUT_GROUP}",
        audio_description_names=[f"audio_{ARCHIVE_OUTPUT_GROUP}"],
        output_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettings(
            archive_output_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsArchiveOutputSettings(
                name_modifier="",
                extension="ts",
                container_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsArchiveOutputSettingsContainerSettings(
                    m2_ts_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputsOutputSettingsArchiveOutputSettingsContainerSettingsM2TsSettings()
                ),
            )
        ),
    )
    # Objects are owned by the bucket owner and carry no ACL: the buckets refuse any other.
    owner_only = "BUCKET_OWNER_FULL_CONTROL"
    return MedialiveChannelEncoderSettings(
        timecode_config=MedialiveChannelEncoderSettingsTimecodeConfig(source="SYSTEMCLOCK"),
        video_descriptions=[_video(f"video_{r.name}", r) for r in LADDER] + [_video(f"video_{ARCHIVE_OUTPUT_GROUP}", top)],
        audio_descriptions=[_audio(f"audio_{r.name}") for r in LADDER] + [_audio(f"audio_{ARCHIVE_OUTPUT_GROUP}")],
        output_groups=[
            MedialiveChannelEncoderSettingsOutputGroups(
                name=HLS_OUTPUT_GROUP,
                output_group_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettings(
                    hls_group_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsHlsGroupSettings(
                        destination=MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsHlsGroupSettingsDestination(
                            destination_ref_id=HLS_OUTPUT_GROUP
                        ),
                        hls_cdn_settings=[
                            MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsHlsGroupSettingsHlsCdnSettings(
                                hls_s3_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsHlsGroupSettingsHlsCdnSettingsHlsS3Settings(
                                    canned_acl=owner_only
                                )
                            )
                        ],
                        mode="LIVE",
                        segment_length=SEGMENT_SECONDS,
                        index_n_segments=10,
                        keep_segments=21,
                        manifest_duration_format="INTEGER",
                        directory_structure="SINGLE_DIRECTORY",
                        # A stalled input stops the playlists advancing instead of publishing slate forever.
                        input_loss_action="PAUSE_OUTPUT",
                    )
                ),
                outputs=hls_outputs,
            ),
            MedialiveChannelEncoderSettingsOutputGroups(
                name=ARCHIVE_OUTPUT_GROUP,
                output_group_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettings(
                    archive_group_settings=[
                        MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsArchiveGroupSettings(
                            destination=MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsArchiveGroupSettingsDestination(
                                destination_ref_id=ARCHIVE_OUTPUT_GROUP
                            ),
                            archive_cdn_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsArchiveGroupSettingsArchiveCdnSettings(
                                archive_s3_settings=MedialiveChannelEncoderSettingsOutputGroupsOutputGroupSettingsArchiveGroupSettingsArchiveCdnSettingsArchiveS3Settings(
                                    canned_acl=owner_only
                                )
                            ),
                            rollover_interval=ARCHIVE_ROLLOVER_SECONDS,
                        )
                    ]
                ),
                outputs=[archive_output],
            ),
        ],
    )
