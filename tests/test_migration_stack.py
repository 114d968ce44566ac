"""The `migration` stack (issue 14 C): AWS DMS Serverless from the old PostgreSQL into Aurora, and what an S3
Batch Operations copy job needs, on the synthesized JSON. Checkov and the offline plan cover it with every
stack (tests/test_foundation.py, tests/test_terraform_plan.py)."""

from __future__ import annotations

import json
import typing

import pytest

from environments.config import ConfigError, DmsCapacityUnits, load_environments, read_raw
from migration.s3 import batch as batch_tool
from modules import s3_batch
from tests.stack_json import StackJson, ref
from tools.terraform_plan import moto_server, seed_lookups

SOURCE_SECRET, TARGET_SECRET = ref("aws_secretsmanager_secret", "dms_source_secret", "arn"), ref("aws_secretsmanager_secret", "dms_target_secret", "arn")
DMS_GROUP = ref("aws_security_group", "dms_security_group", "id")


@pytest.fixture
def migration(stacks: dict[str, StackJson]) -> StackJson:
    return stacks["migration"]


def policy(stack: StackJson, logical_id: str) -> list[dict]:
    return json.loads(stack.resource("aws_iam_role_policy", logical_id)["policy"])["Statement"]


def trust(stack: StackJson, logical_id: str) -> dict:
    return json.loads(stack.resource("aws_iam_role", logical_id)["assume_role_policy"])["Statement"][0]


@pytest.mark.requirement("R11.1")
def test_dms_serverless_runs_full_load_and_cdc_with_validation(migration: StackJson, configs) -> None:
    """A serverless replication config (https://docs.aws.amazon.com/dms/latest/APIReference/API_CreateReplicationConfig.html:
    ReplicationType full-load | cdc | full-load-and-cdc) with capacity in DMS capacity units, which take only
    1, 2, 4, 8, 16, 32, 64, 128, 192, 256 or 384 (https://docs.aws.amazon.com/dms/latest/APIReference/API_ComputeConfig.html);
    row-level data validation on (https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Validating.html); tables
    made beforehand by the tool's schema phase (DO_NOTHING); full LOB mode, since DMS treats PostgreSQL text
    and jsonb as LOBs and limited mode truncates them. Created stopped: the runbook starts it."""
    replication = migration.resource("aws_dms_replication_config", "dms_replication")
    sizing = configs["prod"].migration
    assert replication["replication_type"] == "full-load-and-cdc" and replication["start_replication"] is False
    settings = json.loads(replication["replication_settings"])
    assert settings["ValidationSettings"]["EnableValidation"] is True
    assert settings["FullLoadSettings"]["TargetTablePrepMode"] == "DO_NOTHING"
    assert settings["TargetMetadata"]["FullLobMode"] is True and settings["TargetMetadata"]["LimitedSizeLobMode"] is False
    assert json.loads(replication["table_mappings"])["rules"][0]["object-locator"] == {"schema-name": "public", "table-name": "%"}
    compute = replication["compute_config"]
    assert (compute["min_capacity_units"], compute["max_capacity_units"], compute["multi_az"]) == (
        sizing.min_capacity_units, sizing.max_capacity_units, sizing.multi_az)
    assert set(typing.get_args(DmsCapacityUnits)) == {1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384}
    assert compute["vpc_security_group_ids"] == [DMS_GROUP]
    assert compute["replication_subnet_group_id"] == ref("aws_dms_replication_subnet_group", "dms_subnet_group", "replication_subnet_group_id")
    assert compute["kms_key_id"] == ref("aws_kms_key", "key_key", "arn")
    assert replication["source_endpoint_arn"] == ref("aws_dms_endpoint", "dms_source_endpoint", "endpoint_arn")
    assert replication["target_endpoint_arn"] == ref("aws_dms_endpoint", "dms_target_endpoint", "endpoint_arn")


