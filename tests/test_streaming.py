"""Live streaming on the synthesized JSON: channels, origin, recording and VOD, access, chat, analytics (R5, R12.6)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from functions.vod_submit.handler import JOB_SETTINGS_FILE
from modules.lambda_package import build_zip
from modules.streaming_vod import FUNCTION_SOURCE
from tests.stack_json import StackJson, ref

LADDER_HEIGHTS = {1080, 720, 480, 360}


def channels(stack: StackJson) -> dict[str, dict]:
    return stack.resources("aws_medialive_channel")


def output_group(channel: dict, name: str) -> dict:
    return next(group for group in channel["encoder_settings"]["output_groups"] if group["name"] == name)


def destination_url(channel: dict, destination_id: str) -> str:
    destination = next(d for d in channel["destinations"] if d["id"] == destination_id)
    assert len(destination["settings"]) == 1
    return destination["settings"][0]["url"]


def streaming_distribution(stack: StackJson) -> dict:
    return stack.resource("aws_cloudfront_distribution", "streaming_cdn_distribution")


def bucket_name(stack: StackJson, logical_id: str) -> str:
    return ref("aws_s3_bucket", logical_id, "bucket")


@pytest.mark.requirement("R5.1", "R12.6")
def test_channel_pool_size_comes_from_the_environment_config(env: StackJson, configs) -> None:
    streaming = configs[env.name].streaming
    found, inputs = channels(env), env.resources("aws_medialive_input")
    assert len(found) == streaming.channel_pool_size
    assert len(inputs) == streaming.channel_pool_size
    attached = set()
    for channel in found.values():
        (attachment,) = channel["input_attachments"]
        attached.add(attachment["input_id"])
        assert channel["role_arn"] == ref("aws_iam_role", "live_medialive_role", "arn")
        assert "start_channel" not in channel or channel["start_channel"] is False  # the app starts channels
    # Every channel has its own RTMP push input behind the input security group.
    assert attached == {ref("aws_medialive_input", logical_id, "id") for logical_id in inputs}
    for ingest in inputs.values():
        assert ingest["type"] == "RTMP_PUSH"
        assert ingest["input_security_groups"] == [ref("aws_medialive_input_security_group", "live_input_security_group", "id")]
    group = env.resource("aws_medialive_input_security_group", "live_input_security_group")
    assert [rule["cidr"] for rule in group["whitelist_rules"]] == [str(c) for c in streaming.ingest_cidrs]


def test_pool_sizes_differ_by_environment_but_not_the_shape(stacks: dict[str, StackJson]) -> None:
    shapes = {
        name: {t for t in stacks[name].resource_types if t.startswith(("aws_medialive", "aws_media_convert"))}
        for name in ("dev", "staging", "prod")
    }
    assert shapes["dev"] == shapes["staging"] == shapes["prod"]
    assert len(channels(stacks["prod"])) > len(channels(stacks["dev"]))


@pytest.mark.requirement("R12.6")
def test_the_pool_holds_no_push_input_that_only_bills(env: StackJson, configs) -> None:
    """One RTMP push input per channel, each attached to it: no input bills idle without serving a channel.

    MediaLive, "Pricing in MediaLive": "There is an idle push input charge for each push input that isn't
    attached to a channel, and for each push input that is attached to a channel that isn't running", and an idle
    channel charge for each channel that isn't running; so the pool size is a standing cost (sized and scaled
    by decision 0018).
    https://docs.aws.amazon.com/medialive/latest/ug/pricing.html
    """
    found, inputs = channels(env), env.resources("aws_medialive_input")
    attachments = [attachment["input_id"] for channel in found.values() for attachment in channel["input_attachments"]]
    assert sorted(attachments) == sorted(ref("aws_medialive_input", logical_id, "id") for logical_id in inputs)
    assert len(found) == len(inputs) == configs[env.name].streaming.channel_pool_size


@pytest.mark.requirement("R5.3")
def test_every_channel_encodes_an_adaptive_bitrate_ladder(env: StackJson) -> None:
    for channel in channels(env).values():
        settings = channel["encoder_settings"]
        videos = {video["name"]: video for video in settings["video_descriptions"]}
        audios = {audio["name"] for audio in settings["audio_descriptions"]}
        hls = output_group(channel, "hls")
        assert hls["output_group_settings"]["hls_group_settings"]["mode"] == "LIVE"
        outputs = hls["outputs"]
        assert len(outputs) >= 4
        ladder = [videos[output["video_description_name"]] for output in outputs]
        assert {video["height"] for video in ladder} >= LADDER_HEIGHTS
        bitrates = [video["codec_settings"]["h264_settings"]["bitrate"] for video in ladder]
        assert bitrates == sorted(bitrates, reverse=True) and len(set(bitrates)) == len(bitrates)
        for output, video in zip(outputs, ladder, strict=True):
            assert set(output["audio_description_names"]) <= audios and output["audio_description_names"]
            h264 = video["codec_settings"]["h264_settings"]
            # Closed, time-based GOPs keep segments aligned across renditions for switching.
            assert (h264["gop_size"], h264["gop_size_units"], h264["gop_closed_cadence"]) == (2, "SECONDS", 1)
        modifiers = [o["output_settings"]["hls_output_settings"]["name_modifier"] for o in outputs]
        assert len(set(modifiers)) == len(modifiers)


@pytest.mark.requirement("R5.2")
def test_hls_goes_to_the_kms_encrypted_s3_origin(env: StackJson) -> None:
    for _name, channel in channels(env).items():
        assert destination_url(channel, "hls") == f"s3ssl://{bucket_name(env, 'live_origin_bucket')}/live/{channel['name']}/index"
        s3 = output_group(channel, "hls")["output_group_settings"]["hls_group_settings"]["hls_cdn_settings"][0]
        assert s3["hls_s3_settings"]["canned_acl"] == "BUCKET_OWNER_FULL_CONTROL"
    rule = env.resource("aws_s3_bucket_server_side_encryption_configuration", "live_origin_encryption")["rule"][0]
    assert rule["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": ref("aws_kms_key", "keys_content_key", "arn"),
    }
    block = env.resource("aws_s3_bucket_public_access_block", "live_origin_public_access_block")
    assert all(block[flag] is True for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))


@pytest.mark.requirement("R5.2")
def test_no_mediastore_resource_is_synthesized(env: StackJson) -> None:
    assert not [t for t in env.resource_types if "media_store" in t or "mediastore" in t]


@pytest.mark.requirement("R5.2", "R5.6")
def test_the_origin_is_served_by_cloudfront_only_to_the_streaming_distribution(env: StackJson) -> None:
    distribution = streaming_distribution(env)
    origins = {origin["origin_id"]: origin for origin in distribution["origin"]}
    live = origins["live"]
    assert live["domain_name"] == ref("aws_s3_bucket", "live_origin_bucket", "bucket_regional_domain_name")
    assert live["origin_access_control_id"]
    policy = json.loads(env.resource("aws_s3_bucket_policy", "live_origin_policy")["policy"])
    readers = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert readers == [
        {
            "Sid": "CloudFrontStreamingReads",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"{ref('aws_s3_bucket', 'live_origin_bucket', 'arn')}/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": ref("aws_cloudfront_distribution", "streaming_cdn_distribution", "arn")}},
        }
    ]


@pytest.mark.requirement("R5.6")
def test_every_playback_behaviour_needs_a_signed_url_or_cookie(env: StackJson) -> None:
    distribution = streaming_distribution(env)
    key_group = ref("aws_cloudfront_key_group", "cdn_signing", "id")
    behaviours = [distribution["default_cache_behavior"], *distribution["ordered_cache_behavior"]]
    for behaviour in behaviours:
        assert behaviour["trusted_key_groups"] == [key_group], behaviour.get("path_pattern")
        assert behaviour["viewer_protocol_policy"] in ("redirect-to-https", "https-only")
        assert set(behaviour["allowed_methods"]) <= {"GET", "HEAD", "OPTIONS"}
    patterns = {b["path_pattern"]: b for b in distribution["ordered_cache_behavior"]}
    assert {"live/*.m3u8", "vod/*"} <= set(patterns)
    # Playlists change every segment: cached for seconds only.
    playlist_policy = env.resource("aws_cloudfront_cache_policy", "live_playlist_cache")
    assert patterns["live/*.m3u8"]["cache_policy_id"] == ref("aws_cloudfront_cache_policy", "live_playlist_cache", "id")
    assert playlist_policy["max_ttl"] <= 2
    assert {o["origin_id"] for o in distribution["origin"]} == {"live", "vod"}


def test_medialive_role_writes_only_its_own_prefixes(env: StackJson) -> None:
    policy = json.loads(env.resource("aws_iam_role_policy", "live_medialive_policy")["policy"])
    trust = json.loads(env.resource("aws_iam_role", "live_medialive_role")["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "medialive.amazonaws.com"}
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions)
        assert statement["Resource"] != "*"
    writes = next(s for s in policy["Statement"] if s["Sid"] == "WriteLiveHlsAndArchive")
    assert all(resource.endswith(("/live/*", "/live-archive/*")) for resource in writes["Resource"])


@pytest.mark.requirement("R5.5")
def test_every_channel_archives_to_the_recordings_bucket(env: StackJson) -> None:
    recordings = bucket_name(env, "storage_recordings_bucket")
    for channel in channels(env).values():
        archive = output_group(channel, "archive")
        settings = archive["output_group_settings"]["archive_group_settings"][0]
        assert settings["destination"]["destination_ref_id"] == "archive"
        assert settings["archive_cdn_settings"]["archive_s3_settings"]["canned_acl"] == "BUCKET_OWNER_FULL_CONTROL"
        # One folder per broadcast ($dt$: the channel's start), so the next creator on a channel never overwrites.
        assert destination_url(channel, "archive") == f"s3ssl://{recordings}/live-archive/{channel['name']}/$dt$/archive"
        (output,) = archive["outputs"]
        assert "m2ts_settings" in output["output_settings"]["archive_output_settings"]["container_settings"]


@pytest.mark.requirement("R5.5")
def test_a_recording_landing_invokes_the_function_that_submits_to_the_queue(env: StackJson) -> None:
    rule = env.resource("aws_cloudwatch_event_rule", "vod_recording_created")
    pattern = json.loads(rule["event_pattern"])
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [bucket_name(env, "storage_recordings_bucket")]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "live-archive/"}]
    target = env.resource("aws_cloudwatch_event_target", "vod_submit_target")
    assert target["rule"] == ref("aws_cloudwatch_event_rule", "vod_recording_created", "name")
    assert target["arn"] == ref("aws_lambda_function", "vod_function", "arn")
    assert target["dead_letter_config"]["arn"] == ref("aws_sqs_queue", "vod_dead_letters", "arn")
    permission = env.resource("aws_lambda_permission", "vod_invoke_from_rule")
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["source_arn"] == ref("aws_cloudwatch_event_rule", "vod_recording_created", "arn")

    function = env.resource("aws_lambda_function", "vod_function")
    variables = function["environment"]["variables"]
    assert variables["QUEUE_ARN"] == ref("aws_media_convert_queue", "vod_queue", "arn")
    assert variables["ROLE_ARN"] == ref("aws_iam_role", "vod_mediaconvert_role", "arn")
    assert variables["VOD_BUCKET"] == bucket_name(env, "storage_vod_bucket")
    assert variables["ARCHIVE_PREFIX"] == "live-archive/"
    queue = env.resource("aws_media_convert_queue", "vod_queue")
    assert queue["status"] == "ACTIVE"
    policy = json.loads(env.resource("aws_iam_role_policy", "vod_function_policy")["policy"])
    submit = next(s for s in policy["Statement"] if s["Sid"] == "SubmitJobs")
    assert submit["Action"] == "mediaconvert:CreateJob" and submit["Resource"] == ref("aws_media_convert_queue", "vod_queue", "arn")
    pass_role = next(s for s in policy["Statement"] if s["Sid"] == "PassRoleToMediaConvert")
    assert pass_role["Resource"] == ref("aws_iam_role", "vod_mediaconvert_role", "arn")
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "mediaconvert.amazonaws.com"}}


@pytest.mark.requirement("R5.5")
def test_the_function_is_traced_bounded_encrypted_and_dead_lettered(env: StackJson, configs) -> None:
    function = env.resource("aws_lambda_function", "vod_function")
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["reserved_concurrent_executions"] == configs[env.name].streaming.vod_submit_concurrency
    assert function["kms_key_arn"] == ref("aws_kms_key", "keys_messaging_key", "arn")
    assert function["dead_letter_config"]["target_arn"] == ref("aws_sqs_queue", "vod_dead_letters", "arn")
    assert function["depends_on"] == ["aws_cloudwatch_log_group.vod_logs"]
    logs = env.resource("aws_cloudwatch_log_group", "vod_logs")
    assert logs["name"] == f"/aws/lambda/{function['function_name']}" and logs["kms_key_id"]
    queue = env.resource("aws_sqs_queue", "vod_dead_letters")
    assert queue["kms_master_key_id"] == ref("aws_kms_key", "keys_messaging_key", "arn")


@pytest.mark.requirement("R5.5")
def test_the_function_package_is_the_repository_code(env: StackJson, synth_dir: Path) -> None:
    function = env.resource("aws_lambda_function", "vod_function")
    package = (synth_dir / "stacks" / env.name / function["filename"]).read_bytes()
    assert package == build_zip(FUNCTION_SOURCE)
    import base64

    assert function["source_code_hash"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert sorted(archive.namelist()) == ["handler.py", "job_settings.json"]
        assert archive.read("job_settings.json") == JOB_SETTINGS_FILE.read_bytes()
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.requirement("R5.7")
def test_dashboard_shows_channel_health_cdn_traffic_and_viewers(env: StackJson) -> None:
    body = json.loads(env.resource("aws_cloudwatch_dashboard", "streaming_metrics_dashboard")["dashboard_body"])
    metrics = [row for widget in body["widgets"] for row in widget["properties"]["metrics"]]
    channel_ids = {ref("aws_medialive_channel", logical_id, "id") for logical_id in channels(env)}
    for name in ("ActiveOutputs", "InputLossSeconds", "DroppedFrames"):
        charted = {row[row.index("ChannelId") + 1] for row in metrics if row[:2] == ["AWS/MediaLive", name]}
        assert charted == channel_ids, name
    distribution_id = ref("aws_cloudfront_distribution", "streaming_cdn_distribution", "id")
    for name in ("Requests", "BytesDownloaded"):
        row = next(row for row in metrics if row[:2] == ["AWS/CloudFront", name])
        assert row[2:6] == ["DistributionId", distribution_id, "Region", "Global"]
    cdn_widgets = [w for w in body["widgets"] if w["properties"]["metrics"][0][0] == "AWS/CloudFront"]
    assert {w["properties"]["region"] for w in cdn_widgets} == {"us-east-1"}  # where CloudFront reports
    assert {row[1] for row in metrics if row[0] == "DirectFanz/Streaming"} == {"ViewerJoins", "ViewerLeaves"}


@pytest.mark.requirement("R5.7")
def test_every_channel_alarms_to_the_alerts_topic(env: StackJson) -> None:
    alarms = env.resources("aws_cloudwatch_metric_alarm")
    topic = ref("aws_sns_topic", "alerts_topic", "arn")
    for logical_id in channels(env):
        channel_id = ref("aws_medialive_channel", logical_id, "id")
        mine = {a["metric_name"]: a for a in alarms.values() if a.get("dimensions", {}).get("ChannelId") == channel_id}
        assert set(mine) == {"InputLossSeconds", "ActiveOutputs", "DroppedFrames"}
        assert mine["ActiveOutputs"]["dimensions"]["OutputGroupName"] == "hls"
        assert mine["ActiveOutputs"]["comparison_operator"] == "LessThanThreshold"
        for alarm in mine.values():
            assert alarm["namespace"] == "AWS/MediaLive"
            assert alarm["alarm_actions"] == [topic] and alarm["ok_actions"] == [topic]
            assert alarm["treat_missing_data"] == "notBreaching"  # idle pool channels publish nothing
    dead_letters = alarms["streaming_metrics_vod_dead_letters"]
    assert dead_letters["dimensions"] == {"QueueName": ref("aws_sqs_queue", "vod_dead_letters", "name")}
    assert dead_letters["alarm_actions"] == [topic]


@pytest.mark.requirement("R5.2", "R5.6")
def test_live_host_is_an_alias_to_the_streaming_distribution_over_tls(env: StackJson, configs) -> None:
    domain = configs[env.name].domain
    records = {body["type"]: body for body in env.resources("aws_route53_record").values() if body["name"] == f"live.{domain}"}
    assert set(records) == {"A", "AAAA"}
    for record in records.values():
        assert record["alias"]["name"] == ref("aws_cloudfront_distribution", "streaming_cdn_distribution", "domain_name")
    distribution = streaming_distribution(env)
    assert distribution["aliases"] == [f"live.{domain}"]
    assert distribution["viewer_certificate"]["minimum_protocol_version"] == "TLSv1.2_2021"
    assert distribution["web_acl_id"]


@pytest.mark.requirement("R5.6")
def test_the_app_may_start_and_stop_channels_and_nothing_more(env: StackJson) -> None:
    control = env.resource("aws_iam_role_policy", "live_app_channel_control")
    assert control["role"] == ref("aws_iam_role", "web_task_role", "name")  # the app's API runs in the web service
    policy = json.loads(control["policy"])
    channel_arns = sorted(ref("aws_medialive_channel", logical_id, "arn") for logical_id in channels(env))
    assert policy["Statement"] == [
        {
            "Sid": "StartStopLiveChannels",
            "Effect": "Allow",
            "Action": ["medialive:StartChannel", "medialive:StopChannel"],
            "Resource": channel_arns,
        }
    ]




@pytest.mark.requirement("R5.7")
def test_viewer_joins_and_leaves_are_counted_from_the_websocket_logs(env: StackJson) -> None:
    filters = env.resources("aws_cloudwatch_log_metric_filter")
    by_metric = {f["metric_transformation"]["name"]: f for f in filters.values() if f["metric_transformation"]["namespace"] == "DirectFanz/Streaming"}
    assert set(by_metric) == {"ViewerJoins", "ViewerLeaves"}
    assert by_metric["ViewerJoins"]["pattern"] == '{ $.event = "viewer_join" }'
    assert by_metric["ViewerLeaves"]["pattern"] == '{ $.event = "viewer_leave" }'
    for metric_filter in by_metric.values():
        assert metric_filter["log_group_name"] == ref("aws_cloudwatch_log_group", "websocket_logs", "name")


def test_nothing_else_grants_the_app_medialive(env: StackJson) -> None:
    """The start/stop policy is the app's only MediaLive permission (R5.6: nothing more)."""
    for resource_type in ("aws_iam_role_policy", "aws_iam_policy"):
        for logical_id, body in env.resources(resource_type).items():
            if logical_id != "live_app_channel_control":
                assert "medialive:" not in body["policy"], logical_id


