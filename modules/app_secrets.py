"""The application's auth and third-party secrets in Secrets Manager, one secret per variable.

Each secret holds the bare value the app reads from its environment variable (not JSON),
so an ECS task definition maps `NAME` to the secret's ARN and the app receives the value
as is. Names follow the per-environment path the app already uses
(`/directfanz/<env>/app/<NAME>`); every secret is encrypted with the secrets key.

Terraform creates the secrets, never their values: values are put once by an operator
(docs/secrets.md), so they are not in Terraform state or plans. DATABASE_URL and
REDIS_URL belong to the data tier, which knows the endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

from modules.context import StackContext

# Variable -> what it is (the secret's description).
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


@dataclass(frozen=True)
class AppSecretsConfig:
    # 0 deletes at once, so that a re-created environment can reuse the names (docs/decisions, "secret recovery windows").
    recovery_window_days: int


class AppSecrets(Construct):
    """Exposes `arns`: environment variable name -> secret ARN."""

    def __init__(self, scope: Construct, id: str, config: AppSecretsConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        names = context.names
        self.arns = {
            variable: SecretsmanagerSecret(
                self,
                variable.lower(),
                name=names.path("app", variable),
                description=f"{names.prefix}: {description} ({variable})",
                kms_key_id=context.keys.secrets.arn,
                recovery_window_in_days=config.recovery_window_days,
            ).arn
            for variable, description in APP_SECRETS.items()
        }
