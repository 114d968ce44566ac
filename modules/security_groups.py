"""Security groups with least-privilege rules between the tiers (R6.6).

Only the load balancer is reachable from the internet (443, and 80 for the
redirect to HTTPS). Application tasks accept traffic only from the load
balancer; the database proxy and the cache only from application tasks; the
database only from its proxy. Every rule has a description. Egress is as
narrow as the path: tasks reach the internet on 443 only (payments, e-mail,
error tracking), AWS through the VPC endpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.context import StackContext

POSTGRES_PORT = 5432
REDIS_PORT = 6379


@dataclass(frozen=True)
class AppService:
    """One application service behind the load balancer: a group of its own for its tasks."""

    name: str
    port: int  # the load balancer reaches its tasks here
    description: str  # what its tasks are, e.g. "Next.js web tasks"


@dataclass(frozen=True)
class SecurityGroupsConfig:
    vpc_id: str
    endpoints_security_group_id: str
    services: Sequence[AppService]


class SecurityGroups(Construct):
    """Exposes the group ids: `load_balancer`, `services` {service: its tasks' group}, `database_proxy`, `database`
    and `cache`."""

    def __init__(self, scope: Construct, id: str, config: SecurityGroupsConfig) -> None:
        super().__init__(scope, id)
        names = StackContext.of(self).names

        def group(name: str, description: str) -> str:
            return SecurityGroup(self, name, name=names(name.replace("_", "-")), vpc_id=config.vpc_id,
                                 description=description, tags={"Name": names(name.replace("_", "-"))}).id

        self.load_balancer = group("load_balancer", "Application load balancer: HTTPS (and HTTP to redirect) from the internet")
        self.services = {service.name: group(service.name, f"{service.description}: from the load balancer only")
                         for service in config.services}
        self.database_proxy = group("database_proxy", "RDS Proxy: PostgreSQL from application tasks only")
        self.database = group("database", "RDS PostgreSQL: from its proxy only")
        self.cache = group("cache", "ElastiCache: Redis protocol from application tasks only")

        def ingress(name: str, group_id: str, port: int, description: str, *, source: str | None = None,
                    cidr: str | None = None) -> None:
            VpcSecurityGroupIngressRule(self, name, security_group_id=group_id, ip_protocol="tcp", from_port=port,
                                        to_port=port, referenced_security_group_id=source, cidr_ipv4=cidr,
                                        description=description)

        def egress(name: str, group_id: str, port: int, description: str, *, destination: str | None = None,
                   cidr: str | None = None) -> None:
            VpcSecurityGroupEgressRule(self, name, security_group_id=group_id, ip_protocol="tcp", from_port=port,
                                       to_port=port, referenced_security_group_id=destination, cidr_ipv4=cidr,
                                       description=description)

        ingress("load_balancer_https", self.load_balancer, 443, "HTTPS from the internet", cidr="0.0.0.0/0")
        ingress("load_balancer_http", self.load_balancer, 80, "HTTP from the internet, redirected to HTTPS",
                cidr="0.0.0.0/0")
        for app in config.services:
            service, port, service_group = app.name, app.port, self.services[app.name]
            egress(f"load_balancer_to_{service}", self.load_balancer, port, f"To {service} tasks",
                   destination=service_group)
            ingress(f"{service}_from_load_balancer", service_group, port, "From the load balancer",
                    source=self.load_balancer)
            egress(f"{service}_to_database_proxy", service_group, POSTGRES_PORT, "PostgreSQL through RDS Proxy",
                   destination=self.database_proxy)
            ingress(f"database_proxy_from_{service}", self.database_proxy, POSTGRES_PORT,
                    f"PostgreSQL from {service} tasks", source=service_group)
            egress(f"{service}_to_cache", service_group, REDIS_PORT, "Redis protocol to ElastiCache",
                   destination=self.cache)
            ingress(f"cache_from_{service}", self.cache, REDIS_PORT, f"Redis protocol from {service} tasks",
                    source=service_group)
            egress(f"{service}_to_endpoints", service_group, 443, "HTTPS to AWS through VPC endpoints",
                   destination=config.endpoints_security_group_id)
            ingress(f"endpoints_from_{service}", config.endpoints_security_group_id, 443,
                    f"HTTPS to AWS APIs from {service} tasks", source=service_group)
            # Stripe, SendGrid, OpenAI and Sentry are on the internet: HTTPS only, through NAT.
            egress(f"{service}_to_internet_https", service_group, 443, "HTTPS to third-party APIs through NAT",
                   cidr="0.0.0.0/0")
        egress("database_proxy_to_database", self.database_proxy, POSTGRES_PORT, "PostgreSQL to the database",
               destination=self.database)
        ingress("database_from_proxy", self.database, POSTGRES_PORT, "PostgreSQL from RDS Proxy",
                source=self.database_proxy)
        # S3 gateway endpoint and AWS APIs for the proxy's Secrets Manager lookups.
        egress("database_proxy_to_endpoints", self.database_proxy, 443, "HTTPS to Secrets Manager through VPC endpoints",
               destination=config.endpoints_security_group_id)
        ingress("endpoints_from_database_proxy", config.endpoints_security_group_id, 443,
                "HTTPS to Secrets Manager from RDS Proxy", source=self.database_proxy)
