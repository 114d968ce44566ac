"""PostgreSQL: Aurora PostgreSQL across zones, behind RDS Proxy (R2.1, R2.3-R2.7).

- Cluster: storage encrypted with the database key, 6 copies across 3 zones;
  one writer and `read_replicas` readers pinned to other zones (the failover
  targets), more readers added by Application Auto Scaling under read load.
- `rds.force_ssl = 1` in the cluster parameter group, slow-query, DDL and
  lock-wait logging in an instance parameter group on every instance (where
  AWS documents each: docs/decisions/0009); logs exported to a KMS-encrypted
  log group; enhanced monitoring and CloudWatch Database Insights on every
  instance.
- Master password generated, stored and rotated by RDS in Secrets Manager
  (never in Terraform); IAM database authentication on.
- RDS Proxy in the data subnets, TLS required: a read/write endpoint and a
  read-only endpoint (Aurora is the target type that has one).
- The app's own role and its DATABASE_URL secret (a postgresql:// URL) are
  written by the bootstrap step in docs/runbooks/data-bootstrap.md, so that no
  password ever enters the Terraform JSON or state (docs/decisions/0012).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_proxy import DbProxy, DbProxyAuth
from cdktf_cdktf_provider_aws.db_proxy_default_target_group import (
    DbProxyDefaultTargetGroup,
    DbProxyDefaultTargetGroupConnectionPoolConfig,
)
from cdktf_cdktf_provider_aws.db_proxy_endpoint import DbProxyEndpoint
from cdktf_cdktf_provider_aws.db_proxy_target import DbProxyTarget
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

from modules.autoscaling import track
from modules.context import StackContext
from modules.iam import policy_document, service_trust
from modules.instance_classes import default_max_connections
from modules.log_group import log_group

# The engine, its version at creation and parameter family, and RDS Proxy's engine family: what the preflight
# checks the region offers before the first apply, and what to change if it does not (docs/decisions/0009).
# AWS applies minor upgrades itself (auto_minor_version_upgrade): see ignore_changes below.
ENGINE = "aurora-postgresql"
ENGINE_VERSION = "18.3"
PARAMETER_FAMILY = "aurora-postgresql18"
PROXY_ENGINE_FAMILY = "POSTGRESQL"
DATABASE_NAME = "directfanz"
MASTER_USERNAME = "directfanz_admin"
APP_USERNAME = "directfanz_app"
# Statements slower than this are logged: ten times the 50 ms p95 target of R12.4.
SLOW_QUERY_MS = 500
# Cluster-level: TLS only. Instance-level (the DB parameter group of every instance): what each statement
# logs. AWS lists the logging parameters among the instance-level ones, rds.force_ssl only at cluster level.
CLUSTER_PARAMETERS = {"rds.force_ssl": "1"}
INSTANCE_PARAMETERS = {"log_min_duration_statement": str(SLOW_QUERY_MS), "log_statement": "ddl", "log_lock_waits": "1"}
MONITORING_INTERVAL_SECONDS = 15
# Database Insights: advanced mode needs 465 days of Performance Insights data; standard keeps the free 7.
INSIGHTS_RETENTION_DAYS = {"standard": 7, "advanced": 465}
READER_CPU_TARGET_PERCENT = 60
# RDS Proxy opens at most this share of max_connections; the rest stays for operators and migrations.
PROXY_MAX_CONNECTIONS_PERCENT = 90


@dataclass(frozen=True)
class DatabaseSizing:
    instance_class: str  # one of modules.instance_classes.AURORA_INSTANCE_MEMORY_GIB
    read_replicas: int  # readers kept at all times, each in another zone than the writer
    max_read_replicas: int  # the most readers autoscaling may run
    backup_retention_days: int
    insights_mode: Literal["standard", "advanced"]  # CloudWatch Database Insights


@dataclass(frozen=True)
class DatabaseConfig:
    sizing: DatabaseSizing
    zones: list[str]
    subnet_ids: list[str]
    security_group_id: str
    proxy_security_group_id: str
    secret_recovery_window_days: int  # docs/decisions/0005


class Database(Construct):
    """Exposes `proxy_endpoint`, `reader_endpoint`, `instance_identifier` (the writer at creation),
    `cluster_identifier`, `cluster_arn`, `subnet_group_name`, `max_connections` (per instance, for alarms),
    `master_secret_arn`, `app_credentials_secret_arn`, `database_url_secret_arn` and `port`."""

    def __init__(self, scope: Construct, id: str, config: DatabaseConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        names, sizing = context.names, config.sizing
        # Keys: the database's for storage, snapshots and Performance Insights; the secrets' for the master
        # secret and the app's secrets.
        storage_key, secrets_key, logs_key = (context.keys.database.arn, context.keys.secrets.arn,
                                              context.keys.logs.arn)
        cluster_identifier = names("database")
        self.port = 5432

        subnet_group = DbSubnetGroup(self, "subnet_group", name=names("database"), subnet_ids=config.subnet_ids,
                                     description="Aurora PostgreSQL: the isolated data subnets")
        self.subnet_group_name = subnet_group.name
        parameters = _parameter_group(self, "cluster_parameters", RdsClusterParameterGroup,
                                      RdsClusterParameterGroupParameter, name=names("database"),
                                      description="TLS only", values=CLUSTER_PARAMETERS)
        instance_parameters = _parameter_group(self, "instance_parameters", DbParameterGroup, DbParameterGroupParameter,
                                               name=names("database-instance"),
                                               description="Slow-query, DDL and lock-wait logging",
                                               values=INSTANCE_PARAMETERS)
        # RDS writes to this name; creating it first gives it our key and retention.
        log_group(self, "log_group", f"/aws/rds/cluster/{cluster_identifier}/postgresql", logs_key)

        self.cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=cluster_identifier,
            engine=ENGINE,
            engine_version=ENGINE_VERSION,
            database_name=DATABASE_NAME,
            master_username=MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=secrets_key,
            iam_database_authentication_enabled=True,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[config.security_group_id],
            db_cluster_parameter_group_name=parameters.name,
            storage_encrypted=True,
            kms_key_id=storage_key,
            backup_retention_period=sizing.backup_retention_days,
            preferred_backup_window="03:00-04:00",
            preferred_maintenance_window="sun:04:30-sun:05:30",
            copy_tags_to_snapshot=True,
            deletion_protection=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=names("database", "final"),
            enabled_cloudwatch_logs_exports=["postgresql"],
            database_insights_mode=sizing.insights_mode,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=storage_key,
            performance_insights_retention_period=INSIGHTS_RETENTION_DAYS[sizing.insights_mode],
            lifecycle=TerraformResourceLifecycle(
                prevent_destroy=True,
                # AWS moves minor versions forward; a major upgrade is a planned change (runbook), not a diff.
                ignore_changes=["engine_version"],
            ),
        )
        self.cluster_identifier = self.cluster.cluster_identifier
        self.cluster_arn = self.cluster.arn
        self.master_secret_arn = self.cluster.master_user_secret.get(0).secret_arn

        monitoring_role = IamRole(self, "monitoring_role", name=names("database-monitoring"),
                                  assume_role_policy=service_trust("monitoring.rds.amazonaws.com"))
        monitoring_attachment = IamRolePolicyAttachment(
            self, "monitoring_policy", role=monitoring_role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")

        # Instance 1 is the writer at creation; each reader sits in the next zone, so a failover
        # always has a target in another zone (Multi-AZ, R2.1).
        instances = [
            RdsClusterInstance(
                self,
                f"instance_{number}",
                identifier=names("database", str(number)),
                cluster_identifier=self.cluster.id,
                engine=ENGINE,
                instance_class=sizing.instance_class,
                availability_zone=config.zones[(number - 1) % len(config.zones)],
                promotion_tier=min(number - 1, 15),
                db_subnet_group_name=subnet_group.name,
                db_parameter_group_name=instance_parameters.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                ca_cert_identifier="rds-ca-rsa2048-g1",
                copy_tags_to_snapshot=True,
                monitoring_interval=MONITORING_INTERVAL_SECONDS,
                monitoring_role_arn=monitoring_role.arn,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=storage_key,
                performance_insights_retention_period=INSIGHTS_RETENTION_DAYS[sizing.insights_mode],
                depends_on=[monitoring_attachment],
            )
            for number in range(1, sizing.read_replicas + 2)
        ]
        self.instance_identifier = instances[0].identifier
        self.max_connections = default_max_connections(sizing.instance_class)

        # More readers under read load (R2.3): Aurora adds and removes them itself.
        readers = AppautoscalingTarget(
            self, "reader_scaling_target", service_namespace="rds", scalable_dimension="rds:cluster:ReadReplicaCount",
            resource_id=f"cluster:{cluster_identifier}", min_capacity=sizing.read_replicas,
            max_capacity=sizing.max_read_replicas, depends_on=instances,
        )
        track(self, "reader_scaling_policy", names("database-readers"), readers, "RDSReaderAverageCPUUtilization",
              READER_CPU_TARGET_PERCENT, scale_in_cooldown=300, scale_out_cooldown=300)

        # The app's credentials: the JSON the proxy reads, and the URL the app reads. Values are
        # written by the bootstrap step, never by Terraform.
        def secret(id: str, name: str, description: str) -> SecretsmanagerSecret:
            return SecretsmanagerSecret(self, id, name=names.path("database", name), description=description,
                                        kms_key_id=secrets_key,
                                        recovery_window_in_days=config.secret_recovery_window_days)

        app_credentials = secret("app_credentials", "app-credentials",
                                 f"{APP_USERNAME}'s username and password, read by RDS Proxy only")
        database_url = secret("database_url", "url",
                              "DATABASE_URL: postgresql://directfanz_app:...@<proxy>:5432/directfanz?sslmode=require")
        self.app_credentials_secret_arn = app_credentials.arn
        self.database_url_secret_arn = database_url.arn

        proxy_role = IamRole(self, "proxy_role", name=names("database-proxy"),
                             assume_role_policy=service_trust("rds.amazonaws.com"))
        IamRolePolicy(self, "proxy_policy", role=proxy_role.id, policy=policy_document([
            {
                "Sid": "ReadDatabaseCredentials",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": [self.master_secret_arn, app_credentials.arn],
            },
            {
                "Sid": "DecryptThroughSecretsManager",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": secrets_key,
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{context.region}.amazonaws.com"}},
            },
        ]))
        proxy_name = names("database")
        log_group(self, "proxy_log_group", f"/aws/rds/proxy/{proxy_name}", logs_key)
        proxy = DbProxy(
            self,
            "proxy",
            name=proxy_name,
            engine_family=PROXY_ENGINE_FAMILY,
            require_tls=True,
            role_arn=proxy_role.arn,
            vpc_subnet_ids=config.subnet_ids,
            vpc_security_group_ids=[config.proxy_security_group_id],
            idle_client_timeout=1800,
            auth=[
                # Operators and migration jobs: IAM tokens only, never the master password.
                DbProxyAuth(auth_scheme="SECRETS", secret_arn=self.master_secret_arn, iam_auth="REQUIRED",
                            client_password_auth_type="POSTGRES_SCRAM_SHA_256",
                            description="master user, IAM authentication required"),
                # The app (Prisma) sends a password from DATABASE_URL, over TLS.
                DbProxyAuth(auth_scheme="SECRETS", secret_arn=app_credentials.arn, iam_auth="DISABLED",
                            client_password_auth_type="POSTGRES_SCRAM_SHA_256",
                            description=f"{APP_USERNAME}, SCRAM password over TLS"),
            ],
        )
        DbProxyDefaultTargetGroup(
            self,
            "proxy_target_group",
            db_proxy_name=proxy.name,
            connection_pool_config=DbProxyDefaultTargetGroupConnectionPoolConfig(
                max_connections_percent=PROXY_MAX_CONNECTIONS_PERCENT,
                max_idle_connections_percent=50,
                connection_borrow_timeout=120,
                # Prisma sets session variables on connect; without this every session pins.
                session_pinning_filters=["EXCLUDE_VARIABLE_SETS"],
            ),
        )
        DbProxyTarget(self, "proxy_target", db_proxy_name=proxy.name, target_group_name="default",
                      db_cluster_identifier=self.cluster.cluster_identifier)
        reader = DbProxyEndpoint(
            self,
            "proxy_reader_endpoint",
            db_proxy_name=proxy.name,
            db_proxy_endpoint_name=names("database-read"),
            target_role="READ_ONLY",
            vpc_subnet_ids=config.subnet_ids,
            vpc_security_group_ids=[config.proxy_security_group_id],
        )
        self.proxy_endpoint = proxy.endpoint
        self.reader_endpoint = reader.endpoint


def _parameter_group(scope: Construct, id: str, group: type[Any], parameter: type[Any], *, name: str, description: str,
                     values: dict[str, str]) -> Any:
    """A parameter group of PARAMETER_FAMILY holding `values`: `group` and `parameter` are the cluster's or the
    instances' resource classes, which take the same arguments."""
    return group(scope, id, name=name, family=PARAMETER_FAMILY, description=description,
                 parameter=[parameter(name=key, value=value) for key, value in sorted(values.items())])
