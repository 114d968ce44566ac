"""One environment's stack: the platform's tiers, each built by a function in `stacks/tiers/`.

Tiers come in dependency order, and each returns a frozen record of what later tiers need:
foundation (the stack context, network, security groups, WAF, DNS zone, certificates, app secrets), data,
edge and content, streaming, compute, observability, outputs. Streaming comes before compute, so each
service is built once with everything it needs. What the app is (its services, hosts, settings and secrets)
is in `stacks/services.py`.
"""

from __future__ import annotations

from constructs import Construct

from environments.config import EnvironmentConfig
from modules.remote_state import StateStore, use_remote_state
from stacks.base import PlatformStack
from stacks.tiers.compute import build_compute
from stacks.tiers.data import build_data
from stacks.tiers.edge import build_edge
from stacks.tiers.foundation import build_foundation
from stacks.tiers.observability import build_observability
from stacks.tiers.outputs import build_outputs
from stacks.tiers.streaming import build_streaming


class EnvironmentStack(PlatformStack):
    """Exposes `config` and `tracing`."""

    def __init__(self, scope: Construct, config: EnvironmentConfig, state: StateStore) -> None:
        super().__init__(scope, config.name)
        self.config = config
        use_remote_state(self, state, key=f"{config.name}/terraform.tfstate")
        foundation = build_foundation(self, config)
        data = build_data(self, config, foundation)
        edge = build_edge(self, config, foundation)
        streaming = build_streaming(self, config, foundation, edge)
        compute = build_compute(self, config, foundation, data, edge, streaming)
        self.tracing = build_observability(self, config, foundation, data, edge, streaming, compute).tracing
        build_outputs(self, foundation, data, edge, streaming, compute)
