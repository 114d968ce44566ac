"""The `migration` stack: moving the old platform's data in at a scale beyond one machine (R11, issue 14 C).

Opt-in: synthesized only for the environment whose config has a `[migration]` section, applied after that
environment's stack and destroyed after cutover. It holds AWS DMS Serverless (the old PostgreSQL into Aurora,
full load and change data capture, validated) and what an S3 Batch Operations copy job needs (its role and
its manifest/report bucket; the job is created by `directfanz-migrate s3 batch-job`).

It finds the environment's network by the names and tags the environment stack gives it (the VPC's Name tag,
the app subnets' Tier tag, the security groups' names): the one stack that looks resources up rather than
deriving them from config, because it attaches to resources another stack created
(docs/decisions/0027-migration-stack-dms-and-s3-batch-operations.md). Buckets and the content key's alias are
derived from the same names, as every stack does.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.data_aws_security_group import DataAwsSecurityGroup
from cdktf_cdktf_provider_aws.data_aws_subnets import DataAwsSubnets, DataAwsSubnetsFilter
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from constructs import Construct

from environments.config import PROJECT, EnvironmentConfig
from modules.database import DATABASE_NAME
from modules.dms import Dms, DmsConfig
from modules.kms_key import KmsKey, KmsKeyConfig
from modules.naming import BUCKET_LIMIT, Names
from modules.providers import Providers, ProvidersConfig
from modules.remote_state import StateStore, use_remote_state
from modules.s3_batch import S3Batch, S3BatchConfig
from stacks.base import PlatformStack
from stacks.tags import cost_tags

STACK_NAME = "migration"


class MigrationStack(PlatformStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig, state: StateStore) -> None:
        super().__init__(scope, STACK_NAME)
        migration = config.migration
        assert migration is not None  # main.py builds this stack only for the environment that has the section
        names = Names(PROJECT, config.name)
        use_remote_state(self, state, key=f"{STACK_NAME}/terraform.tfstate")
        Providers(self, "providers", ProvidersConfig(account_id=config.account_id, region=config.region,
                                                     replica_region=config.replica_region, tags=cost_tags(config)))

        # The environment's network, by the names and tags its stack gives it.
        vpc = DataAwsVpc(self, "vpc", tags={"Name": names("vpc")})
        app_subnets = DataAwsSubnets(self, "app_subnets", filter=[DataAwsSubnetsFilter(name="vpc-id", values=[vpc.id]),
                                                                  DataAwsSubnetsFilter(name="tag:Tier", values=["app"])])
        database_group = DataAwsSecurityGroup(self, "database_security_group", vpc_id=vpc.id, name=names("database"))
        endpoints_group = DataAwsSecurityGroup(self, "endpoints_security_group", vpc_id=vpc.id, name=names("endpoints"))

        key = KmsKey(self, "key", KmsKeyConfig(alias=names("migration"), account_id=config.account_id,
                                               description=f"{names.prefix}: migration secrets, DMS replication, batch manifests and reports"))
        dms = Dms(self, "dms", DmsConfig(
            names=names, account_id=config.account_id, region=config.region, vpc_id=vpc.id, subnet_ids=app_subnets.ids,
            database_security_group_id=database_group.id, endpoints_security_group_id=endpoints_group.id, kms_key_arn=key.arn,
            source_cidr=str(migration.source_cidr), source_port=migration.source_port, source_database=migration.source_database,
            target_database=DATABASE_NAME, min_capacity_units=migration.min_capacity_units,
            max_capacity_units=migration.max_capacity_units, multi_az=migration.multi_az,
            secret_recovery_window_days=config.security.secret_recovery_window_days,
        ))
        # Bucket names as modules/content_storage.py derives them (tests/test_migration_stack.py checks they agree).
        batch = S3Batch(self, "batch", S3BatchConfig(
            names=names, account_id=config.account_id, region=config.region, source_bucket=migration.source_bucket,
            source_kms_key_arn=migration.source_kms_key_arn,
            target_bucket=names("content", config.account_id, limit=BUCKET_LIMIT), target_kms_alias=f"alias/{names('content')}",
            kms_key_arn=key.arn, log_bucket=names("access-logs", config.account_id, limit=BUCKET_LIMIT),
        ))

        outputs = {
            "replication_config_arn": (dms.replication_config_arn, "the DMS Serverless replication: start it, watch it (runbook)"),
            "dms_source_secret_arn": (dms.source_secret_arn, "write the old PostgreSQL's username, password, host, port here"),
            "dms_target_secret_arn": (dms.target_secret_arn, "write Aurora's writer endpoint and the DMS user here"),
            "batch_role_arn": (batch.role_arn, "directfanz-migrate s3 batch-job --role-arn"),
            "batch_bucket": (batch.bucket_name, "directfanz-migrate s3 manifest --manifest-bucket"),
        }
        for name, (value, description) in outputs.items():
            TerraformOutput(self, name, value=value, description=description)
