"""The ECS cluster the services run in (R1.1, R1.2, R10.1).

Container Insights (enhanced: per-task and per-container metrics) feeds the
dashboards and alarms. Capacity is Fargate only, from two providers: FARGATE
(on-demand) and FARGATE_SPOT. The default strategy keeps the first
`on_demand_base` tasks of each service on on-demand capacity and spreads the
rest `1 : spot_weight` over on-demand and Spot, so the minimum that keeps the
platform up is never reclaimed while growth is bought at Spot prices.

The infrastructure role is what ECS assumes to move listener rules between the
blue and green target groups during a blue/green deployment.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import (
    EcsClusterCapacityProviders,
    EcsClusterCapacityProvidersDefaultCapacityProviderStrategy,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from modules.context import StackContext
from modules.iam import service_trust

# AWS-managed policy for ECS blue/green: modify listeners and rules, describe target groups.
LOAD_BALANCER_INFRASTRUCTURE_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"


@dataclass(frozen=True)
class CapacityStrategy:
    on_demand_base: int
    spot_weight: int

    def providers(self) -> list[tuple[str, int, int]]:
        """(capacity provider, base, weight) in the order ECS applies them."""
        return [("FARGATE", self.on_demand_base, 1), ("FARGATE_SPOT", 0, self.spot_weight)]


@dataclass(frozen=True)
class EcsClusterConfig:
    capacity: CapacityStrategy


class Cluster(Construct):
    """Exposes `name`, `arn`, `infrastructure_role_arn`, `capacity` (its CapacityStrategy) and `capacity_providers`
    (what a service waits for)."""

    def __init__(self, scope: Construct, id: str, config: EcsClusterConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        cluster = EcsCluster(
            self,
            "cluster",
            name=context.names("cluster"),
            setting=[EcsClusterSetting(name="containerInsights", value="enhanced")],
        )
        self.capacity_providers = EcsClusterCapacityProviders(
            self,
            "capacity_providers",
            cluster_name=cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategy=[
                EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(capacity_provider=provider, base=base,
                                                                          weight=weight)
                for provider, base, weight in config.capacity.providers()
            ],
        )
        role = IamRole(
            self,
            "infrastructure_role",
            name=context.names("ecs-infrastructure"),
            description="ECS shifts listener rules between blue and green target groups",
            assume_role_policy=service_trust(
                "ecs.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": context.account_id}}
            ),
        )
        IamRolePolicyAttachment(self, "infrastructure_policy", role=role.name,
                                policy_arn=LOAD_BALANCER_INFRASTRUCTURE_POLICY)
        self.capacity = config.capacity
        self.name = cluster.name
        self.arn = cluster.arn
        self.infrastructure_role_arn = role.arn
