"""The first deploy of one environment, with no hand step beyond AWS credentials.

    python main.py
    python -m tools.bootstrap <environment> [cdktf.out]

With credentials for the environment's account, in order:

1. `state`. Its own state lives in the bucket it creates; on a new account that
   bucket does not exist yet, so the first apply keeps state on local disk (a
   backend override beside the stack) and `terraform init -migrate-state` then
   moves it into the bucket. Later runs are a plain apply.
2. the environment. Its services start on the placeholder task definitions,
   healthy before any release (docs/decisions/0021).
3. `delivery`, the release pipeline.

Then one line per thing only a person can finish, `pending: <what>: <detail>`
(DNS delegation, e-mail confirmations, the GitHub handshake, secret values,
the first release), each read from the account, or `done: <what>`.

Every step is a Terraform apply, so running it again after a failure or a change
picks up where it stopped. tests/test_bootstrap.py rehearses it end to end
against a local AWS emulator (`rehearsal_workspace`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tools.terraform_apply import ApplyResult, apply_copy, apply_in
from tools.terraform_plan import StackCopy, TerraformFailed, Toolchain, diagnostics

STATE_STACK, DELIVERY_STACK = "state", "delivery"
# The first apply of `state`, before its bucket exists: the override (Terraform merges *_override.tf.json files
# over the configuration, a backend block replacing the backend) keeps its state in LOCAL_STATE meanwhile.
BOOTSTRAP_OVERRIDE = "bootstrap_override.tf.json"
LOCAL_STATE = "bootstrap.tfstate"
UNRELEASED = "unreleased"  # a release parameter's value until the first release (modules/ecs_service.py)
USAGE = "usage: python -m tools.bootstrap <environment> [cdktf.out]   (after `python main.py`)"


class Terraform(Protocol):
    """Runs terraform for each stack where it is applied; returns what it printed."""

    def directory(self, stack: str) -> Path: ...

    def __call__(self, stack: str, *arguments: str) -> str: ...

    def apply(self, stack: str, *init: str) -> None:
        """`terraform init` (with `init` arguments) and `terraform apply` of the stack."""


@dataclass
class InPlace:
    """The operator's run: each stack where `python main.py` wrote it, with the caller's credentials."""

    outdir: Path
    terraform: str = "terraform"

    def directory(self, stack: str) -> Path:
        return self.outdir / "stacks" / stack

    def __call__(self, stack: str, *arguments: str) -> str:
        completed = subprocess.run([self.terraform, *arguments, "-no-color"], cwd=self.directory(stack),
                                   env={**os.environ, "TF_IN_AUTOMATION": "1"}, capture_output=True, text=True,
                                   check=False)
        if completed.returncode != 0:
            raise TerraformFailed(f"{stack}: terraform {arguments[0]} failed:\n{diagnostics(completed)}")
        return completed.stdout

    def apply(self, stack: str, *init: str) -> None:
        self(stack, "init", "-input=false", *init)
        self(stack, "apply", "-auto-approve", "-input=false")


@dataclass
class Rehearsal:
    """Each stack from the apply rehearsal's copy (tools/terraform_apply.py), its S3 backend kept and sent to
    the emulator at `endpoint` with the provider's calls: the bootstrap's own steps run as they would in AWS."""

    outdir: Path
    toolchain: Toolchain
    endpoint: str
    workdir: Path
    copies: dict[str, StackCopy] = field(default_factory=dict)
    results: dict[str, ApplyResult] = field(default_factory=dict)  # each stack's rehearsal, as the last apply left it

    def _copy(self, stack: str) -> StackCopy:
        if stack not in self.copies:
            offline = {"endpoints": {"s3": self.endpoint, "sts": self.endpoint}, "use_path_style": True,
                       "access_key": "mock-access-key", "secret_key": "mock-secret-key",
                       "skip_credentials_validation": True, "skip_requesting_account_id": True,
                       "skip_metadata_api_check": True}

            def prepare(document: dict[str, Any], toolchain: Toolchain, state_path: Path) -> dict[str, Any]:
                rehearsed = apply_copy(document, toolchain, state_path, stack)
                rehearsed["terraform"]["backend"] = {"s3": {**document["terraform"]["backend"]["s3"], **offline}}
                return rehearsed

            self.copies[stack] = StackCopy.write(self.outdir, stack, self.toolchain, self.endpoint, self.workdir, prepare)
        return self.copies[stack]

    def directory(self, stack: str) -> Path:
        return self._copy(stack).directory

    def __call__(self, stack: str, *arguments: str) -> str:
        return self._copy(stack).terraform(*arguments).stdout

    def apply(self, stack: str, *init: str) -> None:
        """The apply rehearsal's apply (ordering probe, apply, refreshed plan): its result kept in `results`."""
        result = apply_in(self._copy(stack), _document(self.outdir, stack), init=init)
        self.results[stack] = result
        if result.errors:
            raise TerraformFailed(f"{stack}: terraform apply failed:\n"
                                  + "\n".join(f"{error.address}: {error.message}" for error in result.errors))


