"""The application's catalogue: what DirectFanz runs and what it asks of the platform.

Everything the stacks know about the app is here, once: its two services (image, port, health path, the host
names routed to them, sizing, settings, secrets, the paths they write), its secrets, the names users type, the
public endpoints checked from outside, and the settings every task gets (NextAuth, Redis cluster mode,
OpenTelemetry). The load balancer routes, the ECS services, the security groups, tracing, the canaries and the
release pipeline read it; the modules stay generic. A new service is one more `ServiceSpec` in `SERVICES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from environments.config import EnvironmentConfig, ServiceSizing
from modules.canaries import PublicEndpoint
from modules.content_storage import ContentStorage
from modules.dns import fqdn
from modules.ecs_service import OTLP_HTTP_ENDPOINT
from modules.naming import Names
from modules.tracing import SAMPLER_ENVIRONMENT

# The names users type (R9.4), as labels under the environment's domain ('' is the apex).
APP_HOSTS = ("", "www", "app", "api")  # the web app, through the app distribution
API_HOST = "api"  # balanced by weight in DNS (R9.6)
WEBSOCKET_HOST = "ws"  # straight to the load balancer, failing over to the maintenance page (R9.3)
MEDIA_HOST = "media"  # user content, through signed URLs
LIVE_HOST = "live"  # live HLS and VOD
# Every name but the apex: the certificates' alternative names.
PUBLIC_HOSTS = (*(host for host in APP_HOSTS if host), WEBSOCKET_HOST, MEDIA_HOST, LIVE_HOST)
UPLOAD_HOSTS = ("", "www")  # the pages that upload to S3 directly (CORS)
# Requests whose body may exceed WAF's 8 KB (docs/decisions/0019): Stripe's signed event payloads (an invoice with
# its line items) outgrow it; the app checks their signature over the whole body.
LARGE_BODY_PATHS = ("/api/payments/webhooks",)
STATIC_ASSETS_PATH = "/_next/static/*"  # Next.js's hashed assets, served from the static bucket

# Variable -> what it is (the secret's description); the values are put by an operator (docs/secrets.md).
APP_SECRETS = {
    "NEXTAUTH_SECRET": "NextAuth.js session signing secret",
    "JWT_SECRET": "signing secret of the app's JSON Web Tokens",
    "ENCRYPTION_KEY": "key the app encrypts sensitive fields with",
    "STRIPE_SECRET_KEY": "Stripe API secret key",
    "STRIPE_WEBHOOK_SECRET": "Stripe webhook signing secret",
    "STRIPE_PUBLISHABLE_KEY": "Stripe publishable key",
    "SENDGRID_API_KEY": "SendGrid API key",
    "SENTRY_DSN": "Sentry DSN",
    "OPENAI_API_KEY": "OpenAI API key",
}
# The data tier's secrets, written by the data bootstrap (docs/runbooks/data-bootstrap.md).
DATA_SECRETS = ("DATABASE_URL", "REDIS_URL")


@dataclass(frozen=True)
class AppPlatform:
    """What the services' settings are made of, from the tiers built before compute."""

    config: EnvironmentConfig
    names: Names
    content: ContentStorage
    live_channel_ids: Sequence[str]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    description: str  # what its tasks are (their security group says so)
    dockerfile: str  # in the application repository
    port: int
    health_path: str  # shallow: the service itself, never its database or Redis
    hosts: tuple[str, ...]  # labels the load balancer routes to it
    route_priority: int  # of its production listener rule
    # Each variable's secret: an APP_SECRETS or DATA_SECRETS name (the whole secret is the value).
    secrets: Mapping[str, str]
    # Its own plain settings, on top of the ones every service gets (`environment`).
    settings: Callable[[AppPlatform], Mapping[str, str]]
    # The X-Ray sampling rule that never traces its health checks: (construct id, name), as first deployed.
    health_trace_rule: tuple[str, str]
    sticky: bool = False  # every request of a session on one task (Socket.IO long polling)
    deregistration_delay: int = 30
    writable_paths: tuple[str, ...] = ("/tmp",)  # the root filesystem is read-only
    uses_content: bool = False  # its task role reads and writes the content buckets

    def sizing(self, config: EnvironmentConfig) -> ServiceSizing:
        """Its task size and bounds in this environment: `[compute.<name>]` of the environment's TOML."""
        sizing: ServiceSizing = getattr(config.compute, self.name)
        return sizing


