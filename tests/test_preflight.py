"""The preflight (tools/preflight.py): each check against a real moto server process.

moto does not serve every call the preflight makes: DescribeDBEngineVersions,
DescribeCacheEngineVersions, and Service Quotas outside the `vpc` service (EC2, CloudFront,
MediaLive). Those calls get a `StandIn` client with a fixed answer, and the test's docstring says
so; every other call in the same check still goes to moto. Public DNS is a resolver function the
tests replace (no network here).
"""

from __future__ import annotations

import base64
import io
import re
import tomllib
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from environments.config import ENVIRONMENTS_DIR, EnvironmentConfig
from tests.stack_json import StackJson
from tools.preflight import (
    PLACEHOLDER_SIGNING_KEYS,
    PROXY_ENGINE_PAGE,
    StackDemand,
    _fingerprint,
    check_account,
    check_alert_subscriptions,
    check_cache_engine,
    check_database_engine,
    check_delegation,
    check_distributions,
    check_elastic_ips,
    check_medialive_channels,
    check_medialive_inputs,
    check_nat_gateways,
    check_proxy_engine,
    check_signing_keys,
    check_vpcs,
    main,
)
from tools.terraform_plan import ToolchainMissing, moto_server

REGION = "us-east-1"
AwsClients = Callable[..., Any]
LINE = re.compile(r"^(ok|BLOCKER|warn) +\S[^:]*: \S.*$")


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as url:
            yield url
    except ToolchainMissing as missing:
        pytest.skip(str(missing))


