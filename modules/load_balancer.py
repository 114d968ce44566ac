"""The public Application Load Balancer in front of the ECS services (R1.6).

HTTPS on 443 with a TLS 1.3 policy; port 80 only redirects. Each service is a
`Route`: its host names, a pair of target groups (blue and green, for ECS
blue/green deployments, R1.7), a production listener rule and a test listener
rule that ECS moves between them. Anything else gets a 404.

- Health checks are shallow (the service's own liveness path, never a database
  or Redis probe: one failing dependency must not take every task out of
  service) and fast: a failed task leaves the target group after
  `interval x unhealthy_threshold` seconds, so ECS can replace it within 60 s
  (R1.5; docs/autoscaling.md has the arithmetic).
- Socket.IO's long-polling transport needs every request of a session on the
  same task: WebSocket routes are sticky, and the idle timeout outlasts
  Socket.IO's ping interval plus timeout (25 + 20 s) with room to spare.
- Invalid header fields are dropped, desync mitigation is strict, access logs
  go to the log bucket, and deletion protection is on where asked (prod).
- The test listener rule answers only requests carrying `TEST_TRAFFIC_HEADER`;
  during a deployment it reaches the green tasks before production does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleActionForward,
    LbListenerRuleActionForwardTargetGroup,
    LbListenerRuleCondition,
    LbListenerRuleConditionHostHeader,
    LbListenerRuleConditionHttpHeader,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck, LbTargetGroupStickiness
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from constructs import Construct

from modules.context import StackContext
from modules.naming import LOAD_BALANCER_LIMIT
from modules.secure_bucket import SecureBucket

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"  # TLS 1.3 and 1.2 only, forward-secret ciphers
IDLE_TIMEOUT_SECONDS = 120  # > Socket.IO pingInterval + pingTimeout (45 s)
TEST_TRAFFIC_HEADER = "X-Deployment-Test"
# Target group health checks: a failed task is out after INTERVAL x UNHEALTHY_THRESHOLD seconds.
HEALTH_CHECK_INTERVAL = 5
HEALTH_CHECK_TIMEOUT = 4
HEALTHY_THRESHOLD = 2
UNHEALTHY_THRESHOLD = 2
STICKINESS_SECONDS = 86_400
# Load balancers deliver access logs from an Elastic Load Balancing account per region; regions opened
# since August 2022 use the logdelivery.elasticloadbalancing.amazonaws.com principal instead.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-south-1": "718504428378", "ap-northeast-1": "582318560864", "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ca-central-1": "985666609251", "eu-central-1": "054676820928", "eu-west-1": "156460612806",
    "eu-west-2": "652711504416", "eu-west-3": "009996457667", "eu-south-1": "635631232127",
    "eu-north-1": "897822967062", "me-south-1": "076674570225", "sa-east-1": "507241528517",
}


@dataclass(frozen=True)
class RouteConfig:
    name: str  # "web", "websocket"
    port: int
    health_check_path: str
    hosts: Sequence[str]
    priority: int  # of the production rule; the test rule takes priority - 1
    sticky: bool = False
    deregistration_delay: int = 30


@dataclass(frozen=True)
class Route:
    """What ECS and the alarms need of one service's routing."""

    blue_target_group_arn: str
    green_target_group_arn: str
    blue_arn_suffix: str
    green_arn_suffix: str
    production_rule_arn: str
    test_rule_arn: str


@dataclass(frozen=True)
class LoadBalancerConfig:
    vpc_id: str
    subnet_ids: Sequence[str]
    security_group_id: str
    log_bucket: SecureBucket
    routes: Sequence[RouteConfig]
    deletion_protection: bool
    certificate_arn: str  # ACM, in the load balancer's region
    web_acl_arn: str  # WAF, REGIONAL scope


