"""Resource types that hold data, and the arguments whose change replaces them.

The maintained list behind the change review (`tools.views.diff`). A stateful
resource is one whose replacement or destruction loses data, history or an
identity others depend on. Replacing arguments are those marked "Forces new
resource" in the hashicorp/aws documentation (registry.terraform.io/providers/
hashicorp/aws/6.25.0/docs/resources/<type>) and `ForceNew: true` in the
provider's schema (internal/service/<service>/<file>.go); checked 2026-11-25
against provider 6.25.0. Keep it short and add a type when a tier adds one.
"""

from __future__ import annotations

from dataclasses import dataclass

PROVIDER_DOCS = "https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/"


@dataclass(frozen=True)
class Stateful:
    holds: str  # what is lost when it is replaced or destroyed
    replaced_by: frozenset[str]  # top-level arguments that force a new resource
    source: str  # the provider source file that declares them


def _stateful(holds: str, source: str, *replaced_by: str) -> Stateful:
    return Stateful(holds, frozenset(replaced_by), source)


STATEFUL: dict[str, Stateful] = {
    "aws_rds_cluster": _stateful(
        "the PostgreSQL cluster volume (every table)", "internal/service/rds/cluster.go",
        "availability_zones", "cluster_identifier", "cluster_identifier_prefix", "cluster_scalability_type",
        "database_name", "db_subnet_group_name", "db_system_id", "engine", "engine_mode", "kms_key_id",
        "master_username", "restore_to_point_in_time", "s3_import", "snapshot_identifier", "source_region",
        "storage_encrypted",
    ),
    "aws_rds_cluster_instance": _stateful(
        "a database instance (its endpoint, caches and Performance Insights history)",
        "internal/service/rds/cluster_instance.go",
        "availability_zone", "cluster_identifier", "custom_iam_instance_profile", "db_subnet_group_name",
        "engine", "identifier", "identifier_prefix",
    ),
    "aws_db_instance": _stateful(
        "a PostgreSQL instance and its storage", "internal/service/rds/instance.go",
        "availability_zone", "character_set_name", "custom_iam_instance_profile", "db_name", "identifier",
        "identifier_prefix", "kms_key_id", "nchar_character_set_name", "restore_to_point_in_time", "s3_import",
        "snapshot_identifier", "storage_encrypted", "timezone", "username",
    ),
    "aws_elasticache_replication_group": _stateful(
        "the Redis data set (sessions, rate-limit windows; rebuildable but cold after replacement)",
        "internal/service/elasticache/replication_group.go",
        "at_rest_encryption_enabled", "data_tiering_enabled", "global_replication_group_id", "kms_key_id",
        "network_type", "port", "replication_group_id", "security_group_names", "snapshot_arns", "snapshot_name",
        "subnet_group_name",
    ),
    "aws_s3_bucket": _stateful(
        "objects (user content, recordings, logs, Terraform state)", "internal/service/s3/bucket.go",
        "bucket", "bucket_prefix", "object_lock_enabled",
    ),
    "aws_s3_bucket_versioning": _stateful(
        "the version history of a bucket's objects", "internal/service/s3/bucket_versioning.go",
        "bucket", "expected_bucket_owner",
    ),
    "aws_s3_bucket_lifecycle_configuration": _stateful(
        "nothing itself, but its rules expire and archive objects", "internal/service/s3/bucket_lifecycle_configuration.go",
        "bucket", "expected_bucket_owner",
    ),
    "aws_kms_key": _stateful(
        "the key material: data encrypted under a deleted key is lost", "internal/service/kms/key.go",
        "custom_key_store_id", "customer_master_key_spec", "key_usage", "multi_region", "xks_key_id",
    ),
    "aws_kms_replica_key": _stateful(
        "the replica key material in the second region", "internal/service/kms/replica_key.go",
        "primary_key_arn",
    ),
    "aws_secretsmanager_secret": _stateful(
        "secret values and their versions", "internal/service/secretsmanager/secret.go",
        "name", "name_prefix",
    ),
    "aws_cloudwatch_log_group": _stateful(
        "retained logs (30 days of audit and application history)", "internal/service/logs/group.go",
        "log_group_class", "name", "name_prefix",
    ),
    "aws_ecr_repository": _stateful(
        "container images", "internal/service/ecr/repository.go",
        "encryption_configuration", "name",
    ),
    "aws_route53_zone": _stateful(
        "the hosted zone and its name servers (a new zone breaks the registrar's delegation)",
        "internal/service/route53/zone.go",
        "delegation_set_id", "name",
    ),
    "aws_cloudtrail": _stateful(
        "the audit trail's continuity", "internal/service/cloudtrail/trail.go",
        "name",
    ),
}

# Arguments that change no data and no behaviour: a change to them alone is not a stateful change.
COSMETIC = frozenset({"tags", "tags_all"})
