"""The web application firewall (R6.1): one web ACL for the load balancer, one for CloudFront.

Both ACLs run the same rules, in order: a per-client-IP rate limit, AWS's IP
reputation list, the anonymous-IP list (count only: docs/decisions, "anonymous IP list"),
the common rule set, a block of bodies over 8 KB except on the paths that need them,
known bad inputs (Log4j and friends) and SQL injection.
Every request is logged to a KMS-encrypted log group whose name starts with
`aws-waf-logs-` (WAF refuses any other), with credentials redacted.

Bodies over 8 KB (docs/decisions/0019-waf-large-bodies.md): the common rule set's
SizeRestrictions_BODY only counts, which leaves its label on the request; the next rule
blocks that label unless the path is one of `large_body_paths`. Body rules inspect only the
first 8 KB at the load balancer (fixed) and 16 KB at CloudFront (the default,
`association_config` could raise it for a fee), so a larger body is let through only where
its sender is authenticated by other means.

The CLOUDFRONT-scope ACL and its log group must live in us-east-1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionCount,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from modules.context import StackContext
from modules.log_group import log_group

# (rule group, blocks?) in evaluation order after the rate limit.
MANAGED_RULE_GROUPS = (
    ("AWSManagedRulesAmazonIpReputationList", True),
    ("AWSManagedRulesAnonymousIpList", False),  # count only: VPN and Tor users are customers too (decision record)
    ("AWSManagedRulesCommonRuleSet", True),
    ("AWSManagedRulesKnownBadInputsRuleSet", True),
    ("AWSManagedRulesSQLiRuleSet", True),
)
# Session cookies and bearer tokens never reach the logs.
REDACTED_HEADERS = ("authorization", "cookie")
CORE_RULE_SET = "AWSManagedRulesCommonRuleSet"
BODY_SIZE_RULE = "SizeRestrictions_BODY"
BODY_SIZE_LABEL = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"


@dataclass(frozen=True)
class WafConfig:
    rate_limit_per_ip: int  # requests per 5 minutes
    # Requests whose body may exceed 8 KB, by exact path: only where the sender is authenticated by other means.
    large_body_paths: Sequence[str]


class Waf(Construct):
    """Exposes `regional_web_acl_arn` (for the load balancer) and `cloudfront_web_acl_arn` (for distributions)."""

    def __init__(self, scope: Construct, id: str, config: WafConfig) -> None:
        super().__init__(scope, id)
        self._config = config
        context = StackContext.of(self)
        self._names = context.names
        # CloudFront's web ACL and its logs live in us-east-1.
        self.regional_web_acl_arn = self._web_acl("regional", "REGIONAL", context.keys.logs.arn, None)
        self.cloudfront_web_acl_arn = self._web_acl("cloudfront", "CLOUDFRONT", context.keys.edge_logs.arn,
                                                    context.providers.us_east_1)

    def _web_acl(self, id: str, scope: str, logs_kms_key_arn: str, provider: AwsProvider | None) -> str:
        names = self._names
        name = names(id)

        def visibility(metric: str) -> dict:
            return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}

        # CloudFront sees the client. Behind CloudFront the load balancer sees edge addresses shared by many
        # users, so the regional ACL counts the client address CloudFront forwards; a request without one
        # (a direct client) is left to the other rules rather than counted against a shared address.
        per_client = ({"aggregate_key_type": "IP"} if scope == "CLOUDFRONT" else
                      {"aggregate_key_type": "FORWARDED_IP",
                       "forwarded_ip_config": {"header_name": "X-Forwarded-For", "fallback_behavior": "NO_MATCH"}})
        rules = [
            Wafv2WebAclRule(
                name="rate-limit-per-ip",
                priority=0,
                action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                statement={"rate_based_statement": {"limit": self._config.rate_limit_per_ip, **per_client}},
                visibility_config=Wafv2WebAclRuleVisibilityConfig(**visibility(f"{name}-rate-limit-per-ip")),
            )
        ]
        for group, blocks in MANAGED_RULE_GROUPS:
            override = (Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()) if blocks
                        else Wafv2WebAclRuleOverrideAction(count=Wafv2WebAclRuleOverrideActionCount()))
            statement: dict = {"name": group, "vendor_name": "AWS"}
            if group == CORE_RULE_SET:
                statement["rule_action_override"] = [{"name": BODY_SIZE_RULE, "action_to_use": {"count": {}}}]
            rules.append(
                Wafv2WebAclRule(
                    name=group,
                    priority=len(rules),
                    override_action=override,
                    statement={"managed_rule_group_statement": statement},
                    visibility_config=Wafv2WebAclRuleVisibilityConfig(**visibility(f"{name}-{group}")),
                )
            )
            if group == CORE_RULE_SET:
                rules.append(
                    Wafv2WebAclRule(
                        name="oversize-body-outside-large-body-paths",
                        priority=len(rules),
                        action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                        statement=_oversize_body_outside(self._config.large_body_paths),
                        visibility_config=Wafv2WebAclRuleVisibilityConfig(**visibility(f"{name}-oversize-body")),
                    )
                )
        acl = Wafv2WebAcl(
            self,
            f"{id}_acl",
            name=name,
            description=f"{names.prefix}: {scope.lower()} web ACL",
            scope=scope,
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(**visibility(name)),
            provider=provider,
        )
        logs = log_group(self, f"{id}_log_group", f"aws-waf-logs-{name}", logs_kms_key_arn, provider=provider)
        Wafv2WebAclLoggingConfiguration(
            self,
            f"{id}_logging",
            resource_arn=acl.arn,
            log_destination_configs=[logs.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in REDACTED_HEADERS
            ],
            provider=provider,
        )
        return acl.arn


def _oversize_body_outside(large_body_paths: Sequence[str]) -> dict:
    """Labelled over 8 KB by the common rule set, and the path is none of `large_body_paths`.

    One regex matches every path without an OR level below the NOT (the provider nests statements three deep).
    """
    exact_paths = "^(" + "|".join(re.escape(path) for path in large_body_paths) + ")$"
    return {"and_statement": {"statement": [
        {"label_match_statement": {"scope": "LABEL", "key": BODY_SIZE_LABEL}},
        {"not_statement": {"statement": [{"regex_match_statement": {
            "regex_string": exact_paths,
            "field_to_match": {"uri_path": {}},
            "text_transformation": [{"priority": 0, "type": "NONE"}],
        }}]}},
    ]}}
