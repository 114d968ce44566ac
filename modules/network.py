"""The VPC: public, private-application and isolated data subnets across the zones (R6.2).

- public: the load balancer and NAT gateways; the only subnets with an internet route in.
- app: ECS tasks; out to the internet through NAT (payments, e-mail, Sentry),
  to AWS services through VPC endpoints.
- data: database, proxy and cache; no route to the internet at all, no public IPs.

Zones are named from the region (`us-east-1a`, ...) rather than looked up, so
that `terraform plan` needs no account; every region we allow has zones a-c.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from modules.context import StackContext
from modules.iam import policy_document, service_trust
from modules.log_group import log_group

# Interface endpoints that let tasks in private subnets reach AWS without the internet.
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "kms", "sts", "monitoring", "xray")
ZONE_LETTERS = "abc"


@dataclass(frozen=True)
class NetworkConfig:
    cidr: ipaddress.IPv4Network
    zones: int
    nat_per_zone: bool  # one NAT gateway per zone (prod) or one for all (cheaper, dev)


class Network(Construct):
    """Exposes `vpc_id`, `cidr`, `zones`, `public_subnet_ids`, `app_subnet_ids`, `data_subnet_ids`,
    `endpoints_security_group_id`, and `flow_log_group`."""

    def __init__(self, scope: Construct, id: str, config: NetworkConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        names, region, account = context.names, context.region, context.account_id
        self.zones = [f"{region}{letter}" for letter in ZONE_LETTERS[: config.zones]]
        self.cidr = str(config.cidr)
        # Carve /20s (4,096 addresses) per tier and zone: 3 tiers x 3 zones fit in a /16 with room to grow.
        blocks = list(config.cidr.subnets(new_prefix=min(config.cidr.prefixlen + 4, 24)))

        self.vpc = Vpc(self, "vpc", cidr_block=self.cidr, enable_dns_hostnames=True, enable_dns_support=True,
                       tags={"Name": names("vpc")})
        self.vpc_id = self.vpc.id
        # The default security group allows all traffic between its members: empty it (CKV2_AWS_12).
        DefaultSecurityGroup(self, "default_security_group", vpc_id=self.vpc.id, ingress=[], egress=[])

        internet_gateway = InternetGateway(self, "internet_gateway", vpc_id=self.vpc.id, tags={"Name": names("igw")})

        def subnets(tier: str, offset: int) -> list[Subnet]:
            return [
                Subnet(
                    self,
                    f"{tier}_subnet_{zone[-1]}",
                    vpc_id=self.vpc.id,
                    availability_zone=zone,
                    cidr_block=str(blocks[offset + index]),
                    map_public_ip_on_launch=False,
                    tags={"Name": names(tier, zone[-1]), "Tier": tier},
                )
                for index, zone in enumerate(self.zones)
            ]

        public, app, data = subnets("public", 0), subnets("app", 3), subnets("data", 6)
        self.public_subnet_ids = [subnet.id for subnet in public]
        self.app_subnet_ids = [subnet.id for subnet in app]
        self.data_subnet_ids = [subnet.id for subnet in data]

        public_routes = RouteTable(self, "public_routes", vpc_id=self.vpc.id, tags={"Name": names("public")})
        Route(self, "public_default_route", route_table_id=public_routes.id, destination_cidr_block="0.0.0.0/0",
              gateway_id=internet_gateway.id)
        for subnet in public:
            RouteTableAssociation(self, f"{subnet.node.id}_routes", subnet_id=subnet.id, route_table_id=public_routes.id)

        nat_count = len(self.zones) if config.nat_per_zone else 1
        nat_gateways = []
        for index in range(nat_count):
            letter = self.zones[index][-1]
            address = Eip(self, f"nat_address_{letter}", domain="vpc", tags={"Name": names("nat", letter)})
            nat_gateways.append(
                NatGateway(self, f"nat_gateway_{letter}", allocation_id=address.id, subnet_id=public[index].id,
                           tags={"Name": names("nat", letter)}, depends_on=[internet_gateway])
            )

        app_route_tables = []
        for index, subnet in enumerate(app):
            letter = self.zones[index][-1]
            routes = RouteTable(self, f"app_routes_{letter}", vpc_id=self.vpc.id, tags={"Name": names("app", letter)})
            Route(self, f"app_default_route_{letter}", route_table_id=routes.id, destination_cidr_block="0.0.0.0/0",
                  nat_gateway_id=nat_gateways[index % nat_count].id)
            RouteTableAssociation(self, f"{subnet.node.id}_routes", subnet_id=subnet.id, route_table_id=routes.id)
            app_route_tables.append(routes)

        # Data subnets: a route table with only the local route. No NAT, no internet gateway.
        data_routes = RouteTable(self, "data_routes", vpc_id=self.vpc.id, tags={"Name": names("data")})
        for subnet in data:
            RouteTableAssociation(self, f"{subnet.node.id}_routes", subnet_id=subnet.id, route_table_id=data_routes.id)
        self.data_route_table_id = data_routes.id

        # Gateway endpoint: S3 traffic (content, images) stays off NAT, which also saves its per-GB charge.
        VpcEndpoint(self, "s3_endpoint", vpc_id=self.vpc.id, service_name=f"com.amazonaws.{region}.s3",
                    vpc_endpoint_type="Gateway",
                    route_table_ids=[table.id for table in app_route_tables] + [data_routes.id],
                    tags={"Name": names("s3")})
        # Its ingress rules (HTTPS from each client's security group) are added by SecurityGroups.
        endpoints_group = SecurityGroup(
            self, "endpoints_security_group", name=names("endpoints"), vpc_id=self.vpc.id,
            description="Interface VPC endpoints: HTTPS from the platform's own security groups only",
            tags={"Name": names("endpoints")},
        )
        self.endpoints_security_group_id = endpoints_group.id
        for service in INTERFACE_ENDPOINTS:
            VpcEndpoint(
                self, f"{service.replace('.', '_')}_endpoint", vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}", vpc_endpoint_type="Interface",
                private_dns_enabled=True, subnet_ids=self.app_subnet_ids, security_group_ids=[endpoints_group.id],
                tags={"Name": names(service.replace(".", "-"))},
            )

        # Flow logs of every accepted and rejected connection, to an encrypted log group.
        self.flow_log_group = log_group(self, "flow_log_group", f"/directfanz/{names.environment}/vpc-flow-logs",
                                        context.keys.logs.arn)
        flow_role = IamRole(self, "flow_log_role", name=names("vpc-flow-logs"),
                            # Scoped to this account's flow logs (confused deputy).
                            assume_role_policy=service_trust("vpc-flow-logs.amazonaws.com", conditions={
                                "StringEquals": {"aws:SourceAccount": account},
                                "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{region}:{account}:vpc-flow-log/*"},
                            }))
        IamRolePolicy(self, "flow_log_policy", role=flow_role.id, policy=policy_document([{
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [self.flow_log_group.arn, f"{self.flow_log_group.arn}:*"],
        }]))
        FlowLog(self, "flow_log", vpc_id=self.vpc.id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
                log_destination=self.flow_log_group.arn, iam_role_arn=flow_role.arn, max_aggregation_interval=60)
