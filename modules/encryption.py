"""Customer-managed KMS keys, one per data class (R6.4).

A key per class keeps blast radius and key policies small: the database key
is usable by RDS and Backup only, the logs key by CloudWatch Logs, and so on.
Modules take the key of their class from the stack context
(`StackContext.of(self).keys.<class>.arn`) and add statements for their own
users with `keys.<class>.grant(...)` (`grant_decrypt(distribution)`).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules.kms_key import KmsKey, KmsKeyConfig
from modules.naming import Names


@dataclass(frozen=True)
class EncryptionKeysConfig:
    names: Names
    account_id: str
    region: str
    replica_region: str


class EncryptionKeys(Construct):
    """Exposes one `KmsKey` per data class, `replica` in the second region, and `edge_logs` in us-east-1
    (the `logs` key itself when the primary region is us-east-1)."""

    def __init__(self, scope: Construct, id: str, config: EncryptionKeysConfig, replica_provider: AwsProvider,
                 us_east_1_provider: AwsProvider) -> None:
        super().__init__(scope, id)
        region, account = config.region, config.account_id
        same_account = {"StringEquals": {"aws:SourceAccount": account}}

        def key(name: str, description: str, services: tuple[str, ...] = (), provider: AwsProvider | None = None,
                prevent_destroy: bool = False, conditions: dict | None = None) -> KmsKey:
            return KmsKey(
                self,
                name,
                KmsKeyConfig(
                    alias=config.names(name),
                    description=f"{config.names.prefix}: {description}",
                    account_id=config.account_id,
                    service_principals={service: (conditions or {}).get(service, same_account) for service in services},
                    prevent_destroy=prevent_destroy,
                ),
                provider=provider,
            )

        self.database = key("database", "RDS PostgreSQL storage, snapshots and Performance Insights",
                            prevent_destroy=True)
        self.cache = key("cache", "ElastiCache data at rest and snapshots")
        self.content = key("content", "user content, static assets, recordings and VOD in S3",
                           services=("cloudfront.amazonaws.com",))
        def logs_key(name: str, logs_region: str, provider: AwsProvider | None = None) -> KmsKey:
            return key(name, f"CloudWatch Logs, flow logs and CloudTrail in {logs_region}",
                       services=(f"logs.{logs_region}.amazonaws.com", "cloudtrail.amazonaws.com",
                                 "delivery.logs.amazonaws.com"),
                       provider=provider,
                       conditions={
                           f"logs.{logs_region}.amazonaws.com": {
                               "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{logs_region}:{account}:*"}
                           },
                           "cloudtrail.amazonaws.com": {
                               "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:trail/*"}
                           },
                       })

        self.logs = logs_key("logs", region)
        # CloudFront's WAF logs and Route 53 query logs can only go to log groups in us-east-1.
        self.edge_logs = self.logs if region == "us-east-1" else logs_key("edge_logs", "us-east-1", us_east_1_provider)
        self.secrets = key("secrets", "Secrets Manager secrets and SSM parameters")
        self.backups = key("backups", "AWS Backup vault", services=("backup.amazonaws.com",))
        self.pipeline = key("pipeline", "CodePipeline artifacts, CodeBuild and ECR images",
                            services=("codepipeline.amazonaws.com", "codebuild.amazonaws.com"))
        messaging_services = ("sns.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com",
                              "budgets.amazonaws.com", "costalerts.amazonaws.com")
        self.messaging = key("messaging", "SNS alert topics and EventBridge targets", services=messaging_services)
        # Alarms on CloudFront and Route 53 metrics live in us-east-1 and need a topic (and key) there.
        self.edge_messaging = self.messaging if region == "us-east-1" else key(
            "edge_messaging", "SNS alert topic for us-east-1 alarms", services=messaging_services,
            provider=us_east_1_provider)
        # Replicated content and backup copies in the second region are encrypted there.
        self.replica = key("replica", f"replicas of content and backups in {config.replica_region}",
                           services=("backup.amazonaws.com",), provider=replica_provider)