@pytest.mark.requirement("R11.1", "R6.3")
def test_endpoints_take_their_credentials_from_secrets_over_tls(migration: StackJson, configs) -> None:
    """Each endpoint names a secret and the role DMS reads it with, never a password
    (https://docs.aws.amazon.com/dms/latest/userguide/security_iam_secretsmanager.html). The secrets are this
    stack's, not Aurora's RDS-managed master secret: "You can't use master credentials managed by Amazon RDS
    Aurora. These credentials don't include host or port information, which AWS DMS needs" (same page). The
    role trusts the regional DMS principal of this account only. DDL capture is off: it would create an event
    trigger and a table in the source, which the migration never writes to."""
    endpoints = migration.resources("aws_dms_endpoint")
    for side, engine, secret, database in (("source", "postgres", SOURCE_SECRET, configs["prod"].migration.source_database),
                                           ("target", "aurora-postgresql", TARGET_SECRET, "directfanz")):
        endpoint = endpoints[f"dms_{side}_endpoint"]
        assert (endpoint["endpoint_type"], endpoint["engine_name"], endpoint["database_name"]) == (side, engine, database)
        assert endpoint["secrets_manager_arn"] == secret
        assert endpoint["secrets_manager_access_role_arn"] == ref("aws_iam_role", "dms_secrets_role", "arn")
        assert not {"username", "password", "server_name", "port"} & set(endpoint)
        assert endpoint["ssl_mode"] == "require" and endpoint["kms_key_arn"] == ref("aws_kms_key", "key_key", "arn")
        assert endpoint["postgres_settings"]["capture_ddls"] is False
    assert trust(migration, "dms_secrets_role")["Principal"] == {"Service": "dms.us-east-1.amazonaws.com"}
    assert trust(migration, "dms_secrets_role")["Condition"] == {"StringEquals": {"aws:SourceAccount": configs["prod"].account_id}}
    read, decrypt = policy(migration, "dms_secrets_policy")
    assert read["Resource"] == [SOURCE_SECRET, TARGET_SECRET]
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    for secret in migration.resources("aws_secretsmanager_secret").values():
        assert secret["kms_key_id"] == ref("aws_kms_key", "key_key", "arn")
    assert "master_user_secret" not in json.dumps(migration.document)


@pytest.mark.requirement("R11.1", "R6.6")
def test_dms_runs_in_the_environments_vpc_reaching_only_source_aurora_and_endpoints(migration: StackJson, stacks, configs) -> None:
    """A replication subnet group needs subnets in at least two zones, and AWS DMS needs the dms-vpc-role
    role to exist first (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-dms-replicationsubnetgroup.html).
    With credentials in Secrets Manager, a replication in private subnets reaches Secrets Manager through a
    VPC endpoint (https://docs.aws.amazon.com/dms/latest/userguide/CHAP_VPC_Endpoints.html): the environment
    has one, and the endpoints' group admits DMS. Out: the source's address and port, Aurora, the endpoints."""
    subnets = migration.resource("aws_dms_replication_subnet_group", "dms_subnet_group")
    assert subnets["subnet_ids"] == "${data.aws_subnets.app_subnets.ids}"
    assert subnets["depends_on"] == ["aws_iam_role_policy_attachment.dms_vpc_role_policy"]
    assert migration.resource("aws_iam_role", "dms_vpc_role")["name"] == "dms-vpc-role"
    assert migration.resource("aws_iam_role_policy_attachment", "dms_vpc_role_policy")["policy_arn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole")
    assert configs["prod"].availability_zones >= 2
    assert any(endpoint["service_name"].endswith(".secretsmanager") for endpoint in stacks["prod"].resources("aws_vpc_endpoint").values())

    source = configs["prod"].migration
    egress = {(rule["to_port"], rule.get("cidr_ipv4") or rule["referenced_security_group_id"])
              for rule in migration.resources("aws_vpc_security_group_egress_rule").values()}
    assert egress == {(source.source_port, str(source.source_cidr)), (5432, "${data.aws_security_group.database_security_group.id}"),
                      (443, "${data.aws_security_group.endpoints_security_group.id}")}
    ingress = {(rule["security_group_id"], rule["to_port"], rule["referenced_security_group_id"])
               for rule in migration.resources("aws_vpc_security_group_ingress_rule").values()}
    assert ingress == {("${data.aws_security_group.database_security_group.id}", 5432, DMS_GROUP),
                       ("${data.aws_security_group.endpoints_security_group.id}", 443, DMS_GROUP)}


def test_lookups_name_what_the_environment_stack_creates(migration: StackJson, stacks) -> None:
    """The stack finds the environment's VPC, app subnets and groups by the names and tags the environment's
    stack sets, and derives the content and log buckets and the content key's alias as that stack does."""
    prod = stacks["prod"]
    assert migration.data("aws_vpc")["vpc"]["tags"] == {"Name": prod.resource("aws_vpc", "network_vpc")["tags"]["Name"]}
    tiers = {subnet["tags"]["Tier"] for subnet in prod.resources("aws_subnet").values()}
    wanted = {entry["name"]: entry["values"] for entry in migration.data("aws_subnets")["app_subnets"]["filter"]}
    assert wanted["tag:Tier"] == ["app"] and "app" in tiers
    groups = {group["name"] for group in prod.resources("aws_security_group").values()}
    assert {lookup["name"] for lookup in migration.data("aws_security_group").values()} <= groups
    buckets = {bucket["bucket"] for bucket in prod.resources("aws_s3_bucket").values()}
    batch = policy(migration, "batch_policy")
    target = next(s for s in batch if s["Sid"] == "WriteTargetObjects")["Resource"].removeprefix("arn:aws:s3:::").removesuffix("/*")
    assert target in buckets and target == prod.resource("aws_s3_bucket", "storage_content_bucket")["bucket"]
    assert migration.resource("aws_s3_bucket_logging", "batch_bucket_logging")["target_bucket"] == (
        prod.resource("aws_s3_bucket", "storage_logs_bucket")["bucket"])
    content_alias = next(s for s in batch if s["Sid"] == "UseContentKey")["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"]
    assert content_alias == prod.resource("aws_kms_alias", "keys_content_alias")["name"]


