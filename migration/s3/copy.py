"""Copy every object (optionally every version) between buckets with SHA-256 checksums carried and compared (R11.2).

- Server-side (`CopyObject`, metadata directive COPY, `ChecksumAlgorithm=SHA256`) when one client reaches both
  buckets: one request per object, S3 computes the SHA-256 of the bytes it writes; where the listing says the
  source holds a full-object SHA-256 too, the two are compared.
- Streamed otherwise: one GET (which also returns the source's stored checksum), the bytes hashed as they pass,
  and one PUT carrying that SHA-256 (S3 refuses bytes that do not match it) or, from `part_size` up, a multipart
  upload with each part's SHA-256: memory is bounded by workers × part size whatever the object size.

The target gets exactly the source's metadata and content headers; which source version each target version
holds is recorded in the manifest, never on the objects."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import groupby
from typing import Any
from urllib.parse import quote

from migration.errors import MigrationError
from migration.s3.buckets import Bucket, ObjectVersion
from migration.s3.direct import copy_source, element_text
from migration.s3.manifest import Manifest

SERVER_SIDE_COPY_LIMIT = 5 * 1024**3  # CopyObject's limit; larger objects are streamed in parts
# What S3 stores with an object besides its bytes, as GetObject names it and PutObject takes it.
CARRIED_HEADERS = ("ContentType", "CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "Expires",
                   "WebsiteRedirectLocation", "Metadata")
STORED_HEADERS = ("content-type", "cache-control", "content-disposition", "content-encoding", "content-language", "expires",
                  "x-amz-website-redirect-location")  # the same, as HTTP headers (with every x-amz-meta-*)
FOUND_AFTER_CRASH = "found on target (written before a crash, not yet recorded)"


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class CopyPlan:
    listing: list[ObjectVersion]  # the source, as listed once
    pending: list[ObjectVersion]  # what the manifest does not list yet
    found: list[dict]  # written by an interrupted attempt, found on the target and recorded now


def plan_copy(source: Bucket, target: Bucket, manifest: Manifest, versions: bool, larger_than: int | None = None) -> CopyPlan:
    """Check both buckets, list the source once, and on a resume record what the last attempt wrote unrecorded.

    `larger_than` copies only the objects above that size (those S3 Batch Operations cannot copy): such a copy
    may start on a target that already holds the others, as long as it holds none of these."""
    source.check_access("source")
    target.check_access("target")
    resuming = manifest.header() is not None
    listing = [v for v in source.listing(versions) if larger_than is None or v.size > larger_than]
    if not resuming:
        if larger_than is None and not target.is_empty():
            raise MigrationError(f"target bucket {target.name} is not empty and this copy has no manifest yet; use an empty bucket")
        if larger_than is not None and (present := {v.key for v in listing} & {v.key for v in target.listing(False)}):
            raise MigrationError(f"target bucket {target.name} already holds {len(present)} of the objects above {larger_than} bytes "
                                 "and this copy has no manifest yet")
    manifest.start({"source": source.name, "target": target.name, "versions": versions}
                   | ({"larger_than": larger_than} if larger_than is not None else {}))
    found = reconcile(listing, target, manifest, versions) if resuming else []
    done = manifest.entries()
    return CopyPlan(listing, [v for v in listing if (v.key, v.version_id) not in done], found)


def run_copy(plan: CopyPlan, source: Bucket, target: Bucket, manifest: Manifest, *, workers: int, part_size: int,
             on_copied: Callable[[dict], None]) -> list[dict]:
    """Copy the plan's pending versions, each key's in order by one worker; returns their manifest entries."""
    server_side = target.reachable_with(source)
    copied: list[dict] = []
    lock = threading.Lock()

    def copy_key(history: list[ObjectVersion]) -> None:
        for version in history:  # a key's versions in order, so the target's history matches
            entry = _copy_version(source, target, version, server_side, part_size)
            manifest.record(entry)
            with lock:
                copied.append(entry)
            on_copied(entry)

    try:
        with ThreadPoolExecutor(max(1, workers)) as pool:
            list(pool.map(copy_key, [list(group) for _, group in groupby(plan.pending, key=lambda v: v.key)]))
    finally:
        manifest.flush()
    return copied


def copy_bucket(source: Bucket, target: Bucket, manifest: Manifest, *, versions: bool, workers: int, part_size: int,
                on_copied: Callable[[dict], None]) -> list[dict]:
    """Plan and run a copy; returns the new manifest entries (those found after a crash first)."""
    plan = plan_copy(source, target, manifest, versions)
    return plan.found + run_copy(plan, source, target, manifest, workers=workers, part_size=part_size, on_copied=on_copied)


def reconcile(listing: list[ObjectVersion], target: Bucket, manifest: Manifest, versions: bool) -> list[dict]:
    """Record what an interrupted copy wrote to the target but had not recorded yet, so it is not written twice.

    This copy is the target's only writer (it starts on an empty bucket) and writes each key's versions in
    order, one at a time, recording them in that order: so a key's target history is its recorded versions
    followed by at most the next source versions, written but unrecorded. Their number is the target's count
    minus the recorded count; each must have the kind (object or delete marker) and size of its source version.
    Without versions, a key present on the target with its source's size was written."""
    recorded = manifest.entries()
    on_target = {key: list(history) for key, history in groupby(target.listing(versions), key=lambda v: v.key)}
    found = []
    for key, group in groupby(listing, key=lambda v: v.key):
        history = list(group)
        done = sum((key, v.version_id) in recorded for v in history)
        landed = on_target.get(key, [])
        if versions and not done <= len(landed) <= len(history):
            raise MigrationError(f"target history of {key!r} ({len(landed)} versions) does not continue the {done} this copy "
                                 "recorded: another writer changed the target bucket")
        for source_version, target_version in zip(history[done:], landed[done:], strict=False):
            if (source_version.delete_marker, source_version.size) != (target_version.delete_marker, target_version.size):
                if not versions:
                    continue  # the source object changed since: it is copied again, overwriting
                raise MigrationError(f"target holds a version of {key!r} this copy did not write: another writer changed the target bucket")
            entry = {"key": key, "source_version": source_version.version_id, "target_version": target_version.version_id,
                     "size": source_version.size, "sha256": None, "method": FOUND_AFTER_CRASH}
            manifest.record(entry)
            found.append(entry)
    manifest.flush()
    return found


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
    direct = target.direct.send("PUT", version.key, {"x-amz-copy-source": copy_source(source.name, version.key, version.version_id),
                                                     "x-amz-checksum-algorithm": "SHA256", "x-amz-metadata-directive": "COPY"})
    copied, checksum = element_text(direct.body, "CopyObjectResult", "ChecksumSHA256") if direct else (False, None)
    if direct and copied:
        target_version = direct.headers.get("x-amz-version-id")
    else:
        response = target.client.copy_object(
            Bucket=target.name, Key=version.key, CopySource={"Bucket": source.name, "Key": version.key, **_version_args(version)},
            ChecksumAlgorithm="SHA256", MetadataDirective="COPY",
        )
        checksum, target_version = response["CopyObjectResult"].get("ChecksumSHA256"), response.get("VersionId")
    if "SHA256" in version.checksum_algorithms:  # the source holds its own: the one request worth making
        head = source.client.head_object(Bucket=source.name, Key=version.key, ChecksumMode="ENABLED", **_version_args(version))
        _compare(version, head.get("ChecksumSHA256"), checksum)
    return {"target_version": target_version, "sha256": checksum, "method": "server-side copy"}


