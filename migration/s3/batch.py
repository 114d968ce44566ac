"""S3 Batch Operations for buckets too large for one machine: the job's CSV manifest, and the copy job itself.

Terraform has no resource for a Batch Operations job (hashicorp/terraform-provider-aws#46231, open), so the
`migration` stack creates the job's role and buckets and this module creates the job (`CreateJob`).

The job copies each listed object with `CopyObject` inside S3 (metadata directive COPY: the target's metadata
is the source's; `ChecksumAlgorithm=SHA256`: S3 computes each copy's SHA-256, which `s3 verify --quick`
compares afterwards). Batch Operations copies objects up to 5 GiB, latest versions only here (the order of a
key's versions is not kept by parallel tasks): larger objects are left out of the manifest and listed, for
`s3 copy --larger-than`; version histories are copied by `s3 copy --all-versions`."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from migration.s3.buckets import Bucket, ObjectVersion

BATCH_COPY_LIMIT = 5 * 1024**3  # bytes: the largest object the Copy operation copies
MANIFEST_FORMAT = "S3BatchOperations_CSV_20180820"
MANIFEST_FIELDS = ["Bucket", "Key"]
REPORT_FORMAT = "Report_CSV_20180820"
MANIFESTS_PREFIX = "manifests/"  # in the migration stack's batch bucket, where its role may read
REPORTS_PREFIX = "batch-reports/"  # and where it may write


@dataclass(frozen=True)
class BatchManifest:
    bucket: str
    key: str
    etag: str  # CreateJob names the manifest by its ETag, so a changed manifest is never read by the job
    objects: int
    bytes: int
    too_large: list[str]  # keys above BATCH_COPY_LIMIT, for `s3 copy --larger-than`


def manifest_csv(bucket: str, listing: list[ObjectVersion]) -> str:
    """One `bucket,key` row per object; the key URL-encoded (Batch Operations reads manifests URL-encoded)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    for version in listing:
        writer.writerow([bucket, quote(version.key, safe="/")])
    return text.getvalue()


def write_manifest(source: Bucket, into: Bucket, key: str) -> BatchManifest:
    """List the source (latest objects), and store the CSV manifest of those the Copy operation can copy."""
    source.check_access("source")
    into.check_access("manifest")
    listing = source.listing(versions=False)
    copied = [v for v in listing if v.size <= BATCH_COPY_LIMIT]
    response = into.client.put_object(Bucket=into.name, Key=key, Body=manifest_csv(source.name, copied).encode(),
                                      ContentType="text/csv", ChecksumAlgorithm="SHA256")
    return BatchManifest(into.name, key, response["ETag"].strip('"'), len(copied), sum(v.size for v in copied),
                         sorted(v.key for v in listing if v.size > BATCH_COPY_LIMIT))


def create_copy_job(s3control: Any, *, account_id: str, name: str, manifest: BatchManifest, target_bucket: str,
                    role_arn: str, report_bucket: str, priority: int = 10) -> str:
    """Create (or find again: the request token is derived from the name and the manifest's ETag) the copy job;
    returns its id. It starts without a confirmation step: this command is the confirmation."""
    response = s3control.create_job(
        AccountId=account_id,
        ConfirmationRequired=False,
        Operation={"S3PutObjectCopy": {"TargetResource": f"arn:aws:s3:::{target_bucket}", "MetadataDirective": "COPY",
                                       "ChecksumAlgorithm": "SHA256"}},
        Report={"Bucket": f"arn:aws:s3:::{report_bucket}", "Format": REPORT_FORMAT, "Enabled": True,
                "Prefix": f"{REPORTS_PREFIX}{name}", "ReportScope": "AllTasks"},
        ClientRequestToken=hashlib.sha256(f"{name}:{manifest.etag}".encode()).hexdigest()[:64],
        Manifest={"Spec": {"Format": MANIFEST_FORMAT, "Fields": MANIFEST_FIELDS},
                  "Location": {"ObjectArn": f"arn:aws:s3:::{manifest.bucket}/{manifest.key}", "ETag": manifest.etag}},
        Description=f"directfanz-migrate {name}: copy {manifest.objects} objects with SHA-256",
        Priority=priority,
        RoleArn=role_arn,
    )
    return str(response["JobId"])
