"""The application's auth and third-party secrets in Secrets Manager, one secret per variable (which variables:
the app's catalogue, `APP_SECRETS` in stacks/services.py).

Each secret holds the bare value the app reads from its environment variable (not JSON),
so an ECS task definition maps `NAME` to the secret's ARN and the app receives the value
as is. Names follow the per-environment path the app already uses
(`/directfanz/<env>/app/<NAME>`); every secret is encrypted with the secrets key.

Terraform creates the secrets, never their values: values are put once by an operator
(docs/secrets.md), so they are not in Terraform state or plans. DATABASE_URL and
REDIS_URL belong to the data tier, which knows the endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

from modules.context import StackContext


@dataclass(frozen=True)
class AppSecretsConfig:
    secrets: Mapping[str, str]  # variable -> what it is (the secret's description)
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
            for variable, description in config.secrets.items()
        }