def _small_streamed_copy(source: Bucket, target: Bucket, version: ObjectVersion) -> dict | None:
    """One GET and one PUT with the stored headers passed through as S3 sent them; None: use botocore."""
    query = f"versionId={quote(version.version_id, safe='')}" if version.version_id else ""
    got = source.direct.send("GET", version.key, {"x-amz-checksum-mode": "ENABLED"}, query=query)
    if got is None:
        return None
    digest = b64(hashlib.sha256(got.body).digest())
    carried = {name: value for name, value in got.headers.items() if name in STORED_HEADERS or name.startswith("x-amz-meta-")}
    put = target.direct.send("PUT", version.key, carried | {"x-amz-sdk-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": digest},
                             got.body)
    if put is None:
        return None
    _compare(version, got.headers.get("x-amz-checksum-sha256"), digest)
    return {"target_version": put.headers.get("x-amz-version-id"), "sha256": digest, "method": "streamed"}


def _streamed_copy(source: Bucket, target: Bucket, version: ObjectVersion, part_size: int) -> dict:
    if version.size < part_size and (copied := _small_streamed_copy(source, target, version)):
        return copied
    got = source.client.get_object(Bucket=source.name, Key=version.key, ChecksumMode="ENABLED", **_version_args(version))
    carried = {h: got[h] for h in CARRIED_HEADERS if h in got}
    whole = hashlib.sha256()
    body = got["Body"]
    first = _read_part(body, part_size)
    whole.update(first)
    if len(first) < part_size:  # fits in one part: a single PUT whose SHA-256 S3 checks on arrival
        digest = b64(whole.digest())
        response = target.client.put_object(Bucket=target.name, Key=version.key, Body=first, ChecksumAlgorithm="SHA256",
                                            ChecksumSHA256=digest, **carried)
        _compare(version, got.get("ChecksumSHA256"), digest)
        return {"target_version": response.get("VersionId"), "sha256": digest, "method": "streamed"}
    upload = target.client.create_multipart_upload(Bucket=target.name, Key=version.key, ChecksumAlgorithm="SHA256", **carried)
    try:
        parts = [_upload_part(target, version.key, upload["UploadId"], number, part)
                 for number, part in enumerate(_parts(first, body, part_size, whole), 1)]
        response = target.client.complete_multipart_upload(Bucket=target.name, Key=version.key, UploadId=upload["UploadId"],
                                                           MultipartUpload={"Parts": parts})
    except BaseException:
        target.client.abort_multipart_upload(Bucket=target.name, Key=version.key, UploadId=upload["UploadId"])
        raise
    _compare(version, got.get("ChecksumSHA256"), b64(whole.digest()))
    return {"target_version": response.get("VersionId"), "sha256": b64(whole.digest()), "method": f"streamed, {len(parts)} parts"}


def _parts(first: bytes, body: Any, size: int, whole: Any) -> Iterable[bytes]:
    """The parts in order, each hashed into `whole` as it is read; one part in memory at a time."""
    part = first
    while part:
        yield part
        part = _read_part(body, size)
        whole.update(part)


def _upload_part(target: Bucket, key: str, upload_id: str, number: int, part: bytes) -> dict:
    checksum = b64(hashlib.sha256(part).digest())
    response = target.client.upload_part(Bucket=target.name, Key=key, UploadId=upload_id, PartNumber=number, Body=part,
                                         ChecksumAlgorithm="SHA256", ChecksumSHA256=checksum)
    return {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": checksum}


def _read_part(body: Any, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining and (chunk := body.read(remaining)):
        chunks.append(chunk)
        remaining -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)  # one read is the usual case: no second copy


def _compare(version: ObjectVersion, source_checksum: str | None, copied_checksum: str | None) -> None:
    """The source's own full-object SHA-256 (if it has one; '-N' marks a composite of parts) must match the copy's."""
    if source_checksum and "-" not in source_checksum and copied_checksum and source_checksum != copied_checksum:
        raise MigrationError(f"checksum mismatch copying {version.key}: source says {source_checksum}, bytes copied hash to {copied_checksum}")
