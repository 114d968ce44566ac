"""The platform's public endpoints, checked from outside: by the release's smoke tests and by canaries (R12.7)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublicEndpoint:
    name: str
    url: str


def public_endpoints(domain: str) -> tuple[PublicEndpoint, ...]:
    """The shallow checks users depend on, and the deep ones (database, Redis) the load balancer must not use."""
    return (
        PublicEndpoint("web", f"https://www.{domain}/api/health"),
        PublicEndpoint("api", f"https://api.{domain}/api/health"),
        PublicEndpoint("websocket", f"https://ws.{domain}/health"),
        PublicEndpoint("database", f"https://api.{domain}/api/health/db"),
        PublicEndpoint("redis", f"https://api.{domain}/api/health/redis"),
    )
