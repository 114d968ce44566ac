"""Where Terraform state lives: one S3 bucket and one DynamoDB lock table per account.

`StateStore` names them (the `state` stack creates them); `use_remote_state`
points a stack's backend at them, each stack under its own key.
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
    def lock_table(self) -> str:
        return f"{self.project}-tfstate-locks"

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
        dynamodb_table=store.lock_table,
    )
    # Terraform 1.10+ locks with an S3 lock file; cdktf 0.21 has no field for it.
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    return backend
