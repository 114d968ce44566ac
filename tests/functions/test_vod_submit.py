"""The VOD-submit function's logic, without AWS: event in, CreateJob request out (R5.5)."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.validate import ParamValidator

from functions.vod_submit import handler as vod_submit

ENV = {
    "QUEUE_ARN": "arn:aws:mediaconvert:us-east-1:123456789012:queues/directfanz-prod-vod",
    "ROLE_ARN": "arn:aws:iam::123456789012:role/directfanz-prod-mediaconvert",
    "VOD_BUCKET": "directfanz-prod-vod",
    "ARCHIVE_PREFIX": "live-archive/",
    "VOD_PREFIX": "vod/",
}
KEY = "live-archive/directfanz-prod-live-01/20261125T101500/archive.000001.ts"


def s3_event(key: str = KEY, bucket: str = "directfanz-prod-recordings", version: str = "v1") -> dict:
    return {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 10, "etag": "abc", "version-id": version}},
    }


def create_job_request(event: dict) -> dict:
    return vod_submit.build_job(event, vod_submit.load_job_settings(), ENV)


@pytest.mark.requirement("R5.5")
def test_a_recording_becomes_a_job_on_the_queue_with_the_repository_settings() -> None:
    request = create_job_request(s3_event())
    assert request["Queue"] == ENV["QUEUE_ARN"] and request["Role"] == ENV["ROLE_ARN"]
    settings = request["Settings"]
    assert settings["Inputs"][0]["FileInput"] == f"s3://directfanz-prod-recordings/{KEY}"
    hls = settings["OutputGroups"][0]["OutputGroupSettings"]["HlsGroupSettings"]
    assert hls["Destination"] == "s3://directfanz-prod-vod/vod/directfanz-prod-live-01/20261125T101500/archive.000001/"
    # Everything else is the repository's job settings, untouched (and the template itself is not modified).
    template = vod_submit.load_job_settings()
    assert settings["OutputGroups"][0]["Outputs"] == template["OutputGroups"][0]["Outputs"]
    assert template["Inputs"][0]["FileInput"] == ""


@pytest.mark.requirement("R5.3", "R5.5")
def test_job_settings_produce_the_adaptive_bitrate_ladder() -> None:
    outputs = vod_submit.load_job_settings()["OutputGroups"][0]["Outputs"]
    heights = [output["VideoDescription"]["Height"] for output in outputs]
    assert heights == [1080, 720, 480, 360]
    bitrates = [output["VideoDescription"]["CodecSettings"]["H264Settings"]["MaxBitrate"] for output in outputs]
    assert bitrates == sorted(bitrates, reverse=True)
    assert len({output["NameModifier"] for output in outputs}) == len(outputs)
    assert all(output["AudioDescriptions"] for output in outputs)


@pytest.mark.requirement("R5.5")
def test_create_job_request_matches_the_mediaconvert_api_model() -> None:
    """botocore's own model of CreateJob: a misspelt or misplaced key in the JSON fails here, not in production."""
    model = botocore.session.get_session().get_service_model("mediaconvert").operation_model("CreateJob")
    report = ParamValidator().validate(create_job_request(s3_event()), model.input_shape)
    assert not report.has_errors(), report.generate_report()


def test_retries_of_one_object_version_reuse_the_idempotency_token() -> None:
    first, again = create_job_request(s3_event()), create_job_request(s3_event())
    assert first["ClientRequestToken"] == again["ClientRequestToken"]
    assert create_job_request(s3_event(version="v2"))["ClientRequestToken"] != first["ClientRequestToken"]


@pytest.mark.parametrize(
    "event",
    [
        s3_event(key="uploads/avatar.png"),  # not under the archive prefix
        s3_event(key="live-archive/directfanz-prod-live-01/20261125T101500/archive.m3u8"),  # not a recording
        s3_event(key="live-archive/../vod/evil.ts"),
        {"source": "aws.s3", "detail-type": "Object Deleted", "detail": {}},
        {"source": "aws.medialive", "detail-type": "MediaLive Channel State Change", "detail": {}},
    ],
    ids=["other-prefix", "other-suffix", "traversal", "deleted", "other-source"],
)
def test_events_that_are_not_recordings_are_ignored_without_calling_aws(event: dict, monkeypatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)

    def no_client():
        raise AssertionError("MediaConvert must not be called")

    assert vod_submit.handler(event, None, client_factory=no_client)["submitted"] is False


def test_handler_submits_through_the_client_seam(monkeypatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    calls = []

    class FakeMediaConvert:
        def create_job(self, **request):
            calls.append(request)
            return {"Job": {"Id": "1700000000000-abcdef"}}

    result = vod_submit.handler(s3_event(), None, client_factory=FakeMediaConvert)
    assert result == {"submitted": True, "job_id": "1700000000000-abcdef"}
    assert calls[0]["Settings"]["Inputs"][0]["FileInput"].endswith(KEY)


def test_mediaconvert_errors_propagate_so_the_invocation_is_retried(monkeypatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)

    class FailingMediaConvert:
        def create_job(self, **request):
            raise RuntimeError("TooManyRequestsException")

    with pytest.raises(RuntimeError):
        vod_submit.handler(s3_event(), None, client_factory=FailingMediaConvert)
