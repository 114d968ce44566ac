"""Submit a MediaConvert job that turns a live recording into VOD renditions (R5.5).

Invoked by an EventBridge rule on "Object Created" in the recordings bucket,
under the prefix MediaLive archives to. The job settings are the JSON beside
this file; the function fills in only the input, the destination and who
runs it. MediaConvert is called through its regional endpoint (account
endpoints from DescribeEndpoints are no longer required).

Environment: QUEUE_ARN, ROLE_ARN, VOD_BUCKET, ARCHIVE_PREFIX, VOD_PREFIX.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import posixpath
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

JOB_SETTINGS_FILE = Path(__file__).with_name("job_settings.json")
# MediaLive archive output writes MPEG-2 transport stream files.
RECORDING_SUFFIX = ".ts"


class IgnoredEvent(ValueError):
    """The event is not a recording this function converts."""


def load_job_settings(path: Path = JOB_SETTINGS_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def build_job(event: Mapping[str, Any], settings: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """The CreateJob request for one recording, from an EventBridge S3 "Object Created" event."""
    if event.get("source") != "aws.s3" or event.get("detail-type") != "Object Created":
        raise IgnoredEvent(f"not an S3 Object Created event: {event.get('source')!r} {event.get('detail-type')!r}")
    detail = event["detail"]
    bucket, key = detail["bucket"]["name"], detail["object"]["key"]
    archive_prefix = env["ARCHIVE_PREFIX"]
    # MediaLive writes keys without characters that S3 would URL-encode; anything else is not ours.
    if not key.startswith(archive_prefix) or not key.endswith(RECORDING_SUFFIX) or ".." in key.split("/"):
        raise IgnoredEvent(f"not a recording under {archive_prefix}: {key!r}")

    # live-archive/<channel>/<start time>/archive.000001.ts -> vod/<channel>/<start time>/archive.000001/
    relative = key[len(archive_prefix):]
    stem = posixpath.splitext(relative)[0]
    destination = f"s3://{env['VOD_BUCKET']}/{env['VOD_PREFIX']}{stem}/"

    job_settings = copy.deepcopy(dict(settings))
    job_settings["Inputs"][0]["FileInput"] = f"s3://{bucket}/{key}"
    for group in job_settings["OutputGroups"]:
        group["OutputGroupSettings"]["HlsGroupSettings"]["Destination"] = destination

    # The same object (key and version) always yields the same token, so a retried event never converts twice.
    version = detail["object"].get("version-id") or detail["object"].get("etag", "")
    token = hashlib.sha256(f"{bucket}/{key}/{version}".encode()).hexdigest()[:64]
    return {
        "Queue": env["QUEUE_ARN"],
        "Role": env["ROLE_ARN"],
        "Settings": job_settings,
        "ClientRequestToken": token,
        "StatusUpdateInterval": "SECONDS_60",
        "UserMetadata": {"recording": f"s3://{bucket}/{key}", "destination": destination},
    }


def _mediaconvert() -> Any:
    import boto3  # in the Lambda runtime; imported here so the logic is testable without it

    return boto3.client("mediaconvert")


def handler(event: Mapping[str, Any], context: Any, client_factory: Callable[[], Any] = _mediaconvert) -> dict[str, Any]:
    try:
        request = build_job(event, load_job_settings(), os.environ)
    except IgnoredEvent as ignored:
        LOG.info("ignored: %s", ignored)
        return {"submitted": False, "reason": str(ignored)}
    # Errors from MediaConvert propagate: the asynchronous invocation retries, then the dead-letter queue keeps the event.
    job = client_factory().create_job(**request)["Job"]
    LOG.info("submitted MediaConvert job %s for %s", job["Id"], request["UserMetadata"]["recording"])
    return {"submitted": True, "job_id": job["Id"]}
