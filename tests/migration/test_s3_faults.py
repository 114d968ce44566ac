"""S3 copy faults found on a trial run (issue 14), each pinned: the target's metadata is exactly the source's
(fault 6), and a crash between writing a version or delete marker and recording it does not write it twice
on resume (fault 7)."""

from __future__ import annotations

import datetime
import http.server
import threading

import boto3
import pytest
from test_s3_migration import PART, buckets, make_bucket

from migration.s3.buckets import Bucket
from migration.s3.copy import FOUND_AFTER_CRASH, copy_bucket
from migration.s3.direct import element_text
from migration.s3.manifest import Manifest
from migration.s3.verify import compare_buckets

# Everything S3 keeps with an object besides its bytes that a GET returns and a copy must carry.
STORED = ("Metadata", "ContentType", "CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "Expires")


@pytest.fixture
def s3(s3_server):
    return boto3.client("s3", endpoint_url=s3_server.endpoint, region_name="us-east-1")


def history(s3, bucket: str) -> list[tuple[str, str | None]]:
    """(key, version id or None for a delete marker), oldest first per key, as S3 lists them."""
    listed = s3.list_object_versions(Bucket=bucket)
    items = [(v["Key"], v["LastModified"], v["VersionId"]) for v in listed.get("Versions", [])]
    items += [(m["Key"], m["LastModified"], None) for m in listed.get("DeleteMarkers", [])]
    return [(key, version) for key, _, version in sorted(items, key=lambda item: (item[0], item[1]))]


def stored(s3, bucket: str, key: str, version: str) -> dict:
    head = s3.head_object(Bucket=bucket, Key=key, VersionId=version)
    return {name: head.get(name) for name in STORED} | {"body": s3.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()}


@pytest.mark.requirement("R11.2")
@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "server-side"])
@pytest.mark.parametrize("all_versions", [True, False], ids=["all-versions", "latest"])
def test_target_metadata_is_exactly_the_source_metadata(s3_server, s3, tmp_path, streamed, all_versions):
    """Fault 6: `--all-versions` added x-amz-meta-migration-source-version to every copied version. Provenance
    lives in the manifest; every target version's metadata and content headers equal its source version's."""
    source_name, target_name = make_bucket(s3, versioned=True), make_bucket(s3, versioned=True)
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    for n in range(2):
        s3.put_object(Bucket=source_name, Key="users/u1/avatar.png", Body=f"avatar {n}".encode(), ContentType="image/png",
                      CacheControl=f"max-age={60 * (n + 1)}", ContentDisposition='inline; filename="avatar.png"',
                      ContentLanguage="fr", ContentEncoding="identity", Expires=expires,
                      Metadata={"uploaded-by": f"user-{n}", "original-name": "Ava tar.png"})
    s3.put_object(Bucket=source_name, Key="docs/plain.txt", Body=b"no metadata at all")
    source, target = buckets(s3_server, source_name, target_name, streamed)
    entries = copy_bucket(source, target, Manifest(tmp_path / "m.jsonl"), versions=all_versions, workers=2, part_size=PART,
                          on_copied=lambda e: None)

    source_history, target_history = history(s3, source_name), history(s3, target_name)
    if not all_versions:
        source_history = [(key, version) for key, version in source_history
                          if version == s3.head_object(Bucket=source_name, Key=key)["VersionId"]]
    assert [key for key, _ in target_history] == [key for key, _ in source_history]
    for (key, source_version), (_, target_version) in zip(source_history, target_history, strict=True):
        assert stored(s3, target_name, key, target_version) == stored(s3, source_name, key, source_version), key
    # which source version each target version holds: recorded in the manifest, and only there
    recorded = {(e["key"], e["target_version"]): e["source_version"] for e in entries}
    for (key, source_version), (_, target_version) in zip(source_history, target_history, strict=True):
        assert recorded[(key, target_version)] == (source_version if all_versions else None)
    assert compare_buckets(source, target, versions=all_versions).ok


class Crash(BaseException):
    """The process dying at this point (BaseException: nothing in the tool catches it)."""