@pytest.mark.requirement("R11.2")
def test_the_batch_operations_role_copies_source_to_content_and_nothing_else(migration: StackJson, configs) -> None:
    """The role S3 Batch Operations assumes (trust: batchoperations.s3.amazonaws.com,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html) reads the manifest
    and writes the report, reads source objects and writes target objects. The content key is reached by its
    alias (kms:ResourceAliases, https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html):
    its id belongs to the environment's stack. The job itself has no Terraform resource
    (hashicorp/terraform-provider-aws#46231, open): `directfanz-migrate s3 batch-job` creates it."""
    role = trust(migration, "batch_role")
    assert role["Principal"] == {"Service": "batchoperations.s3.amazonaws.com"}
    assert role["Condition"] == {"StringEquals": {"aws:SourceAccount": configs["prod"].account_id}}
    statements = {s["Sid"]: s for s in policy(migration, "batch_policy")}
    source = configs["prod"].migration.source_bucket
    assert statements["ReadSourceObjects"]["Resource"] == f"arn:aws:s3:::{source}/*"
    assert all(action.startswith("s3:Get") for action in statements["ReadSourceObjects"]["Action"])
    assert statements["WriteTargetObjects"]["Action"] == ["s3:PutObject", "s3:PutObjectTagging"]
    bucket = ref("aws_s3_bucket", "batch_bucket_bucket", "arn")
    assert statements["ReadManifests"]["Resource"] == f"{bucket}/{batch_tool.MANIFESTS_PREFIX}*"
    assert statements["WriteReports"]["Resource"] == f"{bucket}/{batch_tool.REPORTS_PREFIX}*"
    assert (s3_batch.MANIFESTS_PREFIX, s3_batch.REPORTS_PREFIX) == (batch_tool.MANIFESTS_PREFIX, batch_tool.REPORTS_PREFIX)
    assert not any(s["Resource"] == "*" for s in statements.values())
    assert not any("s3control_job" in resource_type for resource_type in migration.resource_types)
    encryption = migration.resource("aws_s3_bucket_server_side_encryption_configuration", "batch_bucket_encryption")["rule"][0]
    assert encryption["apply_server_side_encryption_by_default"]["kms_master_key_id"] == ref("aws_kms_key", "key_key", "arn")


def test_the_stack_is_state_managed_and_outputs_what_the_runbook_needs(migration: StackJson) -> None:
    assert migration.backend["s3"]["key"] == "migration/terraform.tfstate"
    assert set(migration.outputs) == {"replication_config_arn", "dms_source_secret_arn", "dms_target_secret_arn", "batch_role_arn",
                                      "batch_bucket"}


@pytest.mark.parametrize(("environment", "section", "expected"), [
    ("prod", {"max_capacity_units": 3}, "migration.max_capacity_units"),
    ("prod", {"min_capacity_units": 32}, "min_capacity_units (32) is above max_capacity_units (16)"),
    ("prod", {"source_cidr": "10.0.0.1/24"}, "is not an IPv4 network"),
    ("staging", {}, "environment 'prod': migration: only one environment is migrated into (staging already is)"),
])
def test_bad_migration_config_is_one_line(environment: str, section: dict, expected: str) -> None:
    raw = {name: read_raw(name) for name in ("dev", "staging", "prod")}
    raw[environment]["migration"] = {**raw["prod"]["migration"], **section}
    with pytest.raises(ConfigError) as error:
        load_environments(raw)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_the_offline_plan_finds_the_network_this_stack_looks_up(migration: StackJson, tmp_path) -> None:
    """tools/terraform_plan.py gives moto what the lookups ask for (the plan of this stack is in
    tests/test_terraform_plan.py); a second plan against the same server finds them and creates nothing."""
    with moto_server(tmp_path / "moto.log") as endpoint:
        assert len(seed_lookups(migration.document, endpoint)) == 1 + 2 + 2  # the VPC, two app subnets, two groups
        assert seed_lookups(migration.document, endpoint) == []
