"""The foundation: stacks, remote state, providers, naming, determinism, the checkov gate."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import boto3
import pytest

from modules.naming import BUCKET_LIMIT, LOAD_BALANCER_LIMIT, Names
from stacks.tags import COST_ALLOCATION_TAG_KEYS
from tests.conftest import STACK_NAMES, synthesize
from tests.stack_json import StackJson
from tools.checkov_gate import GateResult, load_suppressions
from tools.terraform_plan import ToolchainMissing, _environment, find_toolchain, moto_server, plan_copy


def test_every_stack_is_synthesized(synth_dir: Path) -> None:
    for name in STACK_NAMES:
        assert (synth_dir / "stacks" / name / "cdk.tf.json").is_file()


def test_environment_state_is_remote_encrypted_and_locked_by_s3_lock_files(env: StackJson, stacks: dict[str, StackJson]) -> None:
    """Every environment's backend locks with S3 lock files alone, never a DynamoDB table.

    Terraform S3 backend, "State Locking": "DynamoDB-based locking is deprecated and will be removed
    in a future minor version"; `use_lockfile = true` enables S3 locking (Terraform 1.10+), writing
    `<key>.tflock` beside the state, which needs s3:GetObject, PutObject and DeleteObject on that key.
    https://developer.hashicorp.com/terraform/language/backend/s3
    """
    s3 = env.backend["s3"]
    state_bucket = stacks["state"].resource("aws_s3_bucket", "bucket_bucket")["bucket"]
    assert s3["bucket"] == state_bucket
    assert s3["key"] == f"{env.name}/terraform.tfstate"
    assert s3["encrypt"] is True
    assert s3["kms_key_id"] == "alias/directfanz-tfstate"
    assert s3["use_lockfile"] is True
    assert not {"dynamodb_table", "dynamodb_endpoint"} & set(s3)
    assert stacks["delivery"].backend["s3"]["use_lockfile"] is True
    assert "dynamodb_table" not in stacks["delivery"].backend["s3"]


def test_state_bucket_is_versioned_encrypted_private_tls_only_and_kept(stacks: dict[str, StackJson]) -> None:
    state = stacks["state"]
    bucket = state.resource("aws_s3_bucket", "bucket_bucket")
    assert bucket["lifecycle"]["prevent_destroy"] is True
    versioning = state.resource("aws_s3_bucket_versioning", "bucket_versioning")
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    rule = state.resource("aws_s3_bucket_server_side_encryption_configuration", "bucket_encryption")["rule"][0]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    assert rule["apply_server_side_encryption_by_default"]["kms_master_key_id"] == "${aws_kms_key.key_key.arn}"
    block = state.resource("aws_s3_bucket_public_access_block", "bucket_public_access_block")
    assert all(block[flag] is True for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    import json

    policy = json.loads(state.resource("aws_s3_bucket_policy", "bucket_policy")["policy"])
    deny = next(s for s in policy["Statement"] if s.get("Sid") == "DenyInsecureTransport")
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_state_key_rotates_and_no_stack_creates_a_lock_table(stacks: dict[str, StackJson]) -> None:
    assert stacks["state"].resource("aws_kms_key", "key_key")["enable_key_rotation"] is True
    for stack in stacks.values():
        assert not stack.resources("aws_dynamodb_table"), stack.name
    assert "lock_table_name" not in stacks["state"].outputs


# The lock table as earlier versions of the `state` stack declared it (deletion protection, prevent_destroy).
RETIRED_LOCK_TABLE = "aws_dynamodb_table.lock_table"
_RETIRED_TABLE_BODY = {
    "name": "directfanz-tfstate-locks", "billing_mode": "PAY_PER_REQUEST", "hash_key": "LockID",
    "attribute": [{"name": "LockID", "type": "S"}], "deletion_protection_enabled": True,
    "lifecycle": {"prevent_destroy": True},
}


def test_existing_state_drops_the_lock_table_with_state_rm_and_the_table_survives(
    stacks: dict[str, StackJson], tmp_path: Path
) -> None:
    """Rehearsed with Terraform against moto: the old table in state, then today's `state` stack without it.

    Terraform, "Remove a resource from state": `prevent_destroy` "doesn't prevent Terraform from destroying the
    resource if you remove the resource configuration"; `terraform state rm` removes it from state without
    destroying it. So without the README's `state rm` step the plan destroys the table (its deletion protection
    would then fail the apply); with it, nothing changes and the table stays for the operator (decision 0022).
    https://developer.hashicorp.com/terraform/language/state/remove
    https://developer.hashicorp.com/terraform/cli/commands/state/rm
    """
    try:
        toolchain = find_toolchain()
    except ToolchainMissing as missing:
        pytest.skip(f"terraform rehearsal: {missing}")
    state = stacks["state"].document
    assert "removed" not in state  # checkov's terraform_json parser cannot read a `removed` block (decision 0022)
    skeleton = plan_copy({"terraform": state["terraform"], "provider": state["provider"]}, toolchain,
                         tmp_path / "terraform.tfstate")
    config = tmp_path / "cdk.tf.json"
    with moto_server(tmp_path / "moto.log") as endpoint:
        environment = _environment(toolchain, tmp_path, endpoint)

        def terraform(*arguments: str) -> str:
            completed = subprocess.run(["terraform", *arguments, "-no-color"], cwd=tmp_path, env=environment,
                                       capture_output=True, text=True, timeout=600, check=False)
            assert completed.returncode == 0, completed.stderr + completed.stdout
            return completed.stdout

        def planned_actions() -> list[tuple[str, list[str]]]:
            terraform("plan", "-input=false", "-lock=false", "-out=plan.tfplan")
            changes = json.loads(terraform("show", "-json", "plan.tfplan")).get("resource_changes", [])
            return [(change["address"], change["change"]["actions"]) for change in changes
                    if change["change"]["actions"] != ["no-op"]]

        config.write_text(json.dumps({**skeleton, "resource": {"aws_dynamodb_table": {"lock_table": _RETIRED_TABLE_BODY}}}))
        terraform("init", "-input=false")
        terraform("apply", "-auto-approve", "-input=false", "-lock=false")
        config.write_text(json.dumps(skeleton))  # today's stack declares no table
        assert planned_actions() == [(RETIRED_LOCK_TABLE, ["delete"])]  # what the step prevents
        terraform("state", "rm", RETIRED_LOCK_TABLE)
        assert planned_actions() == []
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=skeleton["provider"]["aws"][0]["region"],
                                aws_access_key_id="mock-access-key", aws_secret_access_key="mock-secret-key")
        assert dynamodb.describe_table(TableName=_RETIRED_TABLE_BODY["name"])["Table"]["TableStatus"] == "ACTIVE"


def test_existing_backend_moves_to_lock_files_with_init_reconfigure(stacks: dict[str, StackJson], tmp_path: Path) -> None:
    """The README's step for state from an earlier version, rehearsed on dev's backend against moto.

    A changed backend block stops `terraform init` ("Backend configuration changed"); `init -reconfigure`
    stores the new configuration "with no changes to the state", and the state stays where it was.
    https://developer.hashicorp.com/terraform/cli/commands/init
    https://developer.hashicorp.com/terraform/language/backend/s3
    """
    try:
        toolchain = find_toolchain()
    except ToolchainMissing as missing:
        pytest.skip(f"terraform rehearsal: {missing}")
    backend = stacks["dev"].backend["s3"]
    with moto_server(tmp_path / "moto.log") as endpoint:
        environment = {**_environment(toolchain, tmp_path, endpoint),
                       "AWS_ACCESS_KEY_ID": "mock-access-key", "AWS_SECRET_ACCESS_KEY": "mock-secret-key"}
        aws = {"endpoint_url": endpoint, "region_name": backend["region"],
               "aws_access_key_id": "mock-access-key", "aws_secret_access_key": "mock-secret-key"}
        boto3.client("s3", **aws).create_bucket(Bucket=backend["bucket"])
        kms = boto3.client("kms", **aws)
        kms.create_alias(AliasName=backend["kms_key_id"], TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        boto3.client("dynamodb", **aws).create_table(
            TableName=_RETIRED_TABLE_BODY["name"], BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}])

        def configure(**locking: object) -> None:
            offline = {"use_path_style": True, "skip_credentials_validation": True, "skip_requesting_account_id": True,
                       "skip_metadata_api_check": True, "endpoints": {"s3": endpoint, "dynamodb": endpoint}}
            settings = {key: value for key, value in backend.items() if key != "use_lockfile"}
            (tmp_path / "main.tf.json").write_text(json.dumps({
                "terraform": {"backend": {"s3": {**settings, **offline, **locking}}},
                "resource": {"terraform_data": {"marker": {"input": "kept"}}},
            }))

        def terraform(*arguments: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["terraform", *arguments, "-no-color", "-input=false"], cwd=tmp_path, env=environment,
                                  capture_output=True, text=True, timeout=600, check=False)

        configure(dynamodb_table=_RETIRED_TABLE_BODY["name"])  # an earlier version's backend
        assert terraform("init").returncode == 0
        assert terraform("apply", "-auto-approve").returncode == 0
        configure(use_lockfile=backend["use_lockfile"])  # today's
        refused = terraform("init")
        assert refused.returncode == 1 and "Backend configuration changed" in refused.stderr
        assert terraform("init", "-reconfigure").returncode == 0
        plan = terraform("plan", "-detailed-exitcode")
        assert plan.returncode == 0 and "No changes." in plan.stdout, plan.stderr + plan.stdout
        objects = boto3.client("s3", **aws).list_objects_v2(Bucket=backend["bucket"])["Contents"]
        assert [entry["Key"] for entry in objects] == [backend["key"]]  # the lock file is gone after the run


@pytest.mark.requirement("R10.7")
def test_providers_tag_everything_for_cost_allocation(env: StackJson, configs) -> None:
    config = configs[env.name]
    by_alias = {provider.get("alias"): provider for provider in env.providers}
    assert set(by_alias) == {None, "replica", "us_east_1"}
    assert by_alias[None]["region"] == config.region
    assert by_alias["replica"]["region"] == config.replica_region
    assert by_alias["us_east_1"]["region"] == "us-east-1"
    for provider in by_alias.values():
        assert provider["allowed_account_ids"] == [config.account_id]
        tags = provider["default_tags"][0]["tags"]
        assert set(COST_ALLOCATION_TAG_KEYS) <= set(tags)
        assert tags["Environment"] == env.name and tags["Project"] == "directfanz"
        assert tags["CostCenter"] == config.cost_center and tags["Owner"] == config.owner


def test_two_synths_are_byte_identical(synth_dir: Path, tmp_path: Path) -> None:
    second = synthesize(tmp_path / "second")
    for name in STACK_NAMES:
        first_bytes = (synth_dir / "stacks" / name / "cdk.tf.json").read_bytes()
        assert first_bytes == (second / "stacks" / name / "cdk.tf.json").read_bytes(), name


def test_physical_names_are_scoped_and_fit_aws_limits() -> None:
    prod, dev = Names("directfanz", "prod"), Names("directfanz", "dev")
    assert prod("web") != dev("web")
    long_name = prod("websocket", "blue", "target", "group", limit=LOAD_BALANCER_LIMIT)
    assert len(long_name) <= LOAD_BALANCER_LIMIT and long_name.startswith("directfanz-prod-")
    assert long_name != prod("websocket", "green", "target", "group", limit=LOAD_BALANCER_LIMIT)
    assert len(prod("content", "x" * 80, limit=BUCKET_LIMIT)) == BUCKET_LIMIT
    assert prod.path("database") == "/directfanz/prod/database"


def test_no_two_environments_share_a_physical_name(stacks: dict[str, StackJson]) -> None:
    seen: dict[tuple[str, ...], str] = {}
    for stack in stacks.values():
        for resource_type, _logical_id, body in stack.all_resources():
            for attribute in ("name", "bucket", "function_name", "cluster_identifier", "identifier", "replication_group_id"):
                value = body.get(attribute)
                if isinstance(value, str) and "${" not in value:
                    # A DNS record is one name, type and routing set identifier (A and AAAA share the name).
                    key = (resource_type, value, *([body["type"], body.get("set_identifier", "")]
                                                   if resource_type == "aws_route53_record" else []))
                    assert key not in seen, f"{resource_type} {value!r} in {seen.get(key)} and {stack.name}"
                    seen[key] = stack.name


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_checkov_reports_no_failed_check(stack_name: str, checkov_result: GateResult) -> None:
    failed = [str(finding) for finding in checkov_result.failed if finding.stack == stack_name]
    assert failed == []
    # A stack checkov cannot parse reports no finding at all (a `removed` block did that to `state`).
    assert checkov_result.passed_by_stack.get(stack_name, 0) > 0, f"checkov scanned nothing in {stack_name}"


def test_every_suppression_is_per_resource_with_a_reason() -> None:
    for check_id, entries in load_suppressions().items():
        assert check_id.startswith("CKV")
        for key, reason in entries.items():
            stack, address = key.split("/")
            assert stack == "*" or stack in STACK_NAMES, key
            assert address.startswith("aws_"), key
            assert len(reason) >= 20, key
