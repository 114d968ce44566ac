"""Typed configuration of one environment, and the rules that tie environments together.

Each environment is a TOML file beside this module (dev.toml, staging.toml,
prod.toml). `load_environments()` validates all of them; any invalid value
raises `ConfigError`, whose message is one line naming the environment, the
field and the reason, so that `python main.py` can stop before synthesis.

Each TOML section is a `<Section>Settings` model (`DatabaseSettings` is `[database]`);
`<Name>Config` is a module's construct input. The stacks map one to the other, and
facts about AWS that both need (instance classes) live in the modules.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import botocore.session
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator

from modules.instance_classes import AURORA_INSTANCE_MEMORY_GIB, CACHE_AUTOSCALING_NODE_TYPE

ENVIRONMENTS_DIR = Path(__file__).parent
ENVIRONMENT_NAMES = ("dev", "staging", "prod")
PROJECT = "directfanz"

EnvironmentName = Literal["dev", "staging", "prod"]
PositiveInt = Annotated[int, Field(gt=0)]


class ConfigError(ValueError):
    """An environment's configuration is invalid; the message is one line."""


@cache
def aws_regions() -> frozenset[str]:
    """Commercial regions, from botocore's endpoint data (pinned with boto3)."""
    return frozenset(botocore.session.get_session().get_available_regions("ec2"))


class _Model(BaseModel):
    # Unknown keys are typos: reject them rather than ignore them.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceSizing(_Model):
    """One ECS service: task size and the bounds autoscaling moves between."""

    cpu: Literal[256, 512, 1024, 2048, 4096]
    memory_mib: PositiveInt
    min_tasks: PositiveInt
    max_tasks: PositiveInt

    @model_validator(mode="after")
    def _bounds(self) -> ServiceSizing:
        if self.max_tasks < self.min_tasks:
            raise ValueError(f"max_tasks ({self.max_tasks}) is below min_tasks ({self.min_tasks})")
        # Fargate's valid memory range is 2x to 8x the vCPU count in GiB (min 512 MiB).
        low, high = max(512, self.cpu * 2), self.cpu * 8
        if not low <= self.memory_mib <= high:
            raise ValueError(f"memory_mib {self.memory_mib} is outside Fargate's {low}-{high} MiB for cpu {self.cpu}")
        return self


class ComputeSettings(_Model):
    web: ServiceSizing
    websocket: ServiceSizing
    # Tasks above this many per service may run on FARGATE_SPOT (R10.1).
    on_demand_base: int = Field(ge=0)
    spot_weight: int = Field(ge=0, le=10)
    # How long a blue/green deployment watches the green tasks under production traffic (R1.7).
    bake_time_minutes: int = Field(ge=1, le=1440)
    keep_images: int = Field(ge=5, le=1000)  # per ECR repository: the rollback window


class ContentSettings(_Model):
    """Content buckets and CDN (R4, R10.2, R10.6)."""

    # Intelligent-Tiering's archive tiers: objects nobody has read for this long (AWS: 90-730 and 180-730 days).
    archive_after_days: int = Field(ge=90, le=730)
    deep_archive_after_days: int = Field(ge=180, le=730)
    recordings_archive_after_days: PositiveInt
    noncurrent_archive_after_days: PositiveInt
    noncurrent_expire_after_days: PositiveInt
    log_retention_days: PositiveInt
    cdn_price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
    # PEM public keys that verify signed URLs (a key group holds at most 5); the private keys stay out of Terraform.
    signing_public_keys: list[str] = Field(min_length=1, max_length=5)

    @field_validator("signing_public_keys")
    @classmethod
    def _pem(cls, value: list[str]) -> list[str]:
        for key in value:
            body = key.strip()
            if not (body.startswith("-----BEGIN PUBLIC KEY-----") and body.endswith("-----END PUBLIC KEY-----")):
                raise ValueError("each key must be a PEM public key (-----BEGIN PUBLIC KEY-----), never a private key")
        return value

    @model_validator(mode="after")
    def _order(self) -> ContentSettings:
        if self.deep_archive_after_days <= self.archive_after_days:
            raise ValueError("deep_archive_after_days must be later than archive_after_days")
        # Glacier bills 90 days at least: expiring sooner than that after archiving costs more than keeping.
        if self.noncurrent_expire_after_days < self.noncurrent_archive_after_days + 90:
            raise ValueError("noncurrent_expire_after_days must be at least 90 days after noncurrent_archive_after_days")
        return self


