"""S3 Batch Operations: the CSV manifest the tool writes, the copy job it creates, and the top-up of the objects
a Batch Operations copy cannot take. moto 5.2.5 does not serve s3control's CreateJob: the request is checked
against the s3control service model by botocore's Stubber (parameter names, types and enum values)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from urllib.parse import quote, unquote

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from migration_helpers import cli
from test_s3_migration import PART, make_bucket

from migration import cli as migration_cli
from migration.s3 import batch
from migration.s3.batch import BatchManifest, create_copy_job
from migration.s3.buckets import Bucket
from migration.s3.verify import compare_buckets

AWKWARD_KEYS = ["users/u1/avatar.jpg", "docs/ünïcode name & spaces.pdf", "a+b=c?.txt", "videos/v1/master.mp4"]


@pytest.fixture
def s3(s3_server):
    return boto3.client("s3", endpoint_url=s3_server.endpoint, region_name="us-east-1")


@pytest.fixture
def source(s3) -> str:
    name = make_bucket(s3)
    for key in AWKWARD_KEYS:
        s3.put_object(Bucket=name, Key=key, Body=b"v" * (2 * PART if key.startswith("videos/") else 100))
    return name


@pytest.mark.requirement("R11.2")
def test_the_manifest_lists_every_object_the_copy_operation_can_take(s3_server, s3, source, tmp_path, monkeypatch):
    """A CSV manifest (format S3BatchOperations_CSV_20180820, fields Bucket, Key:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_JobManifestSpec.html) whose contents are
    URL-encoded (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html#specify-batchjob-manifest),
    named in the job by its ETag; objects above the Copy operation's 5 GB are left out and listed
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-copy-object.html: "Objects to be copied can
    be up to 5 GB in size"). Here the limit is lowered to 2 parts so that a test object is above it."""
    assert batch.BATCH_COPY_LIMIT == 5 * 1024**3
    monkeypatch.setattr(batch, "BATCH_COPY_LIMIT", PART)
    manifests = make_bucket(s3)
    assert migration_cli.main(["s3", "manifest", "m1", "--source-bucket", source, "--manifest-bucket", manifests, "--source-endpoint",
                               s3_server.endpoint, "--manifest-endpoint", s3_server.endpoint, "--workdir", str(tmp_path)]) == 0

    written = BatchManifest(**json.loads((tmp_path / "m1" / "batch-manifest.json").read_text()))
    stored = s3.get_object(Bucket=manifests, Key="manifests/m1.csv")
    assert stored["ETag"].strip('"') == written.etag
    rows = list(csv.reader(io.StringIO(stored["Body"].read().decode())))
    assert sorted(rows) == sorted([source, quote(key, safe="/")] for key in AWKWARD_KEYS if not key.startswith("videos/"))
    assert [key for _, key in rows if key.startswith("docs/")] == ["docs/%C3%BCn%C3%AFcode%20name%20%26%20spaces.pdf"]
    assert {unquote(key) for _, key in rows} | set(written.too_large) == set(AWKWARD_KEYS)
    assert (written.objects, written.too_large) == (3, ["videos/v1/master.mp4"])


@pytest.mark.requirement("R11.2")
def test_the_copy_job_copies_with_sha256_and_the_source_metadata():
    """CreateJob (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateJob.html) with the
    S3PutObjectCopy operation, ChecksumAlgorithm SHA256 (one of CRC32, CRC32C, SHA1, SHA256:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_S3CopyObjectOperation.html) and metadata
    directive COPY, a completion report for every task, the manifest named by ARN and ETag, and a request
    token derived from the copy's name and the manifest's ETag, so a repeated command finds the same job.
    Terraform has no resource for a job (hashicorp/terraform-provider-aws#46231), so the tool creates it."""
    client = botocore.session.get_session().create_client("s3control", region_name="us-east-1", aws_access_key_id="x",
                                                          aws_secret_access_key="x")
    manifest = BatchManifest("directfanz-prod-migration-batch", "manifests/content.csv", "0123abcd", 3, 300, [])
    expected = {
        "AccountId": "123456789012", "ConfirmationRequired": False, "Priority": 10,
        "Operation": {"S3PutObjectCopy": {"TargetResource": "arn:aws:s3:::directfanz-prod-content-123456789012",
                                          "MetadataDirective": "COPY", "ChecksumAlgorithm": "SHA256"}},
        "Report": {"Bucket": "arn:aws:s3:::directfanz-prod-migration-batch", "Format": "Report_CSV_20180820", "Enabled": True,
                   "Prefix": "batch-reports/content", "ReportScope": "AllTasks"},
        "ClientRequestToken": hashlib.sha256(b"content:0123abcd").hexdigest(),
        "Manifest": {"Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                     "Location": {"ObjectArn": "arn:aws:s3:::directfanz-prod-migration-batch/manifests/content.csv", "ETag": "0123abcd"}},
        "Description": "directfanz-migrate content: copy 3 objects with SHA-256",
        "RoleArn": "arn:aws:iam::123456789012:role/directfanz-prod-migration-batch",
    }
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_response("create_job", {"JobId": "job-1"}, expected)
            assert create_copy_job(client, account_id="123456789012", name="content", manifest=manifest,
                                   target_bucket="directfanz-prod-content-123456789012",
                                   role_arn="arn:aws:iam::123456789012:role/directfanz-prod-migration-batch",
                                   report_bucket="directfanz-prod-migration-batch") == "job-1"
        stub.assert_no_pending_responses()


@pytest.mark.requirement("R11.2")
def test_objects_too_large_for_batch_operations_are_copied_on_top(s3_server, s3, source, tmp_path):
    """After the job copied the others, `s3 copy --larger-than` copies only the objects above the limit into the
    same target, and refuses when the target already holds one of them without a manifest of its own."""
    target = make_bucket(s3)
    for key in AWKWARD_KEYS[:-1]:  # what the Batch Operations job copied
        s3.copy_object(Bucket=target, Key=key, CopySource={"Bucket": source, "Key": key}, ChecksumAlgorithm="SHA256")
    args = ["s3", "copy", "large", "--source-bucket", source, "--target-bucket", target, "--source-endpoint", s3_server.endpoint,
            "--target-endpoint", s3_server.endpoint, "--larger-than", str(PART), "--workdir", str(tmp_path)]
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    assert compare_buckets(Bucket(source, s3_server.endpoint), Bucket(target, s3_server.endpoint)).ok

    again = make_bucket(s3)
    s3.copy_object(Bucket=again, Key="videos/v1/master.mp4", CopySource={"Bucket": source, "Key": "videos/v1/master.mp4"})
    refused = cli(*args[:2], "again", *args[3:6], again, *args[7:])
    assert refused.returncode == 2 and "already holds 1 of the objects above" in refused.stderr, refused.stderr


def test_a_job_needs_its_manifest_first(tmp_path):
    done = cli("s3", "batch-job", "nothing", "--account-id", "123456789012", "--target-bucket", "t", "--role-arn", "arn:aws:iam::1:role/r",
               "--workdir", str(tmp_path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "run `s3 manifest nothing" in done.stderr, done.stderr
