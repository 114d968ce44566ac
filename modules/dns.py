"""The environment's public DNS zone in Route 53 (R9.1, R9.2, R9.4): directfanz.io in prod,
staging.directfanz.io and dev.directfanz.io as their own zones, delegated from prod's.

- CAA lets Amazon issue certificates (the earlier attempt allowed other authorities only).
- DNSSEC signing with a key-signing key in KMS (us-east-1, as Route 53 requires), and
  query logs to a KMS-encrypted log group in us-east-1.
- Records for the services are added once their targets exist, by reference:
  `alias()` (always an alias record: the apex can never be a CNAME), `health_check()` on
  public endpoints, `failover_alias()` (R9.3: a health-checked primary and a secondary
  record to the static maintenance origin) and `weighted_alias()` (R9.6: DNS-based load
  balancing over health-checked targets).
- `name_servers` is a Terraform output: the registrar (prod) or the parent zone's
  `dns.delegations` (staging, dev) point at them (docs/dns-delegation.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import TerraformOutput, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktf_cdktf_provider_aws.kms_key import KmsKey as KmsKeyResource
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_hosted_zone_dnssec import Route53HostedZoneDnssec
from cdktf_cdktf_provider_aws.route53_key_signing_key import Route53KeySigningKey
from cdktf_cdktf_provider_aws.route53_query_log import Route53QueryLog
from cdktf_cdktf_provider_aws.route53_record import (
    Route53Record,
    Route53RecordAlias,
    Route53RecordFailoverRoutingPolicy,
    Route53RecordWeightedRoutingPolicy,
)
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone
from constructs import Construct

from modules.context import StackContext
from modules.iam import policy_document
from modules.log_group import log_group

# Certificate authorities whose CAA domains Amazon's certificates (ACM) are issued under.
AMAZON_CAA_DOMAINS = ("amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com")
DELEGATION_TTL = 172800  # two days, as the registries use for NS records
CAA_TTL = 3600
# A public endpoint is unhealthy after 3 failed checks 30 s apart, seen from most checker regions.
HEALTH_CHECK_INTERVAL = 30
HEALTH_CHECK_FAILURES = 3


def fqdn(name: str, domain: str) -> str:
    """A name in `domain`: '' is the apex, 'www' is www.<domain>."""
    return f"{name}.{domain}" if name else domain


@dataclass(frozen=True)
class AliasTarget:
    """What a record points at: a load balancer or a distribution (its DNS name and hosted zone)."""

    dns_name: str
    zone_id: str
    ipv6: bool = False  # also an AAAA record (CloudFront; dual-stack load balancers)
    # Route 53 may inherit a load balancer's health; it refuses to for CloudFront.
    evaluate_target_health: bool = False


@dataclass(frozen=True)
class DnsConfig:
    domain: str
    # Subzone -> its four name servers (an NS record each).
    delegations: Mapping[str, Sequence[str]]


class Dns(Construct):
    """Exposes `zone_id`, `domain`, `name_servers`, `fqdn(name)`, `health_check_ids` and the record methods."""

    def __init__(self, scope: Construct, id: str, config: DnsConfig) -> None:
        super().__init__(scope, id)
        self._config = config
        self._context = context = StackContext.of(self)
        # Route 53 writes query logs, and signs with a key, in us-east-1 only.
        self._us_east_1 = context.providers.us_east_1
        self._names = context.names
        self.domain = config.domain
        zone = Route53Zone(self, "zone", name=config.domain, comment=f"{context.names.prefix}: public zone",
                           lifecycle=TerraformResourceLifecycle(prevent_destroy=True))
        self.zone_id = zone.zone_id
        self.name_servers = zone.name_servers
        self.health_check_ids: dict[str, str] = {}
        TerraformOutput(self, "name_servers", value=zone.name_servers,
                        description=f"Name servers of {config.domain}: set them at the registrar or parent zone")
        TerraformOutput(self, "zone_id", value=zone.zone_id, description=f"Route 53 hosted zone id of {config.domain}")

        Route53Record(self, "caa", zone_id=zone.zone_id, name=config.domain, type="CAA", ttl=CAA_TTL,
                      records=[f'0 issue "{domain}"' for domain in AMAZON_CAA_DOMAINS])
        for subzone, servers in sorted(config.delegations.items()):
            label = subzone.removesuffix(f".{config.domain}").replace(".", "_").replace("-", "_")
            Route53Record(self, f"delegation_{label}", zone_id=zone.zone_id, name=subzone, type="NS",
                          ttl=DELEGATION_TTL, records=list(servers))
        self._query_logging(zone)
        self._dnssec(zone)

    def fqdn(self, name: str) -> str:
        """'' is the apex; 'www' is www.<domain>."""
        return fqdn(name, self.domain)

    def alias(self, name: str, target: AliasTarget) -> None:
        """Alias record(s) for `name` to a load balancer or distribution."""
        self._records(name, target, label=name or "apex")

    def health_check(self, label: str, name: str, path: str) -> str:
        """An HTTPS check, from several Route 53 regions, of `path` on the public name `name` ('' is the apex).

        Never check the name of a failover record itself: once failed over it would see the
        maintenance page and never fail back.
        """
        check = Route53HealthCheck(
            self, f"{label}_health_check", type="HTTPS", fqdn=self.fqdn(name), port=443, resource_path=path,
            enable_sni=True, request_interval=HEALTH_CHECK_INTERVAL, failure_threshold=HEALTH_CHECK_FAILURES,
            measure_latency=True, tags={"Name": self._names(label.replace("_", "-"), "health")},
        )
        self.health_check_ids[label] = check.id
        return check.id

    def failover_alias(self, name: str, primary: AliasTarget, health_check_id: str, maintenance: AliasTarget) -> None:
        """`name` answers with `primary` while the health check passes, else with the maintenance origin (R9.3)."""
        label = name or "apex"
        self._records(name, primary, label=f"{label}_primary", set_identifier="primary",
                      health_check_id=health_check_id, failover="PRIMARY")
        self._records(name, maintenance, label=f"{label}_maintenance", set_identifier="maintenance",
                      failover="SECONDARY")

    def weighted_alias(self, name: str, targets: Mapping[str, tuple[AliasTarget, int]], health_check_id: str) -> None:
        """`name` spread over `targets` (set id -> (target, weight)) by weight (R9.6): a second region, or a
        canary, is one more entry. Route 53 leaves out a target while the health check fails."""
        label = name or "apex"
        for set_id, (target, weight) in sorted(targets.items()):
            self._records(name, target, label=f"{label}_{set_id}", set_identifier=set_id,
                          health_check_id=health_check_id, weight=weight)

    def _records(self, name: str, target: AliasTarget, *, label: str, set_identifier: str | None = None,
                 health_check_id: str | None = None, failover: str | None = None, weight: int | None = None) -> None:
        for record_type in ("A", "AAAA") if target.ipv6 else ("A",):
            Route53Record(
                self,
                f"{label}_{record_type.lower()}",
                zone_id=self.zone_id,
                name=self.fqdn(name),
                type=record_type,
                alias=Route53RecordAlias(name=target.dns_name, zone_id=target.zone_id,
                                         evaluate_target_health=target.evaluate_target_health),
                set_identifier=set_identifier,
                health_check_id=health_check_id,
                failover_routing_policy=Route53RecordFailoverRoutingPolicy(type=failover) if failover else None,
                weighted_routing_policy=Route53RecordWeightedRoutingPolicy(weight=weight) if weight is not None else None,
            )

    def _query_logging(self, zone: Route53Zone) -> None:
        config = self._config
        group = log_group(self, "query_log_group", f"/aws/route53/{config.domain}", self._context.keys.edge_logs.arn,
                          provider=self._us_east_1)
        policy = CloudwatchLogResourcePolicy(
            self,
            "query_log_policy",
            policy_name=self._names("route53-query-logs"),
            policy_document=policy_document([{
                "Sid": "Route53QueryLogs",
                "Effect": "Allow",
                "Principal": {"Service": "route53.amazonaws.com"},
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{group.arn}:*",
                "Condition": {"StringEquals": {"aws:SourceAccount": self._context.account_id},
                              "ArnLike": {"aws:SourceArn": "arn:aws:route53:::hostedzone/*"}},
            }]),
            provider=self._us_east_1,
        )
        Route53QueryLog(self, "query_log", zone_id=zone.zone_id, cloudwatch_log_group_arn=group.arn,
                        depends_on=[policy])

    def _dnssec(self, zone: Route53Zone) -> None:
        config, account = self._config, self._context.account_id
        route53_dnssec = {"StringEquals": {"aws:SourceAccount": account},
                          "ArnLike": {"aws:SourceArn": "arn:aws:route53:::hostedzone/*"}}
        # Route 53 signs with an asymmetric KMS key in us-east-1 (asymmetric keys cannot rotate; the KSK is
        # rolled by replacing it, see docs/dns-delegation.md). Losing it breaks resolution once a DS record
        # exists, hence prevent_destroy.
        key = KmsKeyResource(
            self,
            "signing_key",
            description=f"{self._names.prefix}: DNSSEC key-signing key of {config.domain}",
            customer_master_key_spec="ECC_NIST_P256",
            key_usage="SIGN_VERIFY",
            deletion_window_in_days=30,
            policy=policy_document([
                {"Sid": "AccountAdministers", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
                {"Sid": "Route53DnssecSigns", "Effect": "Allow", "Principal": {"Service": "dnssec-route53.amazonaws.com"},
                 "Action": ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"], "Resource": "*",
                 "Condition": route53_dnssec},
                {"Sid": "Route53DnssecGrants", "Effect": "Allow",
                 "Principal": {"Service": "dnssec-route53.amazonaws.com"}, "Action": "kms:CreateGrant",
                 "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
            ]),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            provider=self._us_east_1,
        )
        signing_key = Route53KeySigningKey(self, "key_signing_key", hosted_zone_id=zone.id,
                                           key_management_service_arn=key.arn,
                                           name=self._names("ksk").replace("-", "_"))
        Route53HostedZoneDnssec(self, "dnssec", hosted_zone_id=signing_key.hosted_zone_id,
                                signing_status="SIGNING")
