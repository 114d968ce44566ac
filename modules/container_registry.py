"""ECR: one private repository per image the platform runs (R1.1, R1.2, R8.5).

Tags are immutable (a tag names one build forever; the earlier attempt ran
`latest`), images are scanned on push and encrypted with the pipeline key, and
a lifecycle policy keeps the registry from growing without bound while keeping
enough releases to roll back to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from constructs import Construct

from modules.context import StackContext


@dataclass(frozen=True)
class ContainerRegistryConfig:
    images: Sequence[str]  # "web", "websocket"
    keep_releases: int  # tagged images kept per repository: the rollback window
    untagged_days: int = 7


@dataclass(frozen=True)
class Repository:
    name: str
    url: str
    arn: str


class ContainerRegistry(Construct):
    """Exposes `repositories`: image name -> Repository(name, url, arn)."""

    def __init__(self, scope: Construct, id: str, config: ContainerRegistryConfig) -> None:
        super().__init__(scope, id)
        context = StackContext.of(self)
        self.repositories: dict[str, Repository] = {}
        for image in config.images:
            repository = EcrRepository(
                self,
                image,
                name=context.names(image),
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
                encryption_configuration=[
                    EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=context.keys.pipeline.arn)
                ],
            )
            EcrLifecyclePolicy(self, f"{image}_lifecycle", repository=repository.name, policy=_lifecycle(config))
            self.repositories[image] = Repository(name=repository.name, url=repository.repository_url,
                                                  arn=repository.arn)


def _lifecycle(config: ContainerRegistryConfig) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "Expire untagged layers left by builds",
                    "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                  "countNumber": config.untagged_days},
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the last {config.keep_releases} releases to roll back to",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                  "countNumber": config.keep_releases},
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )
