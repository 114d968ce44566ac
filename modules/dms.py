"""AWS DMS Serverless: the old platform's PostgreSQL into Aurora, full load then change data capture, validated
(R11.1 for a database too large or too busy for one machine's copy; docs/migration.md says when).

- Credentials: one secret per endpoint, encrypted with the migration key; the operator writes their values
  (`{"username", "password", "host", "port"}`: DMS takes host and port from the secret, and Aurora's
  RDS-managed master secret holds neither, so DMS gets its own user). DMS reads them through a role.
- Network: the replication runs in the environment's app subnets (they route to the internet through NAT,
  and to a VPN when one is attached) with its own security group: out to the source's address and port, to
  Aurora (whose group gets the matching rule) and to the VPC endpoints (Secrets Manager).
- The replication: `full-load-and-cdc`, tables created beforehand by the tool's schema phase
  (`TargetTablePrepMode` DO_NOTHING), full LOB mode (PostgreSQL text and jsonb are LOBs to DMS: nothing is
  truncated), row-level validation on. It is created stopped; the runbook starts it.
- Nothing is written to the source by DMS's options: DDL capture (event triggers and an audit table in the
  source) and the heartbeat table are off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.dms_endpoint import DmsEndpoint, DmsEndpointPostgresSettings
from cdktf_cdktf_provider_aws.dms_replication_config import DmsReplicationConfig, DmsReplicationConfigComputeConfig
from cdktf_cdktf_provider_aws.dms_replication_subnet_group import DmsReplicationSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.iam import policy_document, service_trust
from modules.naming import Names
from modules.security_groups import POSTGRES_PORT

# The role AWS DMS looks up by this exact name to manage its network interfaces; one per account.
DMS_VPC_ROLE = "dms-vpc-role"
DMS_VPC_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole"
TABLE_MAPPINGS = {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "public", "rule-action": "include",
                             "object-locator": {"schema-name": "public", "table-name": "%"}}]}
REPLICATION_SETTINGS = {
    "TargetMetadata": {"SupportLobs": True, "FullLobMode": True, "LobChunkSize": 64, "LimitedSizeLobMode": False},
    "FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"},
    "ValidationSettings": {"EnableValidation": True, "ValidationMode": "ROW_LEVEL", "ThreadCount": 5},
    "Logging": {"EnableLogging": True},
}


@dataclass(frozen=True)
class DmsConfig:
    names: Names
    account_id: str
    region: str
    vpc_id: str
    subnet_ids: list[str]
    database_security_group_id: str
    endpoints_security_group_id: str
    kms_key_arn: str  # the migration key: secrets, endpoints, the replication's storage
    source_cidr: str
    source_port: int
    source_database: str
    target_database: str
    min_capacity_units: int
    max_capacity_units: int
    multi_az: bool
    secret_recovery_window_days: int


class Dms(Construct):
    """Exposes `replication_config_arn`, `security_group_id`, `source_secret_arn` and `target_secret_arn`."""

    def __init__(self, scope: Construct, id: str, config: DmsConfig) -> None:
        super().__init__(scope, id)
        names = config.names

        def secret(side: str, what: str) -> SecretsmanagerSecret:
            return SecretsmanagerSecret(self, f"{side}_secret", name=names.path("migration", f"dms-{side}"),
                                        description=f"{what} for AWS DMS: JSON username, password, host, port (written by the operator)",
                                        kms_key_id=config.kms_key_arn, recovery_window_in_days=config.secret_recovery_window_days)

        source_secret = secret("source", "The old platform's PostgreSQL (a replication user)")
        target_secret = secret("target", "Aurora's writer endpoint and the DMS user")
        self.source_secret_arn, self.target_secret_arn = source_secret.arn, target_secret.arn

        vpc_role = IamRole(self, "vpc_role", name=DMS_VPC_ROLE, assume_role_policy=service_trust("dms.amazonaws.com"),
                           description="AWS DMS manages its network interfaces (the name AWS DMS requires; one per account)")
        vpc_policy = IamRolePolicyAttachment(self, "vpc_role_policy", role=vpc_role.name, policy_arn=DMS_VPC_POLICY)
        access_role = IamRole(
            self, "secrets_role", name=names("migration-dms-secrets"),
            assume_role_policy=service_trust(f"dms.{config.region}.amazonaws.com",
                                             conditions={"StringEquals": {"aws:SourceAccount": config.account_id}}),
            description="AWS DMS reads the endpoints' credentials",
        )
        IamRolePolicy(self, "secrets_policy", role=access_role.id, policy=policy_document([
            {"Sid": "ReadEndpointSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
             "Resource": [source_secret.arn, target_secret.arn]},
            {"Sid": "DecryptThroughSecretsManager", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": config.kms_key_arn,
             "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{config.region}.amazonaws.com"}}},
        ]))

        group = SecurityGroup(self, "security_group", name=names("migration-dms"), vpc_id=config.vpc_id,
                              description="AWS DMS replication: to the old PostgreSQL, Aurora and the VPC endpoints only",
                              tags={"Name": names("migration-dms")})
        self.security_group_id = group.id
        VpcSecurityGroupEgressRule(self, "to_source", security_group_id=group.id, ip_protocol="tcp", from_port=config.source_port,
                                   to_port=config.source_port, cidr_ipv4=config.source_cidr, description="PostgreSQL of the old platform")
        for peer, group_id, port, what in (("database", config.database_security_group_id, POSTGRES_PORT, "PostgreSQL"),
                                           ("endpoints", config.endpoints_security_group_id, 443, "HTTPS (Secrets Manager endpoint)")):
            VpcSecurityGroupEgressRule(self, f"to_{peer}", security_group_id=group.id, ip_protocol="tcp", from_port=port, to_port=port,
                                       referenced_security_group_id=group_id, description=f"{what} to the {peer}")
            VpcSecurityGroupIngressRule(self, f"{peer}_from_dms", security_group_id=group_id, ip_protocol="tcp", from_port=port,
                                        to_port=port, referenced_security_group_id=group.id, description=f"{what} from AWS DMS (migration)")

        subnets = DmsReplicationSubnetGroup(self, "subnet_group", replication_subnet_group_id=names("migration"),
                                            replication_subnet_group_description="AWS DMS Serverless: the app subnets",
                                            subnet_ids=config.subnet_ids, depends_on=[vpc_policy])

        def endpoint(side: str, engine: str, database: str, secret_arn: str) -> DmsEndpoint:
            return DmsEndpoint(
                self, f"{side}_endpoint", endpoint_id=names("migration", side), endpoint_type=side, engine_name=engine,
                database_name=database, ssl_mode="require", kms_key_arn=config.kms_key_arn, secrets_manager_arn=secret_arn,
                secrets_manager_access_role_arn=access_role.arn,
                postgres_settings=DmsEndpointPostgresSettings(capture_ddls=False, map_boolean_as_boolean=True,
                                                              fail_tasks_on_lob_truncation=True),
            )

        source = endpoint("source", "postgres", config.source_database, source_secret.arn)
        target = endpoint("target", "aurora-postgresql", config.target_database, target_secret.arn)
        replication = DmsReplicationConfig(
            self, "replication", replication_config_identifier=names("migration"), replication_type="full-load-and-cdc",
            source_endpoint_arn=source.endpoint_arn, target_endpoint_arn=target.endpoint_arn,
            table_mappings=json.dumps(TABLE_MAPPINGS, sort_keys=True), replication_settings=json.dumps(REPLICATION_SETTINGS, sort_keys=True),
            start_replication=False,
            compute_config=DmsReplicationConfigComputeConfig(
                replication_subnet_group_id=subnets.replication_subnet_group_id, vpc_security_group_ids=[group.id],
                kms_key_id=config.kms_key_arn, min_capacity_units=config.min_capacity_units,
                max_capacity_units=config.max_capacity_units, multi_az=config.multi_az,
                preferred_maintenance_window="sun:05:30-sun:06:30",
            ),
        )
        self.replication_config_arn = replication.arn