@pytest.fixture
def aws(moto_url: str) -> Callable[[str, str], Any]:
    """boto3 clients on a moto server emptied for this test."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).close()

    def client(service: str, region: str = REGION) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=moto_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    return client


@pytest.fixture(scope="module")
def demand(stacks: dict[str, StackJson]) -> StackDemand:
    return StackDemand.read(stacks["dev"].document)


class StandIn:
    """A client for calls moto does not serve: each operation answers its fixed response (or calls it)."""

    def __init__(self, exceptions: Any = None, **responses: Any) -> None:
        self.exceptions = exceptions
        self._responses = responses

    def can_paginate(self, operation: str) -> bool:
        return False

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        if operation not in self._responses:
            raise AttributeError(operation)
        response = self._responses[operation]
        return lambda **arguments: response(**arguments) if callable(response) else response


def quotas_answering(name: str, value: float) -> StandIn:
    return StandIn(get_service_quota={"Quota": {"QuotaName": name, "Value": value}})


def new_public_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


# -- what the stack will create --

def test_demand_is_what_the_synthesized_stack_creates(stacks: dict[str, StackJson],
                                                      configs: dict[str, EnvironmentConfig]) -> None:
    for name in ("dev", "prod"):
        demand, config = StackDemand.read(stacks[name].document), configs[name]
        assert demand.counts["aws_medialive_channel"] == config.streaming.channel_pool_size
        assert demand.counts["aws_medialive_input"] == config.streaming.channel_pool_size
        assert demand.counts["aws_vpc"] == 1
        assert demand.counts["aws_eip"] == demand.counts["aws_nat_gateway"] == sum(demand.nat_gateways_per_zone.values())
        assert set(demand.nat_gateways_per_zone.values()) == {1}  # one NAT per zone at most
        assert demand.database[0] == "aurora-postgresql" and demand.cache[0] == "valkey"
        assert demand.email_topics == {(config.region, f"directfanz-{name}-alerts"): tuple(sorted(config.alert_emails))}
    assert len(StackDemand.read(stacks["prod"].document).nat_gateways_per_zone) == 3  # prod: a NAT in each zone


# -- account --

def test_account_must_be_the_configured_one(aws: AwsClients, configs: dict[str, EnvironmentConfig]) -> None:
    """https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html (moto's account is 123456789012)"""
    dev = configs["dev"]
    assert check_account(aws("sts"), dev).status == "ok"
    other = check_account(aws("sts"), dev.model_copy(update={"account_id": "210987654321"}))
    assert (other.status, other.detail) == ("BLOCKER", "credentials are for 123456789012, the config names 210987654321")


# -- engines --

def test_aurora_version_and_family_must_be_offered() -> None:
    """https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBEngineVersions.html

    StandIn: moto does not implement DescribeDBEngineVersions.
    """
    offered = StandIn(describe_db_engine_versions=lambda **arguments: {"DBEngineVersions": [
        {"EngineVersion": version, "DBParameterGroupFamily": f"aurora-postgresql{version.split('.')[0]}"}
        for version in ("16.9", "17.5", "17.6", "18.3") if arguments.get("EngineVersion") in (None, version)]})
    assert check_database_engine(offered, REGION, "aurora-postgresql", "18.3", "aurora-postgresql18").status == "ok"
    missing = check_database_engine(offered, REGION, "aurora-postgresql", "18.4", "aurora-postgresql18")
    assert (missing.status, missing.detail) == ("BLOCKER", "not offered in us-east-1 (newest offered: 17.5, 17.6, 18.3)")
    wrong_family = check_database_engine(offered, REGION, "aurora-postgresql", "18.3", "aurora-postgresql17")
    assert wrong_family.status == "BLOCKER" and "family is aurora-postgresql18" in wrong_family.detail


def test_valkey_version_must_be_offered() -> None:
    """https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DescribeCacheEngineVersions.html

    StandIn: moto does not implement DescribeCacheEngineVersions.
    """
    offered = StandIn(describe_cache_engine_versions={"CacheEngineVersions": [
        {"Engine": "valkey", "EngineVersion": version} for version in ("7.2", "8.0", "8.1")]})
    assert check_cache_engine(offered, REGION, "valkey", "8.1").status == "ok"
    missing = check_cache_engine(offered, REGION, "valkey", "9.1")
    assert (missing.status, missing.detail) == ("BLOCKER", "not offered in us-east-1 (offered: 7.2, 8.0, 8.1)")


def test_rds_proxy_support_is_shown_by_a_proxy_serving_that_major_or_else_a_warning(aws: AwsClients) -> None:
    """https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBProxyTargets.html

    No API lists the versions RDS Proxy supports: a warn names the documentation page until a proxy in the
    account serves a cluster of that major version with an AVAILABLE target.
    """
    rds, ec2 = aws("rds"), aws("ec2")
    unknown = check_proxy_engine(rds, "aurora-postgresql", "18.3")
    assert unknown.status == "warn" and PROXY_ENGINE_PAGE in unknown.detail
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{index}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for index, zone in enumerate(("us-east-1a", "us-east-1b"))]
    for major, version in (("17", "17.5"), ("18", "18.3")):
        rds.create_db_cluster(DBClusterIdentifier=f"pg{major}", Engine="aurora-postgresql", EngineVersion=version,
                              MasterUsername="admin_user", MasterUserPassword="not-a-real-password")
        rds.create_db_proxy(DBProxyName=f"proxy{major}", EngineFamily="POSTGRESQL", VpcSubnetIds=subnets,
                            RoleArn="arn:aws:iam::123456789012:role/proxy",
                            Auth=[{"SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"}])
        rds.register_db_proxy_targets(DBProxyName=f"proxy{major}", DBClusterIdentifiers=[f"pg{major}"])
        if major == "17":  # a proxy on another major proves nothing about 18
            assert check_proxy_engine(rds, "aurora-postgresql", "18.3").status == "warn"
    served = check_proxy_engine(rds, "aurora-postgresql", "18.3")
    assert (served.status, served.detail) == ("ok", "proxy proxy18 serves pg18 (aurora-postgresql 18.3)")


# -- quotas --

def test_vpcs_per_region_counts_the_vpcs_already_there(aws: AwsClients, demand: StackDemand) -> None:
    """https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html (vpc L-F678F1CE, served by moto)"""
    quotas, ec2 = aws("service-quotas"), aws("ec2")
    fits = check_vpcs(quotas, ec2, demand)
    assert (fits.status, fits.detail) == ("ok", "1 used + 1 needed of 5 (VPCs per Region, vpc L-F678F1CE)")
    for index in range(4):  # moto's default VPC plus 4: the stack's would be the sixth
        ec2.create_vpc(CidrBlock=f"10.{100 + index}.0.0/16")
    assert check_vpcs(quotas, ec2, demand).status == "BLOCKER"