class DatabaseSettings(_Model):
    """Aurora PostgreSQL: one writer plus `read_replicas` readers, autoscaled up to `max_read_replicas`."""

    instance_class: str
    # Readers kept at all times, each in another zone than the writer: the failover targets (R2.1).
    read_replicas: int = Field(ge=0, le=15)
    # The most readers Application Auto Scaling may run under read load (R2.3).
    max_read_replicas: int = Field(ge=0, le=15)
    backup_retention_days: int = Field(ge=1, le=35)
    # CloudWatch Database Insights, the successor of the Performance Insights console (R2.5).
    insights_mode: Literal["standard", "advanced"]

    @field_validator("instance_class")
    @classmethod
    def _known_class(cls, value: str) -> str:
        if value not in AURORA_INSTANCE_MEMORY_GIB:
            raise ValueError(f"{value!r} is not an Aurora PostgreSQL class the stacks know (db.r6g, db.r7g, db.r8g "
                             "large to 16xlarge, db.t4g medium or large): add it to AURORA_INSTANCE_MEMORY_GIB")
        return value

    @model_validator(mode="after")
    def _readers(self) -> DatabaseSettings:
        if self.max_read_replicas < self.read_replicas:
            raise ValueError(f"max_read_replicas ({self.max_read_replicas}) is below read_replicas ({self.read_replicas})")
        return self


class CacheSettings(_Model):
    node_type: str
    shards: int = Field(ge=1, le=500)
    replicas_per_shard: int = Field(ge=0, le=5)
    max_shards: int = Field(ge=1, le=500)

    @field_validator("node_type")
    @classmethod
    def _autoscalable(cls, value: str) -> str:
        if not re.fullmatch(CACHE_AUTOSCALING_NODE_TYPE, value):
            raise ValueError(f"{value!r} is not a node type ElastiCache Auto Scaling supports (R3.5): "
                             "r7g, r6g, r6gd, r5, m7g, m6g, m5 or c7gn, large to 2xlarge")
        return value

    @model_validator(mode="after")
    def _bounds(self) -> CacheSettings:
        if self.max_shards < self.shards:
            raise ValueError(f"max_shards ({self.max_shards}) is below shards ({self.shards})")
        return self


class ObservabilitySettings(_Model):
    """Alerting, tracing, synthetic checks and cost alerts (R7, R10.5, R12.7)."""

    # Budget alerts on actual spend at each percentage; forecast spend alerts at the highest.
    budget_alert_thresholds_percent: list[Annotated[int, Field(gt=0, le=200)]] = Field(min_length=1)
    # A cost anomaly whose total impact reaches this many dollars is sent to the alerts topic.
    anomaly_alert_usd: PositiveInt
    # Share of requests X-Ray traces beyond each second's reservoir.
    trace_sample_rate: float = Field(gt=0, le=1)
    canary_interval_minutes: int = Field(ge=1, le=60)

    @field_validator("budget_alert_thresholds_percent")
    @classmethod
    def _ascending(cls, value: list[int]) -> list[int]:
        if value != sorted(set(value)):
            raise ValueError(f"{value} must be distinct and ascending")
        return value


class DeliverySettings(_Model):
    """The release pipeline (R8): one for the account, defined in prod's file."""

    # The application's GitHub repository, owner/name.
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    release_branch: str = Field(min_length=1)
    # Where the build uploads source maps (R7.7); the token itself is a secret, set once by an operator.
    sentry_org: str = Field(min_length=1)
    sentry_project: str = Field(min_length=1)
    # Activate the cost-allocation tag keys in billing (R10.7). Off by default: billing offers a key only about
    # a day after a resource first carries it, and in an AWS Organizations member account only the management
    # account may activate keys (docs/decisions/0023). true or false, nothing else.
    activate_cost_allocation_tags: StrictBool = False

class SecuritySettings(_Model):
    """The network edge and audit settings (R6.1, R6.5) and how long deleted secrets are recoverable."""

    # Requests one client IP may make in any 5 minutes before WAF blocks it (WAF's floor is 10).
    waf_rate_limit_per_ip: int = Field(ge=100, le=2_000_000_000)
    # CloudTrail files are locked (object lock, governance) and kept this long, then expire.
    audit_log_retention_days: int = Field(ge=30, le=3650)
    # 0 deletes at once (dev re-creates freely); otherwise Secrets Manager's 7-30 days.
    secret_recovery_window_days: int = Field(ge=0, le=30)

    @field_validator("secret_recovery_window_days")
    @classmethod
    def _recovery_window(cls, value: int) -> int:
        if 0 < value < 7:
            raise ValueError(f"{value} is neither 0 (delete at once) nor Secrets Manager's 7-30 days")
        return value