@pytest.mark.requirement("R11.2", "R11.5")
@pytest.mark.parametrize("crash_at", ["delete marker", "object version"])
def test_a_crash_after_writing_before_recording_does_not_write_twice(s3_server, s3, tmp_path, crash_at):
    """Fault 7: a crash between writing a delete marker and recording it duplicated the marker on resume.
    On resume the target's history of each key is read once and what it holds beyond the recorded versions
    is recorded as written (same kind and size as the next source versions), not written again."""
    source_name, target_name = make_bucket(s3, versioned=True), make_bucket(s3, versioned=True)
    for n in range(3):
        s3.put_object(Bucket=source_name, Key="profile.jpg", Body=f"version {n}".encode())
    s3.put_object(Bucket=source_name, Key="gone.txt", Body=b"was here")
    s3.delete_object(Bucket=source_name, Key="gone.txt")
    manifest_path = tmp_path / "m.jsonl"
    source, target = buckets(s3_server, source_name, target_name, streamed=True)
    crash_key = "gone.txt" if crash_at == "delete marker" else "profile.jpg"
    manifest = Manifest(manifest_path)
    record, seen = manifest.record, []

    def crash_before_recording(entry):
        seen.append(entry["key"])
        if entry["key"] == crash_key and (entry["method"] == "delete marker" or seen.count(crash_key) == 2):
            raise Crash  # the version or marker is on the target; the manifest does not say so
        record(entry)

    manifest.record = crash_before_recording
    with pytest.raises(Crash):
        copy_bucket(source, target, manifest, versions=True, workers=1, part_size=PART, on_copied=lambda e: None)

    source, target = Bucket(source_name, s3_server.endpoint), Bucket(target_name, s3_server.endpoint, region="us-east-1")
    resumed = copy_bucket(source, target, Manifest(manifest_path), versions=True, workers=2, part_size=PART,
                          on_copied=lambda e: None)

    assert [e["key"] for e in resumed if e["method"] == FOUND_AFTER_CRASH] == [crash_key]
    assert len(history(s3, target_name)) == len(history(s3, source_name)) == 5  # nothing written twice
    assert [key for key, version in history(s3, target_name) if version is None] == ["gone.txt"]  # one marker
    assert compare_buckets(source, target, versions=True).ok
    assert len(Manifest(manifest_path).entries()) == 5


@pytest.mark.requirement("R11.2")
def test_a_manifest_is_never_reused_for_another_copy(s3_server, s3, tmp_path):
    source_name, target_name = make_bucket(s3), make_bucket(s3)
    s3.put_object(Bucket=source_name, Key="a", Body=b"1")
    source, target = buckets(s3_server, source_name, target_name, streamed=False)
    manifest = Manifest(tmp_path / "m.jsonl")
    copy_bucket(source, target, manifest, versions=False, workers=1, part_size=PART, on_copied=lambda e: None)
    other = Bucket(make_bucket(s3), s3_server.endpoint)
    with pytest.raises(Exception, match="belongs to another copy"):
        copy_bucket(source, other, manifest, versions=False, workers=1, part_size=PART, on_copied=lambda e: None)


LISTING = """<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix></Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><MaxKeys>1000</MaxKeys>
  <IsTruncated>false</IsTruncated>
  <Version><Key>doc</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest>
    <LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"c"</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Version>
  <DeleteMarker><Key>doc</Key><VersionId>m2</VersionId><IsLatest>false</IsLatest>
    <LastModified>2026-01-01T00:00:00.000Z</LastModified></DeleteMarker>
  <Version><Key>doc</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>
    <LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"a"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Version>
</ListVersionsResult>"""


@pytest.fixture
def fixed_listing_endpoint():
    """An HTTP endpoint answering every request with one ListObjectVersions response, as S3 writes it."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = LISTING.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.requirement("R11.2")
def test_versions_written_within_one_second_keep_their_order(fixed_listing_endpoint, monkeypatch):
    """S3's LastModified has one-second resolution and botocore parses versions and delete markers into two
    lists; the order S3 lists them in (newest first, interleaved) is what orders a key's history. Example
    response shape: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html"""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    listed = Bucket("b", fixed_listing_endpoint, region="us-east-1").listing(versions=True)
    assert [(v.version_id, v.delete_marker) for v in listed] == [("v1", False), ("m2", True), ("v3", False)]


def test_an_error_inside_a_200_copy_reply_is_not_a_success():
    """CopyObject can answer 200 OK with an error document: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
    ("the error response is embedded in the 200 OK response"; the same reading fixed apache/opendal#7294);
    only a CopyObjectResult is read as a copy."""
    error = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>'
    result = (b'<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
              b'<ETag>"e"</ETag><ChecksumSHA256>abc=</ChecksumSHA256></CopyObjectResult>')
    assert element_text(error, "CopyObjectResult", "ChecksumSHA256") == (False, None)
    assert element_text(result, "CopyObjectResult", "ChecksumSHA256") == (True, "abc=")