def _web_settings(platform: AppPlatform) -> dict[str, str]:
    config, content = platform.config, platform.content
    return {
        "AWS_S3_BUCKET_NAME": content.content_bucket.name,
        "STREAMING_RECORDINGS_BUCKET": content.recordings_bucket.name,
        "VOD_CONTENT_BUCKET": content.vod_bucket.name,
        "CLOUDFRONT_DOMAIN": fqdn(MEDIA_HOST, config.domain),
        "FROM_EMAIL": f"no-reply@{config.domain}",
        # The app assigns idle pool channels to creators and signs playback URLs for the live host.
        "MEDIALIVE_CHANNEL_ID": ",".join(platform.live_channel_ids),
        "CLOUDFRONT_STREAMING_DOMAIN": fqdn(LIVE_HOST, config.domain),
    }


WEB = ServiceSpec(
    name="web",
    description="Next.js web tasks",
    dockerfile="Dockerfile",
    port=3000,
    health_path="/api/health",
    hosts=APP_HOSTS,
    route_priority=200,
    # The browser's Sentry DSN is the server's.
    secrets={**{name: name for name in (*APP_SECRETS, *DATA_SECRETS)}, "NEXT_PUBLIC_SENTRY_DSN": "SENTRY_DSN"},
    settings=_web_settings,
    health_trace_rule=("health_checks", "health"),
    # Next.js writes its image and ISR cache.
    writable_paths=("/tmp", "/app/.next/cache"),
    uses_content=True,
)
WEBSOCKET = ServiceSpec(
    name="websocket",
    description="WebSocket tasks",
    dockerfile="Dockerfile.websocket",
    port=3001,
    health_path="/health",
    hosts=(WEBSOCKET_HOST,),
    route_priority=100,
    secrets={name: name for name in ("NEXTAUTH_SECRET", "JWT_SECRET", "SENTRY_DSN", *DATA_SECRETS)},
    settings=lambda platform: {},
    health_trace_rule=("websocket_health", "ws-health"),
    sticky=True,
    deregistration_delay=60,
)
SERVICES = (WEB, WEBSOCKET)
# Image -> the Dockerfile that builds it: the release pipeline builds one image per service.
IMAGES = {service.name: service.dockerfile for service in SERVICES}


def environment(service: ServiceSpec, platform: AppPlatform) -> dict[str, str]:
    """A service's plain settings (never a secret): what every task gets, then its own."""
    config = platform.config
    app_url = f"https://{config.domain}"
    return {
        "NODE_ENV": "production",
        "AWS_REGION": config.region,
        "HOSTNAME": "0.0.0.0",
        "NEXTAUTH_URL": app_url,
        "NEXT_PUBLIC_APP_URL": app_url,
        "REDIS_CLUSTER_MODE": "true",
        "SENTRY_ENVIRONMENT": config.name,  # R7.7: errors carry environment and release (the service adds it)
        # The collector sidecar receives OTLP here; the app samples by X-Ray's rules.
        "OTEL_EXPORTER_OTLP_ENDPOINT": OTLP_HTTP_ENDPOINT,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        **SAMPLER_ENVIRONMENT,
        **service.settings(platform),
        "PORT": str(service.port),
        "OTEL_SERVICE_NAME": platform.names(service.name),
    }


def public_endpoints(domain: str) -> tuple[PublicEndpoint, ...]:
    """The shallow checks users depend on, and the deep ones (database, Redis) the load balancer must not use."""
    api_health = f"https://{fqdn(API_HOST, domain)}{WEB.health_path}"
    return (
        PublicEndpoint("web", f"https://{fqdn('www', domain)}{WEB.health_path}"),
        PublicEndpoint("api", api_health),
        PublicEndpoint("websocket", f"https://{fqdn(WEBSOCKET_HOST, domain)}{WEBSOCKET.health_path}"),
        PublicEndpoint("database", f"{api_health}/db"),
        PublicEndpoint("redis", f"{api_health}/redis"),
    )
