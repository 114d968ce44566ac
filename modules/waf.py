"""The web application firewall (R6.1): one web ACL for the load balancer, one for CloudFront.

Both ACLs run the same rules, in order: a per-client-IP rate limit, AWS's IP
reputation list, the anonymous-IP list (count only: docs/decisions, "anonymous IP list"),
the common rule set, known bad inputs (Log4j and friends) and SQL injection.
Every request is logged to a KMS-encrypted log group whose name starts with
`aws-waf-logs-` (WAF refuses any other), with credentials redacted.

The CLOUDFRONT-scope ACL and its log group must live in us-east-1.
"""

from __future__ import annotations

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

from modules.log_group import log_group
from modules.naming import Names

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


@dataclass(frozen=True)
class WafConfig:
    names: Names
    rate_limit_per_ip: int  # requests per 5 minutes
    regional_logs_kms_key_arn: str
    cloudfront_logs_kms_key_arn: str  # a key in us-east-1


class Waf(Construct):
    """Exposes `regional_web_acl_arn` (for the load balancer) and `cloudfront_web_acl_arn` (for distributions)."""

    def __init__(self, scope: Construct, id: str, config: WafConfig, us_east_1: AwsProvider) -> None:
        super().__init__(scope, id)
        self._config = config
        self.regional_web_acl_arn = self._web_acl("regional", "REGIONAL", config.regional_logs_kms_key_arn, None)
        self.cloudfront_web_acl_arn = self._web_acl("cloudfront", "CLOUDFRONT", config.cloudfront_logs_kms_key_arn,
                                                    us_east_1)

    def _web_acl(self, id: str, scope: str, logs_kms_key_arn: str, provider: AwsProvider | None) -> str:
        names = self._config.names
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
        for priority, (group, blocks) in enumerate(MANAGED_RULE_GROUPS, start=1):
            override = (Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()) if blocks
                        else Wafv2WebAclRuleOverrideAction(count=Wafv2WebAclRuleOverrideActionCount()))
            rules.append(
                Wafv2WebAclRule(
                    name=group,
                    priority=priority,
                    override_action=override,
                    statement={"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}},
                    visibility_config=Wafv2WebAclRuleVisibilityConfig(**visibility(f"{name}-{group}")),
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
