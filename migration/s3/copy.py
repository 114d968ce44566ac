"""Copy every object (optionally every version) between buckets with SHA-256 checksums carried and compared (R11.2).

Server-side copy when one client reaches both buckets; otherwise streamed through this machine in parts, so
memory is bounded by workers × part size whatever the object size."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from typing import Any

from migration.errors import MigrationError
from migration.s3.buckets import Bucket, ObjectVersion
from migration.s3.manifest import Manifest

SOURCE_VERSION_METADATA = "migration-source-version"  # on each target version: which source version it holds
SERVER_SIDE_COPY_LIMIT = 5 * 1024**3  # CopyObject's limit; larger objects are streamed in parts
_CARRIED_HEADERS = ("ContentType", "CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "Metadata")


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def copy_bucket(
    source: Bucket, target: Bucket, manifest: Manifest, *, versions: bool, workers: int, part_size: int,
    on_copied: Callable[[dict], None],
) -> list[dict]:
    """Copy what the manifest does not list yet; returns the new manifest entries."""
    source.check_access("source")
    target.check_access("target")
    done = manifest.entries()
    if not done and target.listing(versions=False):
        raise MigrationError(f"target bucket {target.name} is not empty and this copy has no manifest yet; use an empty bucket")
    pending = [v for v in source.listing(versions) if (v.key, v.version_id) not in done]
    server_side = target.reachable_with(source)
    copied: list[dict] = []
    lock = threading.Lock()

    def copy_key(history: list[ObjectVersion]) -> None:
        if versions:
            history = _skip_already_on_target(target, history, manifest)
        for version in history:  # a key's versions in order, so the target's history matches
            entry = _copy_version(source, target, version, server_side, part_size)
            manifest.record(entry)
            with lock:
                copied.append(entry)
            on_copied(entry)

    with ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(copy_key, [list(group) for _, group in groupby(pending, key=lambda v: v.key)]))
    return copied


def _skip_already_on_target(target: Bucket, history: list[ObjectVersion], manifest: Manifest) -> list[ObjectVersion]:
    """A crash between writing a version and recording it would copy it twice; the version's own metadata says."""
    landed = {}
    for page in target.client.get_paginator("list_object_versions").paginate(Bucket=target.name, Prefix=history[0].key):
        for version in page.get("Versions", []):
            if version["Key"] == history[0].key:
                head = target.client.head_object(Bucket=target.name, Key=version["Key"], VersionId=version["VersionId"])
                if SOURCE_VERSION_METADATA in head.get("Metadata", {}):
                    landed[head["Metadata"][SOURCE_VERSION_METADATA]] = version["VersionId"]
    for version in history:
        if version.version_id in landed:
            manifest.record({"key": version.key, "source_version": version.version_id, "target_version": landed[version.version_id],
                             "size": version.size, "sha256": None, "method": "found on target after a crash"})
    return [v for v in history if v.version_id not in landed]


def _copy_version(source: Bucket, target: Bucket, version: ObjectVersion, server_side: bool, part_size: int) -> dict:
    entry = {"key": version.key, "source_version": version.version_id, "size": version.size}
    if version.delete_marker:
        response = target.client.delete_object(Bucket=target.name, Key=version.key)
        return entry | {"target_version": response.get("VersionId"), "sha256": None, "method": "delete marker"}
    if server_side and version.size <= SERVER_SIDE_COPY_LIMIT:
        return entry | _server_side_copy(source, target, version)
    return entry | _streamed_copy(source, target, version, part_size)


def _version_args(version: ObjectVersion) -> dict:
    return {"VersionId": version.version_id} if version.version_id else {}


def _server_side_copy(source: Bucket, target: Bucket, version: ObjectVersion) -> dict:
    head = source.client.head_object(Bucket=source.name, Key=version.key, ChecksumMode="ENABLED", **_version_args(version))
    metadata = head.get("Metadata", {}) | ({SOURCE_VERSION_METADATA: version.version_id} if version.version_id else {})
    carried = {h: head[h] for h in _CARRIED_HEADERS if h in head and h != "Metadata"}
    response = target.client.copy_object(
        Bucket=target.name, Key=version.key, CopySource={"Bucket": source.name, "Key": version.key, **_version_args(version)},
        ChecksumAlgorithm="SHA256", MetadataDirective="REPLACE", Metadata=metadata, **carried,
    )
    checksum = response["CopyObjectResult"].get("ChecksumSHA256")
    _compare(version, head.get("ChecksumSHA256"), checksum)
    return {"target_version": response.get("VersionId"), "sha256": checksum, "method": "server-side copy"}


def _streamed_copy(source: Bucket, target: Bucket, version: ObjectVersion, part_size: int) -> dict:
    got = source.client.get_object(Bucket=source.name, Key=version.key, ChecksumMode="ENABLED", **_version_args(version))
    carried = {h: got[h] for h in _CARRIED_HEADERS if h in got}
    if version.version_id:
        carried["Metadata"] = carried.get("Metadata", {}) | {SOURCE_VERSION_METADATA: version.version_id}
    whole = hashlib.sha256()
    body = got["Body"]
    first = _read_part(body, part_size)
    whole.update(first)
    if len(first) < part_size:  # fits in one part: a single PUT whose SHA-256 S3 checks on arrival
        response = target.client.put_object(Bucket=target.name, Key=version.key, Body=first, ChecksumAlgorithm="SHA256",
                                              ChecksumSHA256=b64(whole.digest()), **carried)
        _compare(version, got.get("ChecksumSHA256"), b64(whole.digest()))
        return {"target_version": response.get("VersionId"), "sha256": b64(whole.digest()), "method": "streamed"}
    upload = target.client.create_multipart_upload(Bucket=target.name, Key=version.key, ChecksumAlgorithm="SHA256", **carried)
    try:
        parts: list[dict[str, Any]] = []
        part = first
        while part:
            checksum = b64(hashlib.sha256(part).digest())
            response = target.client.upload_part(Bucket=target.name, Key=version.key, UploadId=upload["UploadId"],
                                                 PartNumber=len(parts) + 1, Body=part, ChecksumAlgorithm="SHA256",
                                                 ChecksumSHA256=checksum)
            parts.append({"PartNumber": len(parts) + 1, "ETag": response["ETag"], "ChecksumSHA256": checksum})
            part = _read_part(body, part_size)
            whole.update(part)
        response = target.client.complete_multipart_upload(Bucket=target.name, Key=version.key, UploadId=upload["UploadId"],
                                                           MultipartUpload={"Parts": parts})
    except BaseException:
        target.client.abort_multipart_upload(Bucket=target.name, Key=version.key, UploadId=upload["UploadId"])
        raise
    _compare(version, got.get("ChecksumSHA256"), b64(whole.digest()))
    return {"target_version": response.get("VersionId"), "sha256": b64(whole.digest()), "method": f"streamed, {len(parts)} parts"}


def _read_part(body: Any, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining and (chunk := body.read(remaining)):
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _compare(version: ObjectVersion, source_checksum: str | None, copied_checksum: str | None) -> None:
    """The source's own full-object SHA-256 (if it has one; '-N' marks a composite of parts) must match the copy's."""
    if source_checksum and "-" not in source_checksum and copied_checksum and source_checksum != copied_checksum:
        raise MigrationError(f"checksum mismatch copying {version.key}: source says {source_checksum}, bytes copied hash to {copied_checksum}")