class LoadBalancer(Construct):
    """Exposes `arn`, `arn_suffix`, `dns_name`, `zone_id`, `https_listener_arn` and `routes` {name: Route}."""

    def __init__(self, scope: Construct, id: str, config: LoadBalancerConfig) -> None:
        super().__init__(scope, id)
        self._context = context = StackContext.of(self)
        names = context.names
        self._grant_log_delivery(config)
        lb = Lb(
            self,
            "alb",
            name=names("alb", limit=LOAD_BALANCER_LIMIT),
            load_balancer_type="application",
            internal=False,
            subnets=list(config.subnet_ids),
            security_groups=[config.security_group_id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_http2=True,
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            enable_deletion_protection=config.deletion_protection,
            access_logs=LbAccessLogs(bucket=config.log_bucket.name, prefix="alb", enabled=True),
            # Elastic Load Balancing checks its write permission when access logs are enabled.
            depends_on=[config.log_bucket.policy],
        )
        LbListener(
            self,
            "http",
            load_balancer_arn=lb.arn,
            port=80,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(protocol="HTTPS", port="443", status_code="HTTP_301"),
                )
            ],
        )
        https = LbListener(
            self,
            "https",
            load_balancer_arn=lb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=config.certificate_arn,
            default_action=[
                LbListenerDefaultAction(
                    type="fixed-response",
                    fixed_response=LbListenerDefaultActionFixedResponse(
                        content_type="text/plain", message_body="Not found", status_code="404"
                    ),
                )
            ],
        )
        Wafv2WebAclAssociation(self, "waf", resource_arn=lb.arn, web_acl_arn=config.web_acl_arn)
        self.arn = lb.arn
        self.arn_suffix = lb.arn_suffix
        self.dns_name = lb.dns_name
        self.zone_id = lb.zone_id
        self.https_listener_arn = https.arn
        self.routes = {route.name: self._route(route, config, https.arn) for route in config.routes}

    def _route(self, route: RouteConfig, config: LoadBalancerConfig, listener_arn: str) -> Route:
        groups = {color: self._target_group(route, color, config) for color in ("blue", "green")}
        hosts = LbListenerRuleCondition(host_header=LbListenerRuleConditionHostHeader(values=list(route.hosts)))

        def rule(kind: str, priority: int, conditions: list[LbListenerRuleCondition]) -> LbListenerRule:
            # ECS rewrites the weights during a deployment; Terraform sets where they start.
            return LbListenerRule(
                self,
                f"{route.name}_{kind}",
                listener_arn=listener_arn,
                priority=priority,
                condition=conditions,
                action=[
                    LbListenerRuleAction(
                        type="forward",
                        forward=LbListenerRuleActionForward(
                            target_group=[
                                LbListenerRuleActionForwardTargetGroup(arn=groups["blue"].arn, weight=100),
                                LbListenerRuleActionForwardTargetGroup(arn=groups["green"].arn, weight=0),
                            ]
                        ),
                    )
                ],
                lifecycle=TerraformResourceLifecycle(ignore_changes=["action"]),
            )

        production = rule("production", route.priority, [hosts])
        test = rule(
            "test",
            route.priority - 1,
            [
                hosts,
                LbListenerRuleCondition(
                    http_header=LbListenerRuleConditionHttpHeader(http_header_name=TEST_TRAFFIC_HEADER, values=["green"])
                ),
            ],
        )
        return Route(
            blue_target_group_arn=groups["blue"].arn,
            green_target_group_arn=groups["green"].arn,
            blue_arn_suffix=groups["blue"].arn_suffix,
            green_arn_suffix=groups["green"].arn_suffix,
            production_rule_arn=production.arn,
            test_rule_arn=test.arn,
        )

    def _target_group(self, route: RouteConfig, color: str, config: LoadBalancerConfig) -> LbTargetGroup:
        return LbTargetGroup(
            self,
            f"{route.name}_{color}",
            name=self._context.names(route.name, color, limit=LOAD_BALANCER_LIMIT),
            vpc_id=config.vpc_id,
            target_type="ip",
            protocol="HTTP",
            port=route.port,
            deregistration_delay=str(route.deregistration_delay),
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                path=route.health_check_path,
                matcher="200",
                interval=HEALTH_CHECK_INTERVAL,
                timeout=HEALTH_CHECK_TIMEOUT,
                healthy_threshold=HEALTHY_THRESHOLD,
                unhealthy_threshold=UNHEALTHY_THRESHOLD,
            ),
            stickiness=LbTargetGroupStickiness(
                type="lb_cookie", enabled=route.sticky, cookie_duration=STICKINESS_SECONDS
            ),
        )

    def _grant_log_delivery(self, config: LoadBalancerConfig) -> None:
        account = ELB_LOG_ACCOUNTS.get(self._context.region)
        principal = {"AWS": f"arn:aws:iam::{account}:root"} if account else {
            "Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
        config.log_bucket.grant(
            {
                "Sid": "LoadBalancerAccessLogs",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:PutObject",
                "Resource": f"{config.log_bucket.arn}/alb/AWSLogs/{self._context.account_id}/*",
            }
        )