# -- the deploy --

def state_bucket(outdir: Path, environment: str) -> str:
    return str(_document(outdir, environment)["terraform"]["backend"]["s3"]["bucket"])


def _document(outdir: Path, stack: str) -> dict[str, Any]:
    return dict(json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text()))


def apply_state(terraform: Terraform, bucket_exists: bool) -> str:
    """Apply `state`; on a new account, first on local state, then moved into the bucket it created."""
    directory = terraform.directory(STATE_STACK)
    local_state = directory / LOCAL_STATE
    if bucket_exists and not local_state.exists():
        terraform.apply(STATE_STACK)
        return "state: applied"
    override = directory / BOOTSTRAP_OVERRIDE
    override.write_text(json.dumps({"terraform": {"backend": {"local": {"path": LOCAL_STATE}}}}))
    try:
        # An earlier run that stopped before the move left its local state: applying it again is harmless.
        terraform.apply(STATE_STACK, "-reconfigure")
    finally:
        override.unlink()
    terraform(STATE_STACK, "init", "-input=false", "-migrate-state", "-force-copy")
    applied = json.loads(local_state.read_text())["resources"]
    moved = terraform(STATE_STACK, "state", "list").split()
    if len(moved) != sum(1 for resource in applied if resource["mode"] == "managed"):
        raise TerraformFailed(f"state: the state moved into the bucket lists {len(moved)} resources; "
                              f"{local_state} is kept, run the bootstrap again")
    local_state.unlink()
    return "state: applied on local state, then moved into its bucket"


def deploy(terraform: Terraform, environment: str, bucket_exists: bool) -> Iterator[str]:
    """Apply state, the environment and delivery in turn; yields a line per stack applied."""
    yield apply_state(terraform, bucket_exists)
    for stack in (environment, DELIVERY_STACK):
        terraform.apply(stack)
        yield f"{stack}: applied"


# -- what only a person can finish --

@dataclass(frozen=True)
class Pending:
    what: str
    detail: str
    done: bool = False

    @property
    def line(self) -> str:
        return f"{'done' if self.done else 'pending'}: {self.what}: {self.detail}"


def outputs(terraform: Terraform, stack: str) -> dict[str, Any]:
    return {name: body["value"] for name, body in json.loads(terraform(stack, "output", "-json")).items()}