@pytest.mark.requirement("R5.4")
def test_chat_stays_on_the_websocket_service_with_sticky_sessions(env: StackJson, configs) -> None:
    rule = env.resource("aws_lb_listener_rule", "load_balancer_websocket_production")
    (condition,) = rule["condition"]
    assert condition["host_header"]["values"] == [f"ws.{configs[env.name].domain}"]
    (action,) = rule["action"]
    forwarded = {group["arn"]: group["weight"] for group in action["forward"]["target_group"]}
    blue, green = (ref("aws_lb_target_group", f"load_balancer_websocket_{colour}", "arn") for colour in ("blue", "green"))
    assert forwarded == {blue: 100, green: 0}
    for colour in ("blue", "green"):
        group = env.resource("aws_lb_target_group", f"load_balancer_websocket_{colour}")
        assert group["port"] == 3001
        # Socket.IO long-polling needs every request of a session on the same task.
        assert group["stickiness"]["enabled"] is True and group["stickiness"]["type"] == "lb_cookie"



@pytest.mark.requirement("R5.6")
def test_the_app_knows_the_pool_and_the_streaming_host(env: StackJson, configs) -> None:
    containers = json.loads(env.resource("aws_ecs_task_definition", "web_task")["container_definitions"])
    (container,) = [c for c in containers if c["name"] == "web"]
    environment = {variable["name"]: variable["value"] for variable in container["environment"]}
    ids = [ref("aws_medialive_channel", logical_id, "id") for logical_id in sorted(channels(env))]
    assert environment["MEDIALIVE_CHANNEL_ID"] == ",".join(ids)
    assert environment["CLOUDFRONT_STREAMING_DOMAIN"] == f"live.{configs[env.name].domain}"
