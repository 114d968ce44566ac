"""The deploy rehearsal both tests/test_bootstrap.py and tests/test_terraform_apply.py read.

One fresh moto server stands in for a new AWS account; `python -m tools.bootstrap`'s
steps apply `state`, dev and `delivery` there in order, each through the apply
rehearsal (stand-ins, ordering probe, refreshed plan; tools/terraform_apply.py)
with its S3 backend in the same emulator. Applied once per session.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from tools.bootstrap import Rehearsal, bucket_exists, deploy, state_bucket
from tools.terraform_apply import MOTO_SETTINGS, account_of
from tools.terraform_plan import TerraformFailed, Toolchain, moto_server

ENVIRONMENT = "dev"


@dataclass
class Account:
    """The emulated account: its endpoint, a boto3 client per service, the bootstrap's terraform and what it did."""

    endpoint: str
    region: str
    terraform: Rehearsal
    lines: list[str] = field(default_factory=list)  # what the deploy printed
    failure: TerraformFailed | None = None  # why it stopped, if it did

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id="mock-access-key", aws_secret_access_key="mock-secret-key")


def bootstrap_rehearsal(outdir: Path, toolchain: Toolchain, workdir: Path) -> Iterator[Account]:
    """dev bootstrapped on a fresh emulator; the emulator runs until the generator is closed."""
    document = json.loads((outdir / "stacks" / ENVIRONMENT / "cdk.tf.json").read_text())
    settings = {**MOTO_SETTINGS, "MOTO_ACCOUNT_ID": account_of(document)}
    with moto_server(workdir / "moto.log", settings) as endpoint:
        account = Account(endpoint, document["terraform"]["backend"]["s3"]["region"],
                          Rehearsal(outdir, toolchain, endpoint, workdir))
        exists = bucket_exists(account.client("s3"), state_bucket(outdir, ENVIRONMENT))
        assert not exists, "a fresh emulator is a new account: no state bucket yet"
        try:
            account.lines.extend(deploy(account.terraform, ENVIRONMENT, exists))
        except TerraformFailed as failed:
            account.failure = failed
        yield account
