"""Compute (R1): the container registry, the ECS cluster and one service per entry of the catalogue, each with
its route, security group, settings and secrets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformStack

from environments.config import EnvironmentConfig
from modules.container_registry import ContainerRegistry, ContainerRegistryConfig
from modules.ecs_cluster import CapacityStrategy, Cluster, EcsClusterConfig
from modules.ecs_service import EcsServiceConfig, Service, TaskSizing
from modules.tracing import COLLECTOR_STATEMENT
from stacks.services import SERVICES, WEB, AppPlatform, ServiceSpec, environment
from stacks.tiers.data import Data
from stacks.tiers.edge import Edge
from stacks.tiers.foundation import Foundation
from stacks.tiers.streaming import Streaming


@dataclass(frozen=True)
class Compute:
    registry: ContainerRegistry
    cluster: Cluster
    services: Mapping[str, Service]


def build_compute(stack: TerraformStack, config: EnvironmentConfig, foundation: Foundation, data: Data, edge: Edge,
                  streaming: Streaming) -> Compute:
    registry = ContainerRegistry(stack, "registry", ContainerRegistryConfig(
        images=tuple(spec.name for spec in SERVICES), keep_releases=config.compute.keep_images))
    capacity = CapacityStrategy(on_demand_base=config.compute.on_demand_base, spot_weight=config.compute.spot_weight)
    cluster = Cluster(stack, "ecs", EcsClusterConfig(capacity=capacity))
    platform = AppPlatform(config=config, names=foundation.context.names, content=edge.content,
                           live_channel_ids=streaming.live.channel_ids)
    # Each secret's whole value is the variable's value (no JSON keys).
    secret_arns = {**foundation.app_secrets.arns, **data.secret_arns}
    load_balancer = edge.load_balancer

    def service(spec: ServiceSpec) -> Service:
        return Service(
            stack,
            spec.name,
            EcsServiceConfig(
                name=spec.name,
                cluster=cluster,
                repository=registry.repositories[spec.name],
                port=spec.port,
                health_check_path=spec.health_path,
                sizing=TaskSizing(**spec.sizing(config).model_dump()),
                subnet_ids=foundation.network.app_subnet_ids,
                security_group_id=foundation.security_groups.services[spec.name],
                route=load_balancer.routes[spec.name],
                load_balancer_arn_suffix=load_balancer.arn_suffix,
                bake_time_minutes=config.compute.bake_time_minutes,
                environment=environment(spec, platform),
                secrets={variable: secret_arns[secret] for variable, secret in spec.secrets.items()},
                task_policy_statements=[COLLECTOR_STATEMENT,
                                        *(edge.content.app_access_statements() if spec.uses_content else ())],
                writable_paths=spec.writable_paths,
            ),
        )

    services = {spec.name: service(spec) for spec in SERVICES}
    # The app assigns idle pool channels to creators: it starts and stops them (R5.6).
    streaming.live.grant_channel_control(services[WEB.name].task_role_name)
    return Compute(registry=registry, cluster=cluster, services=services)
