"""The platform's public endpoints, checked from outside: a CloudWatch Synthetics canary each (R12.7).

The same endpoints are the release pipeline's smoke test. Each canary runs
`canary/nodejs/node_modules/endpoint.js` (one HTTPS request, no browser), from
a zip built byte-identically at synth; its SuccessPercent metric is what the
availability alarms (modules/alarms.py) hold to 99.9 %. Run artifacts go to a
KMS-encrypted bucket and expire after 30 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
)
from cdktf_cdktf_provider_aws.synthetics_canary import (
    SyntheticsCanary,
    SyntheticsCanaryArtifactConfig,
    SyntheticsCanaryArtifactConfigS3Encryption,
    SyntheticsCanaryRunConfig,
    SyntheticsCanarySchedule,
)
from constructs import Construct

from modules.context import StackContext
from modules.iam import policy_document, service_trust
from modules.lambda_package import lambda_package
from modules.secure_bucket import SecureBucket, SecureBucketConfig

CANARY_CODE = Path(__file__).resolve().parent.parent / "canary"
# Node.js 22 with the @aws/synthetics-* namespaces; the script itself needs only fetch.
RUNTIME_VERSION = "syn-nodejs-puppeteer-15.0"
ARTIFACT_DAYS = 30


@dataclass(frozen=True)
class PublicEndpoint:
    name: str
    url: str


@dataclass(frozen=True)
class CanariesConfig:
    endpoints: Sequence[PublicEndpoint]  # a canary each
    interval_minutes: int
    log_bucket: SecureBucket  # S3 access logs of the artifact bucket


class Canaries(Construct):
    """Exposes `canary_names` {endpoint: canary name}."""

    def __init__(self, scope: Construct, id: str, config: CanariesConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        names, account = context.names, context.account_id
        artifacts_key = context.keys.logs.arn
        artifacts = SecureBucket(
            self,
            "artifacts",
            SecureBucketConfig(
                name=names("canary-artifacts", account, limit=63),
                kms_key_arn=artifacts_key,
                log_bucket=config.log_bucket,
                noncurrent_version_days=1,
                force_destroy=True,  # screenshots and logs of past runs: nothing to keep on destroy
                extra_lifecycle_rules=[
                    S3BucketLifecycleConfigurationRule(
                        id="expire-run-artifacts",
                        status="Enabled",
                        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                        expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=ARTIFACT_DAYS)],
                    )
                ],
            ),
        )
        role = IamRole(self, "role", name=names("canaries"),
                       assume_role_policy=service_trust("lambda.amazonaws.com",
                                                        conditions={"StringEquals": {"aws:SourceAccount": account}}))
        IamRolePolicy(
            self,
            "policy",
            role=role.id,
            policy=policy_document([
                {"Sid": "Artifacts", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{artifacts.arn}/*"},
                {"Sid": "ArtifactBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": artifacts.arn},
                {"Sid": "ListBuckets", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
                {"Sid": "ArtifactKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                 "Resource": artifacts_key},
                {"Sid": "Logs", "Effect": "Allow",
                 "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                 "Resource": f"arn:aws:logs:{context.region}:{account}:log-group:/aws/lambda/cwsyn-*"},
                {"Sid": "Metrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
                 "Condition": {"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}}},
            ]),
        )
        package = lambda_package(self, "code", CANARY_CODE)
        rate = "rate(1 minute)" if config.interval_minutes == 1 else f"rate({config.interval_minutes} minutes)"
        self.canary_names: dict[str, str] = {}
        for endpoint in config.endpoints:
            canary = SyntheticsCanary(
                self,
                endpoint.name,
                name=names("canary", endpoint.name),
                runtime_version=RUNTIME_VERSION,
                handler="endpoint.handler",
                zip_file=package.filename,
                execution_role_arn=role.arn,
                artifact_s3_location=f"s3://{artifacts.name}/{endpoint.name}/",
                artifact_config=SyntheticsCanaryArtifactConfig(
                    s3_encryption=SyntheticsCanaryArtifactConfigS3Encryption(
                        encryption_mode="SSE_KMS", kms_key_arn=artifacts_key)
                ),
                schedule=SyntheticsCanarySchedule(expression=rate),
                run_config=SyntheticsCanaryRunConfig(timeout_in_seconds=30,
                                                     environment_variables={"ENDPOINT_URL": endpoint.url}),
                success_retention_period=ARTIFACT_DAYS,
                failure_retention_period=ARTIFACT_DAYS,
                start_canary=True,
            )
            self.canary_names[endpoint.name] = canary.name
