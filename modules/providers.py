"""The AWS providers of an environment: its region, the replica region, and us-east-1.

Default tags on every provider put the cost-allocation tags (R10.7) on every
taggable resource without each module repeating them. `allowed_account_ids`
stops an apply in the wrong account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct


@dataclass(frozen=True)
class ProvidersConfig:
    account_id: str
    region: str
    replica_region: str
    tags: Mapping[str, str]


class Providers(Construct):
    """Exposes `primary` (default), `replica` (second region) and `us_east_1` (CloudFront, its WAF and certificates)."""

    def __init__(self, scope: Construct, id: str, config: ProvidersConfig) -> None:
        super().__init__(scope, id)

        def provider(construct_id: str, region: str, alias: str | None) -> AwsProvider:
            return AwsProvider(
                self,
                construct_id,
                region=region,
                alias=alias,
                allowed_account_ids=[config.account_id],
                default_tags=[AwsProviderDefaultTags(tags=dict(sorted(config.tags.items())))],
            )

        self.primary = provider("primary", config.region, None)
        self.replica = provider("replica", config.replica_region, "replica")
        self.us_east_1 = provider("us_east_1", "us-east-1", "us_east_1")
