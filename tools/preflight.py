"""Is an AWS account ready for an environment's first apply? Read-only.

    python -m tools.preflight <env> [cdktf.out]

Run with the operator's credentials before `terraform apply` (README, "Preflight"). It reads the
environment's config (`environments/<env>.toml`) and its synthesized stack
(`cdktf.out/stacks/<env>/cdk.tf.json`: what the apply will create), asks AWS only Describe, Get and
List calls, and prints one line per check:

    ok       account: 123456789012, as configured
    BLOCKER  aurora-postgresql 18.3: not offered in us-east-1 (offered: 17.5, 17.6)
    warn     alert e-mails: pending confirmation: oncall@directfanz.io

A BLOCKER is something the apply or the platform would fail on; a warn needs a person (a page to
read, a click in an e-mail). Exit status: 1 on any blocker, 0 otherwise, 2 when it cannot start.
tests/test_preflight.py runs every check against a moto server, or with a small stand-in client
where moto does not serve the call.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import boto3
import botocore.exceptions
import botocore.parsers

from environments import ConfigError, EnvironmentConfig, load_environments

Status = Literal["ok", "BLOCKER", "warn"]
Clients = Callable[[str, str], Any]  # (service, region) -> a boto3 client
Resolver = Callable[[str], set[str]]  # domain -> the name servers public DNS returns for it

GLOBAL_REGION = "us-east-1"  # CloudFront, Route 53 and their Service Quotas answer here

# The public keys environments/*.toml ship with (SHA-256 of the DER key): generated for the
# repository, their private halves kept nowhere, so no URL signed for them can be verified.
PLACEHOLDER_SIGNING_KEYS = {
    "77383b29a6b97b0ac30217cc973296a3720e88a15b0e5f9a4498215255e1fec2": "dev.toml",
    "2e49baa8bdce20714b2d85f2f93a43b71fc4da4508fdd8cd941c739c247193db": "staging.toml",
    "a33341987349733d048228c7545347d4fad72a5d2bab75596e78e31449b8c548": "prod.toml",
}


@dataclass(frozen=True)
class Result:
    status: Status
    check: str
    detail: str

    @property
    def line(self) -> str:
        detail = " ".join(self.detail.split())  # AWS error messages may span lines (or be a whole HTML page)
        return f"{self.status:<7}  {self.check}: {detail if len(detail) <= 300 else detail[:300] + ' [...]'}"


# -- what the synthesized stack will create --

@dataclass(frozen=True)
class StackDemand:
    """What one synthesized stack creates that the checks weigh against the account."""

    counts: Counter[str]  # resource type -> how many
    nat_gateways_per_zone: Counter[str]
    database: tuple[str, str, str]  # engine, engine version, cluster parameter group family
    cache: tuple[str, str]  # engine, engine version
    signing_keys: tuple[str, ...]  # PEM public keys of the CloudFront key group
    email_topics: dict[tuple[str, str], tuple[str, ...]]  # (region, topic name) -> e-mail endpoints

    @classmethod
    def read(cls, document: dict[str, Any]) -> StackDemand:
        resources: dict[str, dict[str, dict[str, Any]]] = document.get("resource", {})

        def only(resource_type: str) -> dict[str, Any]:
            (body,) = resources[resource_type].values()
            return body

        def referenced(reference: str) -> dict[str, Any]:
            resource_type, logical_id = re.fullmatch(r"\$\{(\w+)\.(\w+)\.\w+\}", reference).groups()  # type: ignore[union-attr]
            return resources[resource_type][logical_id]

        regions = {f"aws.{provider['alias']}" if "alias" in provider else "aws": provider["region"]
                   for provider in document["provider"]["aws"]}
        topics: dict[tuple[str, str], list[str]] = {}
        for subscription in resources.get("aws_sns_topic_subscription", {}).values():
            if subscription["protocol"] == "email":
                topic = referenced(subscription["topic_arn"])
                topics.setdefault((regions[topic.get("provider", "aws")], topic["name"]), []).append(
                    subscription["endpoint"])
        cluster = only("aws_rds_cluster")
        cache = only("aws_elasticache_replication_group")
        return cls(
            counts=Counter({resource_type: len(by_id) for resource_type, by_id in resources.items()}),
            nat_gateways_per_zone=Counter(referenced(nat["subnet_id"])["availability_zone"]
                                          for nat in resources.get("aws_nat_gateway", {}).values()),
            database=(cluster["engine"], cluster["engine_version"], only("aws_rds_cluster_parameter_group")["family"]),
            cache=(cache["engine"], cache["engine_version"]),
            signing_keys=tuple(key["encoded_key"] for key in resources.get("aws_cloudfront_public_key", {}).values()),
            email_topics={topic: tuple(sorted(emails)) for topic, emails in sorted(topics.items())},
        )


# -- the checks: each takes the clients it reads, so a test can hand it a stand-in --

def check_account(sts: Any, config: EnvironmentConfig) -> Result:
    """The credentials belong to the account the config names (every provider pins `allowed_account_ids`).

    https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    """
    account = sts.get_caller_identity()["Account"]
    if account != config.account_id:
        return Result("BLOCKER", "account", f"credentials are for {account}, the config names {config.account_id}")
    return Result("ok", "account", f"{account}, as configured")


def check_database_engine(rds: Any, region: str, engine: str, version: str, family: str) -> Result:
    """The Aurora PostgreSQL version and parameter group family the stack creates are offered in the region.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBEngineVersions.html
    """
    name = f"{engine} {version}"
    found = rds.describe_db_engine_versions(Engine=engine, EngineVersion=version)["DBEngineVersions"]
    if not found:
        offered = sorted({entry["EngineVersion"] for entry in _pages(rds, "describe_db_engine_versions",
                                                                     "DBEngineVersions", Engine=engine)},
                         key=_version_key)
        return Result("BLOCKER", name, f"not offered in {region} (newest offered: {', '.join(offered[-3:]) or 'none'})")
    offered_family = found[0]["DBParameterGroupFamily"]
    if offered_family != family:
        return Result("BLOCKER", name, f"its parameter group family is {offered_family}, the stack uses {family}")
    return Result("ok", name, f"offered in {region}, family {family}")


PROXY_ENGINE_PAGE = ("https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
                     "Concepts.Aurora_Fea_Regions_DB-eng.Feature.RDS_Proxy.html")


def check_proxy_engine(rds: Any, engine: str, version: str) -> Result:
    """RDS Proxy accepts the engine's major version as a target.

    No read-only API says which versions RDS Proxy supports (DescribeDBEngineVersions has no such
    field); the list is a documentation page, PROXY_ENGINE_PAGE. What an account can show is a proxy
    that already serves a cluster of that major version (DescribeDBProxies, DescribeDBProxyTargets,
    DescribeDBClusters): then ok; otherwise a warn that names the page to read.
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBProxyTargets.html
    """
    major = version.split(".")[0]
    check = f"RDS Proxy on {engine} {major}"
    for proxy in _pages(rds, "describe_db_proxies", "DBProxies"):
        for target in _pages(rds, "describe_db_proxy_targets", "Targets", DBProxyName=proxy["DBProxyName"]):
            if target.get("Type") != "TRACKED_CLUSTER" or target.get("TargetHealth", {}).get("State") != "AVAILABLE":
                continue
            (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=target["RdsResourceId"])["DBClusters"]
            if cluster["Engine"] == engine and cluster["EngineVersion"].split(".")[0] == major:
                return Result("ok", check, f"proxy {proxy['DBProxyName']} serves {cluster['DBClusterIdentifier']} "
                                           f"({engine} {cluster['EngineVersion']})")
    return Result("warn", check, f"no API tells and no proxy here serves it yet: confirm major {major} on "
                                 f"{PROXY_ENGINE_PAGE} (else use 17: docs/decisions/0009)")


def check_cache_engine(elasticache: Any, region: str, engine: str, version: str) -> Result:
    """The Valkey version the stack creates is offered in the region.

    https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DescribeCacheEngineVersions.html
    """
    name = f"{engine} {version}"
    offered = sorted({entry["EngineVersion"] for entry in _pages(elasticache, "describe_cache_engine_versions",
                                                                 "CacheEngineVersions", Engine=engine)},
                     key=_version_key)
    if version not in offered:
        return Result("BLOCKER", name, f"not offered in {region} (offered: {', '.join(offered) or 'none'})")
    return Result("ok", name, f"offered in {region}")


@dataclass(frozen=True)
class Quota:
    """A Service Quotas entry: by its code where AWS publishes one, else by its name."""

    label: str
    service_code: str
    quota_code: str | None
    quota_names: tuple[str, ...]  # what the console calls it; a name match when there is no code


ELASTIC_IPS = Quota("Elastic IPs", "ec2", "L-0263D0A3", ("EC2-VPC Elastic IPs",))
NAT_GATEWAYS_PER_ZONE = Quota("NAT gateways per zone", "vpc", "L-FE5A380F", ("NAT gateways per Availability Zone",))
VPCS = Quota("VPCs", "vpc", "L-F678F1CE", ("VPCs per Region",))
DISTRIBUTIONS = Quota("CloudFront distributions", "cloudfront", "L-24B04930", ("Distributions per AWS account",))
# MediaLive publishes no quota codes we could confirm offline: matched by name, a warn when none matches.
MEDIALIVE_CHANNELS = Quota("MediaLive channels", "medialive", None, ("Channels",))
MEDIALIVE_PUSH_INPUTS = Quota("MediaLive push inputs", "medialive", None, ("Push inputs", "RTMP push inputs"))


def quota_values(quotas: Any, quota: Quota) -> dict[str, float]:
    """{quota name: value applied to this account} (the AWS default where none is applied).

    https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html
    https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_ListServiceQuotas.html
    """
    if quota.quota_code is not None:
        try:
            found = quotas.get_service_quota(ServiceCode=quota.service_code, QuotaCode=quota.quota_code)
        except quotas.exceptions.NoSuchResourceException:
            found = quotas.get_aws_default_service_quota(ServiceCode=quota.service_code, QuotaCode=quota.quota_code)
        return {found["Quota"]["QuotaName"]: found["Quota"]["Value"]}
    wanted = {name.lower() for name in quota.quota_names}
    values: dict[str, float] = {}
    for operation in ("list_aws_default_service_quotas", "list_service_quotas"):  # applied values win
        values |= {entry["QuotaName"]: entry["Value"]
                   for entry in _pages(quotas, operation, "Quotas", ServiceCode=quota.service_code)
                   if entry["QuotaName"].lower() in wanted}
    return values


def check_quota(quotas: Any, quota: Quota, used: int, needed: int, where: str = "") -> Result:
    """`used` (what the account holds now) plus `needed` (what the apply creates) fits every matching quota."""
    check = f"quota {quota.label}" + (f" ({where})" if where else "")
    values = quota_values(quotas, quota)
    if not values:
        return Result("warn", check, f"no {quota.service_code} quota named {' or '.join(quota.quota_names)}: "
                                     "compare by hand in the Service Quotas console")
    code = f"{quota.service_code} {quota.quota_code}" if quota.quota_code else quota.service_code
    name, limit = min(values.items(), key=lambda item: item[1])
    detail = f"{used} used + {needed} needed of {limit:g} ({name}, {code})"
    return Result("BLOCKER" if used + needed > limit else "ok", check, detail)


def check_elastic_ips(quotas: Any, ec2: Any, demand: StackDemand) -> Result:
    """NAT gateways take an Elastic IP each: allocated addresses plus the stack's fit the Region's quota.

    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html#using-instance-addressing-limit
    """
    used = len(ec2.describe_addresses()["Addresses"])
    return check_quota(quotas, ELASTIC_IPS, used, demand.counts["aws_eip"])


def check_nat_gateways(quotas: Any, ec2: Any, demand: StackDemand) -> Result:
    """The NAT gateways per Availability Zone quota holds in the busiest zone the stack uses.

    https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-gateways
    """
    subnets = {subnet["SubnetId"]: subnet["AvailabilityZone"]
               for subnet in _pages(ec2, "describe_subnets", "Subnets")}
    in_use = Counter(subnets.get(nat["SubnetId"], "?") for nat in _pages(
        ec2, "describe_nat_gateways", "NatGateways", Filters=[{"Name": "state", "Values": ["pending", "available"]}]))
    zone = max(demand.nat_gateways_per_zone, key=lambda zone: in_use[zone] + demand.nat_gateways_per_zone[zone])
    return check_quota(quotas, NAT_GATEWAYS_PER_ZONE, in_use[zone], demand.nat_gateways_per_zone[zone], zone)


def check_vpcs(quotas: Any, ec2: Any, demand: StackDemand) -> Result:
    """https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-vpcs-subnets"""
    used = len(list(_pages(ec2, "describe_vpcs", "Vpcs")))
    return check_quota(quotas, VPCS, used, demand.counts["aws_vpc"])


def check_distributions(quotas: Any, cloudfront: Any, demand: StackDemand) -> Result:
    """Distributions are an account-wide quota, shared by every environment in the account.

    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-web-distributions
    """
    used = sum(page["DistributionList"]["Quantity"] for page in cloudfront.get_paginator("list_distributions").paginate())
    return check_quota(quotas, DISTRIBUTIONS, used, demand.counts["aws_cloudfront_distribution"])


def check_medialive_channels(quotas: Any, medialive: Any, demand: StackDemand) -> Result:
    """The channel pool (one channel per concurrent creator) fits MediaLive's channel quota.

    https://docs.aws.amazon.com/medialive/latest/ug/limits.html
    """
    channels = len(list(_pages(medialive, "list_channels", "Channels")))
    return check_quota(quotas, MEDIALIVE_CHANNELS, channels, demand.counts["aws_medialive_channel"])


def check_medialive_inputs(quotas: Any, medialive: Any, demand: StackDemand) -> Result:
    """The pool's RTMP push inputs (one per channel) fit MediaLive's push input quotas.

    https://docs.aws.amazon.com/medialive/latest/ug/limits.html
    """
    push_inputs = sum(1 for entry in _pages(medialive, "list_inputs", "Inputs") if entry["Type"].endswith("_PUSH"))
    return check_quota(quotas, MEDIALIVE_PUSH_INPUTS, push_inputs, demand.counts["aws_medialive_input"])


def check_delegation(route53: Any, domain: str, resolve: Resolver) -> Result:
    """Public DNS sends the domain to the hosted zone the stack manages: ACM validates its certificates
    by records in that zone, and the apply waits for them (docs/dns-delegation.md).

    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/migrate-dns-domain-in-use.html
    https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html
    """
    check = f"delegation of {domain}"
    zones = [zone for zone in route53.list_hosted_zones_by_name(DNSName=domain)["HostedZones"]
             if zone["Name"] == f"{domain}." and not zone["Config"]["PrivateZone"]]
    if not zones:
        return Result("warn", check, "no hosted zone yet: the first apply creates it; delegate to its name servers "
                                     "(`terraform output -json dns_name_servers`) while ACM waits")
    if len(zones) > 1:
        return Result("warn", check, f"{len(zones)} public zones named {domain}: delegate to the one in Terraform state")
    zone_servers = _names(route53.get_hosted_zone(Id=zones[0]["Id"])["DelegationSet"]["NameServers"])
    try:
        public = _names(resolve(domain))
    except Exception as error:  # the resolver is injected: whatever stops it means "could not look"
        return Result("warn", check, f"could not ask public DNS ({type(error).__name__}: {error})")
    if public == zone_servers:
        return Result("ok", check, f"public DNS returns the zone's {len(zone_servers)} name servers")
    return Result("BLOCKER", check, f"public DNS returns {', '.join(sorted(public)) or 'no NS'}, the zone has "
                                    f"{', '.join(sorted(zone_servers))}: certificate validation would wait for ever")


def check_signing_keys(keys: tuple[str, ...]) -> Result:
    """The CloudFront key group verifies signed URLs with the public keys the config names; the ones the
    repository ships are placeholders whose private halves nobody holds.

    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-trusted-signers.html
    """
    placeholders = sorted({PLACEHOLDER_SIGNING_KEYS[fingerprint] for fingerprint in map(_fingerprint, keys)
                           if fingerprint in PLACEHOLDER_SIGNING_KEYS})
    if placeholders:
        return Result("BLOCKER", "CloudFront signing key", f"the placeholder from {', '.join(placeholders)}: put the "
                                                           "public half of the app's signing key in content.signing_public_keys")
    return Result("ok", "CloudFront signing key", f"{len(keys)} key(s), none of them a placeholder")


def check_alert_subscriptions(sns: Any, topic_arn: str, emails: tuple[str, ...]) -> Result:
    """Every alert e-mail subscription is confirmed: an unconfirmed one receives nothing.

    https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html (SubscriptionArn
    is `PendingConfirmation` until the address confirms)
    """
    check = f"alert e-mails ({topic_arn.rsplit(':', 1)[-1]})"
    try:
        subscriptions = list(_pages(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic_arn))
    except sns.exceptions.NotFoundException:
        return Result("warn", check, "the topic does not exist yet: confirm the e-mails AWS sends after the first apply")
    confirmed = {entry["Endpoint"] for entry in subscriptions
                 if entry["Protocol"] == "email" and entry["SubscriptionArn"].startswith("arn:")}
    pending = [email for email in emails if email not in confirmed]
    if pending:
        return Result("warn", check, f"not confirmed: {', '.join(pending)} (open the e-mail from AWS Notifications)")
    return Result("ok", check, f"{len(emails)} confirmed")


# -- running them --

def default_clients(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)


def public_name_servers(domain: str) -> set[str]:
    """The NS set the machine's resolver returns for `domain` (dnspython)."""
    import dns.resolver

    return {str(answer.target) for answer in dns.resolver.resolve(domain, "NS")}


def run(config: EnvironmentConfig, demand: StackDemand, clients: Clients = default_clients,
        resolve: Resolver = public_name_servers) -> Iterator[Result]:
    """Every check, in order; an AWS error that stops one (access denied, say) is that check's warn.

    Missing credentials or an unreachable endpoint stop the run: no check could answer.
    """
    region = config.region
    engine, version, family = demand.database
    quotas = clients("service-quotas", region)
    ec2 = clients("ec2", region)
    checks: list[tuple[str, Callable[[], Result]]] = [
        ("account", lambda: check_account(clients("sts", region), config)),
        (f"{engine} {version}", lambda: check_database_engine(clients("rds", region), region, engine, version, family)),
        ("RDS Proxy", lambda: check_proxy_engine(clients("rds", region), engine, version)),
        (" ".join(demand.cache), lambda: check_cache_engine(clients("elasticache", region), region, *demand.cache)),
        ("quota Elastic IPs", lambda: check_elastic_ips(quotas, ec2, demand)),
        ("quota NAT gateways per zone", lambda: check_nat_gateways(quotas, ec2, demand)),
        ("quota VPCs", lambda: check_vpcs(quotas, ec2, demand)),
        ("quota CloudFront distributions", lambda: check_distributions(
            clients("service-quotas", GLOBAL_REGION), clients("cloudfront", GLOBAL_REGION), demand)),
        ("quota MediaLive channels", lambda: check_medialive_channels(quotas, clients("medialive", region), demand)),
        ("quota MediaLive push inputs", lambda: check_medialive_inputs(quotas, clients("medialive", region), demand)),
        (f"delegation of {config.domain}", lambda: check_delegation(clients("route53", GLOBAL_REGION), config.domain,
                                                                     resolve)),
        ("CloudFront signing key", lambda: check_signing_keys(demand.signing_keys)),
    ]
    for (topic_region, topic), emails in demand.email_topics.items():
        arn = f"arn:aws:sns:{topic_region}:{config.account_id}:{topic}"
        checks.append((f"alert e-mails ({topic})",
                       partial(check_alert_subscriptions, clients("sns", topic_region), arn, emails)))
    for name, check in checks:
        try:
            outcome = check()
        except (botocore.exceptions.NoCredentialsError, botocore.exceptions.EndpointConnectionError):
            raise  # nothing can be checked
        except botocore.exceptions.ClientError as error:
            problem = error.response.get("Error", {})
            outcome = Result("warn", name, f"could not check: {problem.get('Code')}: {problem.get('Message')}")
        except (botocore.exceptions.BotoCoreError, botocore.parsers.ResponseParserError) as error:
            outcome = Result("warn", name, f"could not check: {str(error).splitlines()[0]}")
        yield outcome


def main(argv: list[str], clients: Clients = default_clients, resolve: Resolver = public_name_servers) -> int:
    if not 1 <= len(argv) <= 2:
        print("usage: python -m tools.preflight <env> [cdktf.out]", file=sys.stderr)
        return 2
    outdir = Path(argv[1] if len(argv) > 1 else "cdktf.out")
    try:
        config = next((config for config in load_environments() if config.name == argv[0]), None)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    stack = outdir / "stacks" / argv[0] / "cdk.tf.json"
    if config is None or not stack.exists():
        print(f"no environment {argv[0]!r} synthesized in {outdir}: run `python main.py` first", file=sys.stderr)
        return 2
    blockers = 0
    try:
        for result in run(config, StackDemand.read(json.loads(stack.read_text())), clients, resolve):
            print(result.line, flush=True)
            blockers += result.status == "BLOCKER"
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.EndpointConnectionError) as error:
        print(f"cannot reach AWS: {error}", file=sys.stderr)
        return 2
    print(f"preflight {config.name}: {blockers} blocker(s)")
    return 1 if blockers else 0


# -- helpers --

def _pages(client: Any, operation: str, key: str, **arguments: Any) -> Iterator[dict[str, Any]]:
    """Every item of a listing, page by page where the operation pages."""
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**arguments):
            yield from page.get(key, [])
    else:
        yield from getattr(client, operation)(**arguments).get(key, [])


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _names(servers: Any) -> set[str]:
    return {str(server).lower().rstrip(".") for server in servers}


def _fingerprint(pem: str) -> str:
    body = "".join(line.strip() for line in pem.strip().splitlines() if not line.startswith("-----"))
    return hashlib.sha256(base64.b64decode(body)).hexdigest()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
