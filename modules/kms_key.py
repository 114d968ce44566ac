"""One customer-managed KMS key with rotation, an alias and a policy that names its users."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey as KmsKeyResource
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules.iam import Statement, policy_document


class DecryptGrantee(Protocol):
    """A user of a key that exists only after it (a CloudFront distribution), and names itself in a statement."""

    def decrypt_statement(self) -> Statement: ...


@dataclass(frozen=True)
class KmsKeyConfig:
    alias: str  # without the "alias/" prefix
    description: str
    account_id: str
    # Services allowed to use the key, each with the condition that scopes it to this account
    # (CloudWatch Logs, for one, sends an encryption context rather than aws:SourceAccount).
    service_principals: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    extra_statements: Sequence[Statement] = field(default_factory=tuple)
    multi_region: bool = False
    prevent_destroy: bool = False


class KmsKey(Construct):
    """Exposes `arn`, `key_id` and `alias_arn`."""

    def __init__(self, scope: Construct, id: str, config: KmsKeyConfig, provider: AwsProvider | None = None) -> None:
        super().__init__(scope, id)
        root = f"arn:aws:iam::{config.account_id}:root"
        statements: list[Statement] = [
            {
                # Key administration stays with the account's IAM policies, never with '*'.
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
        for service, condition in sorted(config.service_principals.items()):
            statements.append(
                {
                    "Sid": "Service" + "".join(part.title() for part in service.split(".")[0].split("-")),
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                    "Resource": "*",
                    "Condition": dict(condition),
                }
            )
        statements.extend(config.extra_statements)
        self._statements = statements
        self.key = KmsKeyResource(
            self,
            "key",
            description=config.description,
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=30,
            multi_region=config.multi_region,
            policy=policy_document(statements),
            provider=provider,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if config.prevent_destroy else None,
        )
        self.alias = KmsAlias(self, "alias", name=f"alias/{config.alias}", target_key_id=self.key.key_id, provider=provider)
        self.arn = self.key.arn
        self.key_id = self.key.key_id
        self.alias_arn = self.alias.arn

    def grant(self, statement: Statement) -> None:
        """Grant a user that exists only after the key (a role, a service for one resource) what `statement` says."""
        self._statements.append(statement)
        self.key.policy = policy_document(self._statements)

    def grant_decrypt(self, grantee: DecryptGrantee) -> None:
        """Let `grantee` read what this key encrypts (a distribution serving an encrypted bucket)."""
        self.grant(grantee.decrypt_statement())
