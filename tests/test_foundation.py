"""The foundation: stacks, remote state, providers, naming, determinism, the checkov gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.naming import BUCKET_LIMIT, LOAD_BALANCER_LIMIT, Names
from stacks.tags import COST_ALLOCATION_TAG_KEYS
from tests.conftest import STACK_NAMES, synthesize
from tests.stack_json import StackJson
from tools.checkov_gate import GateResult, load_suppressions


def test_every_stack_is_synthesized(synth_dir: Path) -> None:
    for name in STACK_NAMES:
        assert (synth_dir / "stacks" / name / "cdk.tf.json").is_file()


def test_environment_state_is_remote_encrypted_and_locked(env: StackJson, stacks: dict[str, StackJson]) -> None:
    s3 = env.backend["s3"]
    state_bucket = stacks["state"].resource("aws_s3_bucket", "bucket_bucket")["bucket"]
    lock_table = stacks["state"].resource("aws_dynamodb_table", "lock_table")["name"]
    assert s3["bucket"] == state_bucket
    assert s3["key"] == f"{env.name}/terraform.tfstate"
    assert s3["encrypt"] is True
    assert s3["kms_key_id"] == "alias/directfanz-tfstate"
    assert s3["dynamodb_table"] == lock_table
    assert s3["use_lockfile"] is True


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


def test_lock_table_has_point_in_time_recovery_and_kms(stacks: dict[str, StackJson]) -> None:
    table = stacks["state"].resource("aws_dynamodb_table", "lock_table")
    assert table["hash_key"] == "LockID"
    assert table["point_in_time_recovery"]["enabled"] is True
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": "${aws_kms_key.key_key.arn}"}
    assert table["lifecycle"]["prevent_destroy"] is True
    key = stacks["state"].resource("aws_kms_key", "key_key")
    assert key["enable_key_rotation"] is True


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


def test_every_suppression_is_per_resource_with_a_reason() -> None:
    for check_id, entries in load_suppressions().items():
        assert check_id.startswith("CKV")
        for key, reason in entries.items():
            stack, address = key.split("/")
            assert stack == "*" or stack in STACK_NAMES, key
            assert address.startswith("aws_"), key
            assert len(reason) >= 20, key
