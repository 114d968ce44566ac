"""Foundation (R6, R9): providers, keys and alert topics (the stack context), then the network, security
groups, WAF, the DNS zone, certificates and the app's secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformStack

from environments.config import PROJECT, EnvironmentConfig
from modules.alerts import Alerts, AlertsConfig
from modules.app_secrets import AppSecrets, AppSecretsConfig
from modules.certificates import Certificates, CertificatesConfig
from modules.context import StackContext
from modules.dns import Dns, DnsConfig
from modules.encryption import EncryptionKeys, EncryptionKeysConfig
from modules.naming import Names
from modules.network import Network, NetworkConfig
from modules.providers import Providers, ProvidersConfig
from modules.security_groups import AppService, SecurityGroups, SecurityGroupsConfig
from modules.waf import Waf, WafConfig
from stacks.services import APP_SECRETS, LARGE_BODY_PATHS, PUBLIC_HOSTS, SERVICES
from stacks.tags import cost_tags


@dataclass(frozen=True)
class Foundation:
    context: StackContext
    network: Network
    security_groups: SecurityGroups
    waf: Waf
    dns: Dns
    certificates: Certificates
    app_secrets: AppSecrets


def build_foundation(stack: TerraformStack, config: EnvironmentConfig) -> Foundation:
    context = _provide_context(stack, config)
    network = Network(stack, "network", NetworkConfig(cidr=config.vpc_cidr, zones=config.availability_zones,
                                                      nat_per_zone=config.is_prod))
    security_groups = SecurityGroups(
        stack,
        "security_groups",
        SecurityGroupsConfig(vpc_id=network.vpc_id, endpoints_security_group_id=network.endpoints_security_group_id,
                             services=[AppService(spec.name, spec.port, spec.description) for spec in SERVICES]),
    )
    waf = Waf(stack, "waf", WafConfig(rate_limit_per_ip=config.security.waf_rate_limit_per_ip,
                                      large_body_paths=LARGE_BODY_PATHS))
    dns = Dns(stack, "dns", DnsConfig(domain=config.domain, delegations=config.dns.delegations))
    certificates = Certificates(
        stack,
        "certificates",
        CertificatesConfig(domain=config.domain, alternative_names=[dns.fqdn(host) for host in PUBLIC_HOSTS],
                           zone_id=dns.zone_id),
    )
    app_secrets = AppSecrets(
        stack,
        "app_secrets",
        AppSecretsConfig(secrets=APP_SECRETS, recovery_window_days=config.security.secret_recovery_window_days),
    )
    return Foundation(context=context, network=network, security_groups=security_groups, waf=waf, dns=dns,
                      certificates=certificates, app_secrets=app_secrets)


def _provide_context(stack: TerraformStack, config: EnvironmentConfig) -> StackContext:
    """What every later construct reads with `StackContext.of(self)`: names, account, region, providers, the
    per-class KMS keys (R6.4) and the alert topics."""
    names = Names(PROJECT, config.name)
    providers = Providers(
        stack,
        "providers",
        ProvidersConfig(account_id=config.account_id, region=config.region, replica_region=config.replica_region,
                        tags=cost_tags(config)),
    )
    keys = EncryptionKeys(
        stack,
        "keys",
        EncryptionKeysConfig(names=names, account_id=config.account_id, region=config.region,
                             replica_region=config.replica_region),
        replica_provider=providers.replica,
        us_east_1_provider=providers.us_east_1,
    )
    # Every tier's alarms page the alerts topic; CloudFront and Route 53 publish their metrics in us-east-1
    # only, so their alarms need a topic (and key) there.
    alerts = Alerts(stack, "alerts", AlertsConfig(name=names("alerts"), account_id=config.account_id,
                                                  kms_key_arn=keys.messaging.arn, emails=tuple(config.alert_emails)))
    edge_alerts = alerts if config.region == "us-east-1" else Alerts(
        stack,
        "edge_alerts",
        AlertsConfig(name=names("edge-alerts"), account_id=config.account_id, kms_key_arn=keys.edge_messaging.arn,
                     emails=tuple(config.alert_emails)),
        provider=providers.us_east_1,
    )
    context = StackContext(names=names, account_id=config.account_id, region=config.region, providers=providers,
                           keys=keys, alerts_topic_arn=alerts.topic_arn, edge_alerts_topic_arn=edge_alerts.topic_arn)
    context.provide(stack)
    return context