NameServers = Annotated[list[Annotated[str, Field(pattern=r"^ns-\d+\.awsdns-\d+\.(com|net|org|co\.uk)\.?$")]],
                        Field(min_length=4, max_length=4)]


class DnsSettings(_Model):
    """Subzones delegated from this environment's zone: full name -> its four Route 53 name servers.

    The name servers come out of the subzone's stack (`name_servers` output) after its first apply
    (docs/dns-delegation.md); delegating through this file keeps the NS records in code and reviewed.
    """

    delegations: dict[str, NameServers] = Field(default_factory=dict)


class StreamingSettings(_Model):
    """Live streaming (R5, R12.6): how many creators can be live at once, and who may push to ingest."""

    # One MediaLive channel per concurrent live creator; the app starts an idle one when a creator goes live.
    # Each channel and its push input bill an idle rate around the clock (docs/decisions/0018).
    channel_pool_size: int = Field(ge=1, le=50)
    # Who may push RTMP to the inputs (a MediaLive input security group holds at most 10 ranges).
    ingest_cidrs: list[ipaddress.IPv4Network] = Field(min_length=1, max_length=10)
    # Live HLS segments are only needed while a stream plays; recordings keep the archive copy.
    live_segment_days: int = Field(ge=1, le=30)
    # Reserved concurrency of the function that submits VOD conversions (bounds MediaConvert jobs submitted at once).
    vod_submit_concurrency: int = Field(ge=1, le=100)

    @field_validator("ingest_cidrs", mode="before")
    @classmethod
    def _ingest_cidrs(cls, value: object) -> object:
        for cidr in value if isinstance(value, list) else []:
            try:
                ipaddress.IPv4Network(str(cidr), strict=True)
            except ValueError as exc:
                raise ValueError(f"{cidr!r} is not an IPv4 network ({exc})") from None
        return value


# AWS DMS Serverless capacity units (DCUs) it accepts; 1 DCU = 2 GB of memory (ComputeConfig, DMS API reference).
DmsCapacityUnits = Literal[1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384]


