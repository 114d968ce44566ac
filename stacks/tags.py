"""The cost-allocation tags every resource carries (R10.7), through provider default tags."""

from __future__ import annotations

from environments.config import PROJECT, EnvironmentConfig

COST_ALLOCATION_TAG_KEYS = ("Project", "Environment", "Owner", "CostCenter", "ManagedBy")


def cost_tags(config: EnvironmentConfig, environment: str | None = None) -> dict[str, str]:
    return {
        "Project": PROJECT,
        "Environment": environment or config.name,
        "Owner": config.owner,
        "CostCenter": config.cost_center,
        "ManagedBy": "terraform-cdktf",
    }
