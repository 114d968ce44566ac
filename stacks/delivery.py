"""The `delivery` stack: what the account shares across environments.

- The release pipeline (R8): one for the account, because a release moves
  through staging into production; it belongs to neither environment's stack
  (docs/decisions/0007-one-release-pipeline-in-a-delivery-stack.md), and so the
  environments keep the same shape.
- Activation of the cost-allocation tags (R10.7), an account-wide billing
  setting, only when `delivery.activate_cost_allocation_tags` is on (decision 0023).

Applied after the environments: it deploys into their ECS services, and AWS
activates only tag keys it has already seen on resources.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from environments.config import PROJECT, EnvironmentConfig
from modules.alerts import Alerts, AlertsConfig
from modules.cost import CostAllocationTags
from modules.ecs_service import RELEASE_VARIABLE, release_parameter_name
from modules.kms_key import KmsKey, KmsKeyConfig
from modules.naming import Names
from modules.pipeline import DeployTarget, Pipeline, PipelineConfig
from modules.providers import Providers, ProvidersConfig
from modules.remote_state import StateStore, use_remote_state
from stacks.base import PlatformStack
from stacks.services import IMAGES, public_endpoints
from stacks.tags import COST_ALLOCATION_TAG_KEYS, cost_tags


def deploy_target(config: EnvironmentConfig) -> DeployTarget:
    """An environment's ECS services, ECR repositories and release parameters, by the names its stack gives them."""
    names = Names(PROJECT, config.name)
    registry = f"{config.account_id}.dkr.ecr.{config.region}.amazonaws.com"
    return DeployTarget(
        environment=config.name,
        cluster_name=names("cluster"),
        services={image: names(image) for image in IMAGES},
        containers={image: image for image in IMAGES},
        repository_urls={image: f"{registry}/{names(image)}" for image in IMAGES},
        release_parameters={image: release_parameter_name(names, image) for image in IMAGES},
        role_name_prefix=f"{names.prefix}-",
        release_variable=RELEASE_VARIABLE,
        smoke_urls=tuple(endpoint.url for endpoint in public_endpoints(config.domain)),
    )


class DeliveryStack(PlatformStack):
    def __init__(self, scope: Construct, staging: EnvironmentConfig, prod: EnvironmentConfig, state: StateStore) -> None:
        super().__init__(scope, "delivery")
        assert prod.delivery is not None  # the config refuses a prod without it
        names = Names(PROJECT, "delivery")
        use_remote_state(self, state, key="delivery/terraform.tfstate")
        Providers(
            self,
            "providers",
            ProvidersConfig(account_id=prod.account_id, region=prod.region, replica_region=prod.replica_region,
                            tags=cost_tags(prod, environment="shared")),
        )
        key = KmsKey(
            self,
            "key",
            KmsKeyConfig(
                alias=names("pipeline"),
                description=f"{names.prefix}: pipeline artifacts, build logs, approval notices, the Sentry token",
                account_id=prod.account_id,
                service_principals={
                    f"logs.{prod.region}.amazonaws.com": {
                        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{prod.region}:{prod.account_id}:*"}
                    },
                    "sns.amazonaws.com": {"StringEquals": {"aws:SourceAccount": prod.account_id}},
                },
            ),
        )
        approvals = Alerts(
            self,
            "approvals",
            AlertsConfig(name=names("approvals"), account_id=prod.account_id, kms_key_arn=key.arn,
                         emails=tuple(prod.alert_emails)),
        )
        self.pipeline = Pipeline(
            self,
            "pipeline",
            PipelineConfig(
                names=names,
                account_id=prod.account_id,
                region=prod.region,
                repository=prod.delivery.repository,
                images=IMAGES,
                release_branch=prod.delivery.release_branch,
                kms_key_arn=key.arn,
                approval_topic_arn=approvals.topic_arn,
                staging=deploy_target(staging),
                production=deploy_target(prod),
                sentry_org=prod.delivery.sentry_org,
                sentry_project=prod.delivery.sentry_project,
            ),
        )
        if prod.delivery.activate_cost_allocation_tags:
            CostAllocationTags(self, "cost_allocation_tags", COST_ALLOCATION_TAG_KEYS)
        # What operators read with `terraform output -raw <name>` after the apply (README, "Delivery").
        for name, value, description in (
            ("github_connection_arn", self.pipeline.connection_arn,
             "CodeStar connection to GitHub: created PENDING, complete its handshake once in the console"),
            ("release_pipeline_name", self.pipeline.release_name, "The release pipeline: staging, approval, production"),
            ("pull_requests_pipeline_name", self.pipeline.pull_requests_name, "The pipeline testing pull requests"),
            ("approvals_topic_arn", approvals.topic_arn, "SNS topic asking for the production approval (e-mails)"),
            ("artifact_bucket_name", self.pipeline.artifact_bucket.name, "S3 bucket of pipeline artifacts"),
            ("sentry_auth_token_secret_arn", self.pipeline.sentry_token.arn,
             "Secret to put the Sentry auth token in (source maps, R7.7); builds skip the upload while it is empty"),
        ):
            TerraformOutput(self, name, value=value, description=description)
