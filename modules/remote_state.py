"""Where Terraform state lives: one S3 bucket per account, locked by S3 lock files.

`StateStore` names the bucket and its KMS key alias (the `state` stack creates them);
`use_remote_state` points a stack's backend at them, each stack under its own
key. Locking is the S3 backend's lock file (`<key>.tflock`, Terraform 1.10+):
DynamoDB locking is deprecated in the S3 backend, so no lock table is named
(docs/decisions/0022-s3-lock-files-not-a-dynamodb-table.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import S3Backend, TerraformStack


@dataclass(frozen=True)
class StateStore:
    project: str
    account_id: str
    region: str

    @property
    def bucket(self) -> str:
        return f"{self.project}-tfstate-{self.account_id}-{self.region}"

    @property
    def kms_alias(self) -> str:
        return f"{self.project}-tfstate"


def use_remote_state(stack: TerraformStack, store: StateStore, key: str) -> S3Backend:
    backend = S3Backend(
        stack,
        bucket=store.bucket,
        key=key,
        region=store.region,
        encrypt=True,
        kms_key_id=f"alias/{store.kms_alias}",
    )
    # cdktf 0.21 has no field for the lock file. A Terraform older than 1.10 does not know the
    # argument and stops at `init`, rather than running unlocked.
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    return backend
