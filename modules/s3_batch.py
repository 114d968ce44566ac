"""S3 Batch Operations for the content copy at scale: the bucket for job manifests and completion reports, and the
role the copy job runs as. The job itself has no Terraform resource: `directfanz-migrate s3 batch-job` creates
it from the manifest `s3 manifest` writes (migration/s3/batch.py).

The role reads the old platform's bucket, writes the environment's content bucket (whose key it reaches by alias:
the key's id belongs to the environment's stack), reads manifests and writes reports, nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.iam import Statement, policy_document, service_trust
from modules.naming import BUCKET_LIMIT, Names
from modules.secure_bucket import SecureBucket, SecureBucketConfig

MANIFESTS_PREFIX = "manifests/"  # where `s3 manifest` writes
REPORTS_PREFIX = "batch-reports/"  # where `s3 batch-job` asks for completion reports


@dataclass(frozen=True)
class S3BatchConfig:
    names: Names
    account_id: str
    region: str
    source_bucket: str
    source_kms_key_arn: str | None
    target_bucket: str
    target_kms_alias: str  # "alias/..." of the target bucket's key
    kms_key_arn: str  # the migration key: manifests and reports
    log_bucket: str


class S3Batch(Construct):
    """Exposes `role_arn` and `bucket_name`."""

    def __init__(self, scope: Construct, id: str, config: S3BatchConfig) -> None:
        super().__init__(scope, id)
        names = config.names
        bucket = SecureBucket(self, "bucket", SecureBucketConfig(
            name=names("migration-batch", config.account_id, limit=BUCKET_LIMIT), kms_key_arn=config.kms_key_arn,
            noncurrent_version_days=30, log_bucket=config.log_bucket))
        self.bucket_name = bucket.name
        role = IamRole(
            self, "role", name=names("migration-batch"),
            assume_role_policy=service_trust("batchoperations.s3.amazonaws.com",
                                             conditions={"StringEquals": {"aws:SourceAccount": config.account_id}}),
            description="S3 Batch Operations copies the old platform's content into the content bucket",
        )
        self.role_arn = role.arn
        source, target = f"arn:aws:s3:::{config.source_bucket}", f"arn:aws:s3:::{config.target_bucket}"
        statements: list[Statement] = [
            {"Sid": "ReadSourceObjects", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"],
             "Resource": f"{source}/*"},
            {"Sid": "WriteTargetObjects", "Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectTagging"],
             "Resource": f"{target}/*"},
            {"Sid": "ReadManifests", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
             "Resource": f"{bucket.arn}/{MANIFESTS_PREFIX}*"},
            {"Sid": "WriteReports", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{bucket.arn}/{REPORTS_PREFIX}*"},
            {"Sid": "UseMigrationKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": config.kms_key_arn},
            {"Sid": "UseContentKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": f"arn:aws:kms:{config.region}:{config.account_id}:key/*",
             "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": config.target_kms_alias}}},
        ]
        if config.source_kms_key_arn:
            statements.append({"Sid": "DecryptSourceObjects", "Effect": "Allow", "Action": "kms:Decrypt",
                               "Resource": config.source_kms_key_arn})
        IamRolePolicy(self, "policy", role=role.id, policy=policy_document(statements))