class MigrationSettings(_Model):
    """The `migration` stack (R11 at scale: AWS DMS and S3 Batch Operations), for the one environment the old
    platform's data moves into. Credentials are never here: the stack's secrets hold them (docs/migration.md)."""

    # Where DMS reaches the old platform's PostgreSQL from the app subnets (through NAT, or a VPN's routes).
    source_cidr: ipaddress.IPv4Network
    source_port: int = Field(default=5432, ge=1, le=65535)
    source_database: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")
    # The old platform's content bucket, which the S3 Batch Operations role reads.
    source_bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    # Its customer-managed KMS key, if the old platform encrypted with one.
    source_kms_key_arn: str | None = Field(default=None, pattern=r"^arn:aws:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
    min_capacity_units: DmsCapacityUnits = 1
    max_capacity_units: DmsCapacityUnits
    # A standby replication in a second zone for the length of the migration.
    multi_az: bool

    @field_validator("source_cidr", mode="before")
    @classmethod
    def _source_cidr(cls, value: object) -> object:
        try:
            ipaddress.IPv4Network(str(value), strict=True)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IPv4 network ({exc})") from None
        return value

    @model_validator(mode="after")
    def _capacity(self) -> MigrationSettings:
        if self.min_capacity_units > self.max_capacity_units:
            raise ValueError(f"min_capacity_units ({self.min_capacity_units}) is above max_capacity_units ({self.max_capacity_units})")
        return self


class EnvironmentConfig(_Model):
    name: EnvironmentName
    account_id: str = Field(pattern=r"^\d{12}$")
    region: str
    replica_region: str
    domain: str
    vpc_cidr: ipaddress.IPv4Network
    availability_zones: int = Field(ge=2, le=3)
    owner: str = Field(min_length=1)
    cost_center: str = Field(min_length=1)
    alert_emails: list[str] = Field(min_length=1)
    monthly_budget_usd: PositiveInt
    compute: ComputeSettings
    content: ContentSettings
    database: DatabaseSettings
    cache: CacheSettings
    streaming: StreamingSettings
    observability: ObservabilitySettings
    delivery: DeliverySettings | None = None
    security: SecuritySettings
    dns: DnsSettings = Field(default_factory=DnsSettings)
    migration: MigrationSettings | None = None

    @field_validator("region", "replica_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value not in aws_regions():
            raise ValueError(f"unknown AWS region {value!r}")
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not re.fullmatch(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", value):
            raise ValueError(f"{value!r} is not a lower-case DNS name")
        return value

    @field_validator("vpc_cidr", mode="before")
    @classmethod
    def _cidr(cls, value: object) -> object:
        try:
            network = ipaddress.IPv4Network(str(value), strict=True)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IPv4 network ({exc})") from None
        if not network.is_private:
            raise ValueError(f"{network} is not a private range")
        if not 16 <= network.prefixlen <= 20:
            raise ValueError(f"{network} must be between /16 and /20 to hold 3 tiers in 3 zones")
        return network

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for address in value:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @model_validator(mode="after")
    def _environment_rules(self) -> EnvironmentConfig:
        for subzone in self.dns.delegations:
            if not subzone.endswith(f".{self.domain}"):
                raise ValueError(f"dns.delegations: {subzone} is not a subdomain of {self.domain}")
        if self.replica_region == self.region:
            raise ValueError("replica_region: must differ from region")
        if self.name in ("staging", "prod"):
            for service, sizing in self.compute:  # every [compute.<service>] section
                if isinstance(sizing, ServiceSizing) and sizing.min_tasks < 2:
                    raise ValueError(f"compute.{service}.min_tasks: {self.name} needs at least 2 tasks for high availability (R1.4)")
        if self.name == "prod":
            if self.availability_zones < 3:
                raise ValueError("availability_zones: prod spans 3 zones")
            if self.database.backup_retention_days < 30:
                raise ValueError("database.backup_retention_days: prod keeps backups at least 30 days (R2.4)")
            if self.database.read_replicas < 1:
                raise ValueError("database.read_replicas: prod keeps at least 1 reader in another zone for Multi-AZ failover (R2.1)")
            if self.cache.shards < 2 or self.cache.replicas_per_shard < 1:
                raise ValueError("cache: prod needs at least 2 shards with 1 replica each (R3.1, R3.4)")
            if self.compute.on_demand_base < self.compute.web.min_tasks:
                raise ValueError("compute.on_demand_base: prod keeps its minimum tasks on on-demand capacity")
            if self.delivery is None:
                raise ValueError("delivery: prod defines the release pipeline (repository, release_branch)")
        elif self.delivery is not None:
            raise ValueError(f"delivery: only prod defines the release pipeline, not {self.name}")
        return self

    @property
    def is_prod(self) -> bool:
        return self.name == "prod"


def _format(name: str, error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(model)"
    message = first["msg"].removeprefix("Value error, ")
    if ": " in message and not first["loc"]:
        field, message = message.split(": ", 1)
    extra = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"environment {name!r}: {field}: {message}{extra}"


def parse_environment(name: str, raw: dict) -> EnvironmentConfig:
    """Validate one environment's raw settings; raise ConfigError with one line."""
    try:
        return EnvironmentConfig.model_validate({"name": name, **raw})
    except ValidationError as error:
        raise ConfigError(_format(name, error)) from None


def check_together(configs: list[EnvironmentConfig]) -> None:
    """Rules across environments: they share an account, so nothing may collide."""
    for i, first in enumerate(configs):
        for second in configs[i + 1 :]:
            same_account = first.account_id == second.account_id
            if same_account and first.vpc_cidr.overlaps(second.vpc_cidr):
                raise ConfigError(
                    f"environment {second.name!r}: vpc_cidr: {second.vpc_cidr} overlaps {first.name}'s {first.vpc_cidr}"
                )
            if first.domain == second.domain:
                raise ConfigError(f"environment {second.name!r}: domain: {second.domain} is already {first.name}'s")
    migrating = [config.name for config in configs if config.migration]
    if len(migrating) > 1:  # one `migration` stack, and DMS's dms-vpc-role is one per account
        raise ConfigError(f"environment {migrating[1]!r}: migration: only one environment is migrated into ({migrating[0]} already is)")


def read_raw(name: str, directory: Path = ENVIRONMENTS_DIR) -> dict:
    path = directory / f"{name}.toml"
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"environment {name!r}: no file {path.name}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"environment {name!r}: {path.name}: {error}") from None


def load_environments(
    raw_by_name: dict[str, dict] | None = None, directory: Path = ENVIRONMENTS_DIR
) -> list[EnvironmentConfig]:
    """All environments (from `directory`, unless given raw), validated one by one and together."""
    raw_by_name = raw_by_name or {name: read_raw(name, directory) for name in ENVIRONMENT_NAMES}
    configs = [parse_environment(name, raw) for name, raw in raw_by_name.items()]
    check_together(configs)
    return configs