def test_nat_gateways_per_zone_counts_the_busiest_zone(aws: AwsClients, demand: StackDemand) -> None:
    """https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html (vpc L-FE5A380F, served by moto)"""
    quotas, ec2 = aws("service-quotas"), aws("ec2")
    assert check_nat_gateways(quotas, ec2, demand).status == "ok"
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    for _ in range(5):
        ec2.create_nat_gateway(SubnetId=subnet, AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"])
    full = check_nat_gateways(quotas, ec2, demand)
    assert (full.status, full.check) == ("BLOCKER", "quota NAT gateways per zone (us-east-1a)")
    assert full.detail.startswith("5 used + 1 needed of 5")


def test_elastic_ips_counts_allocated_addresses(aws: AwsClients, demand: StackDemand) -> None:
    """https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html (ec2 L-0263D0A3)

    StandIn for Service Quotas (moto serves only the vpc service); addresses are allocated in moto.
    When no value is applied to the account, the AWS default is read instead.
    """
    ec2 = aws("ec2")
    quotas = quotas_answering("EC2-VPC Elastic IPs", 5)
    assert check_elastic_ips(quotas, ec2, demand).status == "ok"
    for _ in range(5):
        ec2.allocate_address(Domain="vpc")
    full = check_elastic_ips(quotas, ec2, demand)
    assert (full.status, full.detail) == ("BLOCKER", "5 used + 1 needed of 5 (EC2-VPC Elastic IPs, ec2 L-0263D0A3)")

    real = aws("service-quotas")

    def not_applied(**arguments: Any) -> None:
        raise real.exceptions.NoSuchResourceException({"Error": {"Code": "NoSuchResourceException"}}, "GetServiceQuota")
    defaults_only = StandIn(real.exceptions, get_service_quota=not_applied,
                            get_aws_default_service_quota={"Quota": {"QuotaName": "EC2-VPC Elastic IPs", "Value": 10}})
    assert check_elastic_ips(defaults_only, ec2, demand).status == "ok"


def test_cloudfront_distributions_count_the_whole_account(aws: AwsClients, demand: StackDemand) -> None:
    """https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html (cloudfront L-24B04930)

    StandIn for Service Quotas (not served by moto for cloudfront); distributions are listed in moto.
    """
    cloudfront = aws("cloudfront")
    assert check_distributions(quotas_answering("Distributions per AWS account", 200), cloudfront, demand).status == "ok"
    cloudfront.create_distribution(DistributionConfig={
        "CallerReference": "other-environment", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "example.com",
                                              "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                                                     "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "https-only", "MinTTL": 0,
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
    })
    full = check_distributions(quotas_answering("Distributions per AWS account", 4), cloudfront, demand)
    assert (full.status, full.detail) == ("BLOCKER", "1 used + 4 needed of 4 (Distributions per AWS account, "
                                                     "cloudfront L-24B04930)")


def test_medialive_pool_fits_channels_and_push_inputs_by_quota_name(aws: AwsClients, demand: StackDemand) -> None:
    """https://docs.aws.amazon.com/medialive/latest/ug/limits.html

    StandIn for Service Quotas (not served by moto for medialive; no quota code confirmed offline, so
    quotas are matched by name); channels and inputs are listed in moto.
    """
    medialive = aws("medialive")
    quotas = StandIn(list_aws_default_service_quotas={"Quotas": [
        {"QuotaName": "Channels", "Value": 5}, {"QuotaName": "Push inputs", "Value": 5},
        {"QuotaName": "Multiplexes", "Value": 1}]},
        list_service_quotas={"Quotas": [{"QuotaName": "Push inputs", "Value": 1}]})  # applied below the default
    channels = check_medialive_channels(quotas, medialive, demand)
    assert (channels.status, channels.detail) == ("ok", "0 used + 1 needed of 5 (Channels, medialive)")
    assert check_medialive_inputs(quotas, medialive, demand).status == "ok"
    medialive.create_input(Name="someone-elses", Type="RTMP_PUSH", Destinations=[{"StreamName": "a/b"}])
    assert check_medialive_inputs(quotas, medialive, demand).status == "BLOCKER"  # 1 used + 1 needed of the applied 1
    unnamed = StandIn(list_aws_default_service_quotas={"Quotas": []}, list_service_quotas={"Quotas": []})
    assert check_medialive_channels(unnamed, medialive, demand).status == "warn"
    assert check_medialive_inputs(unnamed, medialive, demand).status == "warn"


# -- delegation --

def test_delegation_compares_public_dns_with_the_zone(aws: AwsClients) -> None:
    """https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/migrate-dns-domain-in-use.html

    Route 53 is moto; public DNS is a resolver function (no network here).
    """
    route53, domain = aws("route53", "us-east-1"), "dev.directfanz.io"
    assert check_delegation(route53, domain, lambda name: set()).status == "warn"  # no zone before the first apply
    zone = route53.create_hosted_zone(Name=domain, CallerReference="preflight")
    servers = zone["DelegationSet"]["NameServers"]
    delegated = check_delegation(route53, domain, lambda name: {f"{server.upper()}." for server in servers})
    assert (delegated.status, delegated.detail) == ("ok", "public DNS returns the zone's 4 name servers")
    elsewhere = check_delegation(route53, domain, lambda name: {"ns1.registrar.example"})
    assert elsewhere.status == "BLOCKER" and "ns1.registrar.example" in elsewhere.detail

    def offline(name: str) -> set[str]:
        raise TimeoutError("no answer")
    assert check_delegation(route53, domain, offline).status == "warn"


# -- signing key --

def test_placeholder_signing_keys_are_blockers_and_new_keys_pass(configs: dict[str, EnvironmentConfig]) -> None:
    """https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-trusted-signers.html"""
    for config in configs.values():
        keys = tuple(config.content.signing_public_keys)
        if any(_fingerprint(key) in PLACEHOLDER_SIGNING_KEYS for key in keys):
            result = check_signing_keys(keys)
            assert (result.status, result.detail.split(":")[0]) == ("BLOCKER", f"the placeholder from {config.name}.toml")
    assert check_signing_keys((new_public_key(),)).status == "ok"


def test_every_listed_placeholder_is_still_in_its_file() -> None:
    """Once an operator puts a real key in a file, its placeholder entry goes (no dead entries)."""
    shipped = {}
    for path in ENVIRONMENTS_DIR.glob("*.toml"):
        for key in tomllib.loads(path.read_text())["content"]["signing_public_keys"]:
            shipped[_fingerprint(key)] = path.name
    assert {fingerprint: shipped.get(fingerprint) for fingerprint in PLACEHOLDER_SIGNING_KEYS} == PLACEHOLDER_SIGNING_KEYS
    assert base64.b64decode("".join(new_public_key().splitlines()[1:-1]))  # the PEM body is what is fingerprinted


# -- alert e-mails --

def test_alert_emails_must_be_confirmed(aws: AwsClients) -> None:
    """https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html

    moto confirms e-mail subscriptions at once, so the pending case is a StandIn answering
    `PendingConfirmation`, as SNS does until the address confirms.
    """
    sns, emails = aws("sns"), ("oncall@directfanz.io", "platform@directfanz.io")
    arn = "arn:aws:sns:us-east-1:123456789012:directfanz-dev-alerts"
    assert check_alert_subscriptions(sns, arn, emails).status == "warn"  # no topic before the first apply
    sns.create_topic(Name="directfanz-dev-alerts")
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=emails[0])
    missing = check_alert_subscriptions(sns, arn, emails)
    assert (missing.status, missing.detail.split(" (")[0]) == ("warn", "not confirmed: platform@directfanz.io")
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=emails[1])
    assert check_alert_subscriptions(sns, arn, emails).status == "ok"
    pending = StandIn(list_subscriptions_by_topic={"Subscriptions": [
        {"Protocol": "email", "Endpoint": email, "SubscriptionArn": "PendingConfirmation"} for email in emails]})
    assert check_alert_subscriptions(pending, arn, emails).status == "warn"


# -- the command --

def test_command_prints_one_line_per_check_and_fails_on_a_blocker(aws: AwsClients, synth_dir: Path) -> None:
    """The whole run on moto: the calls moto does not serve become warns, dev's placeholder key a blocker."""
    output = io.StringIO()
    with redirect_stdout(output):
        status = main(["dev", str(synth_dir)], clients=aws, resolve=lambda name: set())
    *lines, summary = output.getvalue().splitlines()
    assert [line for line in lines if not LINE.match(line)] == []
    checks = {line.split(":")[0].split(maxsplit=1)[1]: line.split()[0] for line in lines}
    assert checks["account"] == "ok"
    assert checks["CloudFront signing key"] == "BLOCKER"
    database = StackDemand.read(StackJson.read(synth_dir, "dev").document).database
    assert checks[f"{database[0]} {database[1]}"] == "warn"  # moto: not implemented, reported as "could not check"
    assert len(lines) == 13
    assert (status, summary) == (1, "preflight dev: 1 blocker(s)")
    assert main(["nowhere", str(synth_dir)]) == 2
