"""The `state` stack: what every environment's Terraform state lives in.

Its own state lives in the bucket it creates (`state/terraform.tfstate`). On a
new account that bucket does not exist yet: `python -m tools.bootstrap` applies
the stack once on local state and then moves that state into the bucket
(README: "Bootstrap"). It holds a KMS key, the state bucket (versioned,
KMS-encrypted, TLS-only, `prevent_destroy`) and a bucket for its access logs.
Backends lock with S3 lock files in the state bucket. The DynamoDB lock table
earlier versions created is no longer declared: state that still holds it
drops it with `terraform state rm` before the next apply (README "Bootstrap",
docs/decisions/0022-s3-lock-files-not-a-dynamodb-table.md).
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from environments.config import PROJECT, EnvironmentConfig
from modules.iam import allow_s3_server_access_logs
from modules.kms_key import KmsKey, KmsKeyConfig
from modules.naming import Names
from modules.providers import Providers, ProvidersConfig
from modules.remote_state import StateStore, use_remote_state
from modules.secure_bucket import SecureBucket, SecureBucketConfig
from stacks.base import PlatformStack
from stacks.tags import cost_tags

STATE_KEY = "state/terraform.tfstate"  # the stack's own state, in the bucket it creates


class StateStack(PlatformStack):
    """Exposes `store`, the names the environment stacks' backends use."""

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, "state")
        self.store = StateStore(project=PROJECT, account_id=config.account_id, region=config.region)
        use_remote_state(self, self.store, key=STATE_KEY)
        names = Names(PROJECT, "state")
        Providers(
            self,
            "providers",
            ProvidersConfig(
                account_id=config.account_id,
                region=config.region,
                replica_region=config.replica_region,
                tags=cost_tags(config, environment="shared"),
            ),
        )
        key = KmsKey(
            self,
            "key",
            KmsKeyConfig(
                alias=self.store.kms_alias,
                description="Terraform state of every DirectFanz environment",
                account_id=config.account_id,
                prevent_destroy=True,
            ),
        )
        access_logs = SecureBucket(
            self,
            "access_logs",
            SecureBucketConfig(
                name=names("access-logs", config.account_id, limit=63),
                kms_key_arn=None,  # S3 server access logging delivers only to SSE-S3 buckets
                extra_policy_statements=[allow_s3_server_access_logs(names("access-logs", config.account_id, limit=63), config.account_id)],
            ),
        )
        bucket = SecureBucket(
            self,
            "bucket",
            SecureBucketConfig(
                name=self.store.bucket,
                kms_key_arn=key.arn,
                # State history is the undo of a bad apply: keep old versions a year.
                noncurrent_version_days=365,
                log_bucket=access_logs,
                prevent_destroy=True,
            ),
        )
        TerraformOutput(self, "state_bucket", value=bucket.name,
                        description="S3 bucket holding every stack's Terraform state (<stack>/terraform.tfstate)")
        TerraformOutput(self, "state_kms_key_arn", value=key.arn, description="KMS key encrypting the state bucket")
        TerraformOutput(self, "access_logs_bucket_name", value=access_logs.name,
                        description="S3 bucket receiving the state bucket's access logs")