def _resources(document: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return list(document.get("resource", {}).get(resource_type, {}).values())


def what_is_pending(terraform: Terraform, outdir: Path, environment: str,
                    client: Callable[[str], Any]) -> list[Pending]:
    """Read from the account what is left for a person after the applies; `client(service)` is a boto3 client."""
    environment_outputs, delivery_outputs = outputs(terraform, environment), outputs(terraform, DELIVERY_STACK)
    document = _document(outdir, environment)
    return [
        _delegation(environment_outputs),
        *(_confirmations(client("sns"), name, arn) for name, arn in (
            ("alert e-mails", environment_outputs["alerts_topic_arn"]),
            ("approval e-mails", delivery_outputs["approvals_topic_arn"]))),
        _handshake(client("codestar-connections"), delivery_outputs["github_connection_arn"]),
        _secret_values(client("secretsmanager"), document),
        _first_release(client("ssm"), document),
    ]


def _delegation(environment_outputs: dict[str, Any]) -> Pending:
    servers = " ".join(environment_outputs["dns_name_servers"])
    return Pending("DNS delegation", f"NS records at the parent zone for zone {environment_outputs['dns_zone_id']}: "
                                     f"{servers}; then the DS record (docs/dns-delegation.md; "
                                     "`python -m tools.preflight` checks it)")


def _confirmations(sns: Any, what: str, topic_arn: str) -> Pending:
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    waiting = [s["Endpoint"] for s in subscriptions if s["SubscriptionArn"] == "PendingConfirmation"]
    if waiting:
        return Pending(what, f"{len(waiting)} of {len(subscriptions)} await the link AWS mailed: {', '.join(waiting)}")
    return Pending(what, f"{len(subscriptions)} confirmed", done=True)


def _handshake(connections: Any, connection_arn: str) -> Pending:
    try:
        status = connections.get_connection(ConnectionArn=connection_arn)["Connection"]["ConnectionStatus"]
    except (ClientError, BotoCoreError) as error:
        status = f"unknown ({type(error).__name__})"
    if status == "AVAILABLE":
        return Pending("GitHub connection", connection_arn, done=True)
    return Pending("GitHub connection", f"{connection_arn} is {status}: complete the handshake in the console "
                                        "(README, \"Delivery\")")


def _secret_values(secrets: Any, document: dict[str, Any]) -> Pending:
    """Secrets that exist but hold no value yet (Terraform never writes one: decisions 0005 and 0012)."""
    empty, secrets_of_stack = [], _resources(document, "aws_secretsmanager_secret")
    prefix = os.path.commonpath([body["name"] for body in secrets_of_stack]) + "/"
    for body in secrets_of_stack:
        described = secrets.describe_secret(SecretId=body["name"])
        if not described.get("VersionIdsToStages"):
            empty.append(body["name"].removeprefix(prefix))
    if not empty:
        return Pending("secret values", "every secret holds a value", done=True)
    return Pending("secret values", f"{', '.join(sorted(empty))} under {prefix} have none: database/url and "
                                    "cache/url by the data bootstrap (docs/runbooks/data-bootstrap.md), the rest as docs/secrets.md says")


def _first_release(ssm: Any, document: dict[str, Any]) -> Pending:
    parameters = [body["name"] for body in _resources(document, "aws_ssm_parameter") if "/release/" in body["name"]]
    unreleased = [name.rsplit("/", 1)[-1] for name in parameters
                  if ssm.get_parameter(Name=name)["Parameter"]["Value"] == UNRELEASED]
    if not unreleased:
        return Pending("first release", "every service runs a release", done=True)
    return Pending("first release", f"{', '.join(unreleased)} run the placeholder until the first release "
                                    "(after the secret values): push to the release branch (decision 0021)")


def bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchBucket"):
            return False
        raise
    return True


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    environment, outdir = argv[0], Path(argv[1] if len(argv) > 1 else "cdktf.out")
    if not (outdir / "stacks" / environment / "cdk.tf.json").exists():
        print(f"no synthesized stack {environment} in {outdir}/stacks: run `python main.py` first", file=sys.stderr)
        return 2
    terraform_binary = shutil.which("terraform")
    if terraform_binary is None:
        print("terraform is not on the PATH", file=sys.stderr)
        return 2
    region = str(_document(outdir, environment)["terraform"]["backend"]["s3"]["region"])
    session = boto3.Session(region_name=region)
    try:
        for line in deploy(InPlace(outdir, terraform_binary), environment,
                           bucket_exists(session.client("s3"), state_bucket(outdir, environment))):
            print(line, flush=True)
        for pending in what_is_pending(InPlace(outdir, terraform_binary), outdir, environment, session.client):
            print(pending.line)
    except TerraformFailed as failed:
        print(failed, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
