"""One ECS Fargate service behind the load balancer; the web app and the WebSocket server are two of them (R1).

Each service gets its own task definition, task role, execution role and log
group (created here: the earlier attempt's tasks died on a missing one).

- Task: the app container runs as uid 1001 with a read-only root filesystem
  (writable scratch volumes where the app needs them), no Linux capabilities,
  and a container health check on its shallow endpoint using the `node` the
  image already has. Secrets come from Secrets Manager through `secrets`
  (never plaintext `environment`); the execution role may read exactly those.
- Tracing (R7.2): an AWS Distro for OpenTelemetry collector sidecar receives
  OTLP on localhost and exports to X-Ray; its configuration is in the task
  definition, and the task role carries the X-Ray statement passed in.
- Availability (R1.4, R1.5): at least `min_tasks`, spread over the subnets'
  zones and rebalanced; the circuit breaker rolls back a deployment whose
  tasks do not become healthy.
- Blue/green (R1.7): ECS's native BLUE_GREEN strategy shifts the production
  listener rule from the blue to the green target group after the test rule
  has reached green, bakes for `bake_time_minutes`, and rolls back when a
  deployment alarm fires (target 5xx or unhealthy targets).
- Autoscaling (R1.3, R12.2, R12.5): target tracking on CPU and memory keeps
  headroom; a step policy on a one-minute CPU alarm adds capacity in large
  steps so a spike is absorbed within 2 minutes (docs/autoscaling.md).
- Capacity (R10.1): the cluster's FARGATE base / FARGATE_SPOT weights.

Releases (docs/decisions/0020, 0021): Terraform owns the revision a service
runs, so a changed setting reaches the tasks at the next apply (through ECS's
blue/green deployment). The image tag is the one thing a release changes: it
lives in an SSM parameter the release pipeline writes once its deployment has
succeeded, and the task definition reads it, so Terraform never reverts a
release. Until the first release the parameter says `unreleased` and the
service runs a placeholder that passes its health checks, from a public Node
LTS image (nothing to build or push first). The release task definition
follows its family's newest revision (the pipeline registers it with
Terraform's settings and the new tag), and old revisions stay registered so
that ECS can always roll back to them. Autoscaling owns the task count and ECS
the load balancer block (it swaps blue and green): Terraform ignores both after
creation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import Fn, Op, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyStepScalingPolicyConfiguration,
    AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceAlarms,
    EcsServiceCapacityProviderStrategy,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceDeploymentConfiguration,
    EcsServiceDeploymentController,
    EcsServiceLoadBalancer,
    EcsServiceLoadBalancerAdvancedConfiguration,
    EcsServiceNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from modules.autoscaling import track
from modules.container_registry import Repository
from modules.context import StackContext
from modules.ecs_cluster import Cluster
from modules.iam import Statement, policy_document, service_trust
from modules.load_balancer import Route
from modules.log_group import log_group
from modules.naming import Names

APP_USER = "1001"  # the images' non-root user
# Decisions 0020 and 0021: the release parameter's value before the first release, the variable that names the
# release in the app's errors (R7.7; the release pipeline sets it too), and what runs until then.
UNRELEASED = "unreleased"
RELEASE_VARIABLE = "SENTRY_RELEASE"
PLACEHOLDER_IMAGE = "public.ecr.aws/docker/library/node:24-alpine"
PLACEHOLDER_CPU, PLACEHOLDER_MEMORY_MIB = 256, 512
OTEL_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.45.0"
OTLP_HTTP_ENDPOINT = "http://127.0.0.1:4318"  # the collector's OTLP/HTTP receiver (OTEL_CONFIG): where the app exports
# Container health check: a hung app is marked unhealthy after START + INTERVAL x RETRIES at worst.
CONTAINER_HEALTH = {"interval": 5, "timeout": 3, "retries": 2, "startPeriod": 15}
HEALTH_CHECK_GRACE_SECONDS = 30  # the app's start time; load balancer checks are ignored that long after start
# Autoscaling (docs/autoscaling.md holds the arithmetic these numbers make true).
CPU_TARGET = 60
MEMORY_TARGET = 70
SCALE_OUT_COOLDOWN = 60
SCALE_IN_COOLDOWN = 300
SPIKE_CPU_THRESHOLD = 75  # one minute above this adds capacity in steps
SPIKE_PERIOD_SECONDS = 60
SPIKE_STEPS = ((0, 15, 50), (15, None, 100))  # (lower, upper) above the threshold -> +percent of running tasks
SPIKE_MIN_TASKS_ADDED = 2

# OTLP in on localhost, traces out to X-Ray; sampling rules come from X-Ray (modules/tracing.py).
OTEL_CONFIG = """receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
      http:
        endpoint: 127.0.0.1:4318
processors:
  batch: {}
exporters:
  awsxray:
    indexed_attributes: [otel.resource.service.name]
extensions:
  health_check:
    endpoint: 127.0.0.1:13133
  awsproxy:
    endpoint: 127.0.0.1:2000
service:
  extensions: [health_check, awsproxy]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [awsxray]
"""


@dataclass(frozen=True)
class TaskSizing:
    cpu: int
    memory_mib: int
    min_tasks: int  # autoscaling moves the count between these
    max_tasks: int


@dataclass(frozen=True)
class EcsServiceConfig:
    name: str  # "web", "websocket"
    # Its name, its capacity strategy and the capacity-provider association a FARGATE_SPOT service waits for,
    # and the role ECS moves listener rules with (blue/green).
    cluster: Cluster
    repository: Repository  # the release's image is <url>:<release tag>
    port: int
    health_check_path: str
    sizing: TaskSizing
    subnet_ids: Sequence[str]
    security_group_id: str
    route: Route
    load_balancer_arn_suffix: str
    bake_time_minutes: int
    environment: Mapping[str, str]
    secrets: Mapping[str, str]  # variable -> Secrets Manager ARN (the whole secret is the value)
    task_policy_statements: Sequence[Statement] = field(default_factory=tuple)
    writable_paths: Sequence[str] = ("/tmp",)


def release_parameter_name(names: Names, service: str) -> str:
    """The SSM parameter holding the release (image tag) a service runs; the release pipeline writes it."""
    return names.path("release", service)


class Service(Construct):
    """Exposes `service_name`, `task_role_arn`, `task_role_name`, `execution_role_arn`, `log_group_name`,
    `task_definition_family` and `deployment_alarm_names`."""

    def __init__(self, scope: Construct, id: str, config: EcsServiceConfig) -> None:
        super().__init__(scope, id)
        self.config = config
        self._context = context = StackContext.of(self)
        names = context.names
        self.physical_name = names(config.name)
        logs = log_group(self, "logs", f"/ecs/{names.prefix}/{config.name}", context.keys.logs.arn)
        self.log_group_name = logs.name

        trust = service_trust(
            "ecs-tasks.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": context.account_id},
                "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{context.region}:{context.account_id}:*"},
            },
        )
        execution_role = IamRole(self, "execution_role", name=names(config.name, "execution"),
                                 description=f"ECS pulls the {config.name} image, writes its logs, reads its secrets",
                                 assume_role_policy=trust)
        IamRolePolicy(self, "execution_policy", role=execution_role.id,
                      policy=policy_document(self._execution_statements(logs.arn)))
        task_role = IamRole(self, "task_role", name=names(config.name, "task"),
                            description=f"What the {config.name} app may call in AWS",
                            assume_role_policy=trust)
        if config.task_policy_statements:
            IamRolePolicy(self, "task_policy", role=task_role.id,
                          policy=policy_document(config.task_policy_statements))
        self.task_role_arn = task_role.arn
        self.task_role_name = task_role.name
        self.execution_role_arn = execution_role.arn

        # Written by the release pipeline after a successful deployment; Terraform creates it and never reverts it.
        release = SsmParameter(
            self,
            "release",
            name=release_parameter_name(names, config.name),
            description=f"The release (image tag) the {config.name} service runs; written by the release pipeline",
            type="String",
            insecure_value=UNRELEASED,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["insecure_value"]),
        )
        self._release = release.insecure_value
        self._log_group_name = logs.name
        platform = EcsTaskDefinitionRuntimePlatform(operating_system_family="LINUX", cpu_architecture="X86_64")
        task = EcsTaskDefinition(
            self,
            "task",
            family=self.physical_name,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(config.sizing.cpu),
            memory=str(config.sizing.memory_mib),
            runtime_platform=platform,
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            volume=[EcsTaskDefinitionVolume(name=_volume(path)) for path in config.writable_paths],
            container_definitions=json.dumps(self._containers(), sort_keys=True),
            # The pipeline registers the family's newest revision (these settings, the new tag): follow it rather
            # than redeploy the same tasks, and keep every revision registered, as ECS rolls back to them.
            track_latest=True,
            skip_destroy=True,
        )
        placeholder = EcsTaskDefinition(
            self,
            "placeholder",
            family=names(config.name, "placeholder"),
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(PLACEHOLDER_CPU),
            memory=str(PLACEHOLDER_MEMORY_MIB),
            runtime_platform=platform,
            execution_role_arn=execution_role.arn,
            container_definitions=json.dumps([self._placeholder_container()], sort_keys=True),
            skip_destroy=True,
        )
        self.task_definition_family = task.family

        self.deployment_alarm_names = self._deployment_alarms()
        service = EcsService(
            self,
            "service",
            name=self.physical_name,
            cluster=config.cluster.name,
            task_definition=Token.as_string(
                Fn.conditional(Op.neq(release.insecure_value, UNRELEASED), task.arn, placeholder.arn)),
            desired_count=config.sizing.min_tasks,
            capacity_provider_strategy=[
                EcsServiceCapacityProviderStrategy(capacity_provider=provider, base=base, weight=weight)
                for provider, base, weight in config.cluster.capacity.providers()
            ],
            platform_version="LATEST",
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=list(config.subnet_ids), security_groups=[config.security_group_id], assign_public_ip=False
            ),
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=config.route.blue_target_group_arn,
                    container_name=config.name,
                    container_port=config.port,
                    advanced_configuration=EcsServiceLoadBalancerAdvancedConfiguration(
                        alternate_target_group_arn=config.route.green_target_group_arn,
                        production_listener_rule=config.route.production_rule_arn,
                        test_listener_rule=config.route.test_rule_arn,
                        role_arn=config.cluster.infrastructure_role_arn,
                    ),
                )
            ],
            deployment_controller=EcsServiceDeploymentController(type="ECS"),
            deployment_configuration=EcsServiceDeploymentConfiguration(
                strategy="BLUE_GREEN", bake_time_in_minutes=str(config.bake_time_minutes)
            ),
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            alarms=EcsServiceAlarms(alarm_names=self.deployment_alarm_names, enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=HEALTH_CHECK_GRACE_SECONDS,
            availability_zone_rebalancing="ENABLED",
            enable_execute_command=False,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            wait_for_steady_state=False,
            depends_on=[config.cluster.capacity_providers],
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_count", "load_balancer"]),
        )
        self.service_name = service.name
        self._autoscaling(service)

    def _execution_statements(self, log_group_arn: str) -> list[Statement]:
        config = self.config
        statements: list[Statement] = [
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Sid": "PullImage",
                "Effect": "Allow",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Resource": config.repository.arn,
            },
            {
                "Sid": "WriteLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group_arn}:*",
            },
        ]
        if config.secrets:
            statements += [
                {
                    "Sid": "ReadOwnSecrets",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    # The ARNs are unresolved tokens here: sorting them would order token numbers, not names.
                    "Resource": list(dict.fromkeys(config.secrets.values())),
                },
                {"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                 "Resource": self._context.keys.secrets.arn},
            ]
        return statements

    def _logging(self, prefix: str) -> dict:
        return {
            "logDriver": "awslogs",
            "options": {"awslogs-group": self._log_group_name, "awslogs-region": self._context.region,
                        "awslogs-stream-prefix": prefix},
        }

    def _serving(self) -> dict:
        """What the load balancer and ECS see of the app container, the same in the release and the placeholder."""
        config = self.config
        probe = (
            f"require('http').get('http://127.0.0.1:{config.port}{config.health_check_path}',"
            "r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
        )
        return {
            "name": config.name,
            "essential": True,
            "user": APP_USER,
            "readonlyRootFilesystem": True,
            "linuxParameters": {"capabilities": {"drop": ["ALL"]}, "initProcessEnabled": True},
            "portMappings": [{"containerPort": config.port, "protocol": "tcp", "name": config.name}],
            "healthCheck": {"command": ["CMD", "node", "-e", probe], **CONTAINER_HEALTH},
            "stopTimeout": 30,
        }

    def _containers(self) -> list[dict]:
        config = self.config
        environment = {**config.environment, RELEASE_VARIABLE: self._release}
        app = {
            **self._serving(),
            "image": f"{config.repository.url}:{self._release}",
            "environment": [{"name": key, "value": value} for key, value in sorted(environment.items())],
            "secrets": [{"name": key, "valueFrom": arn} for key, arn in sorted(config.secrets.items())],
            "mountPoints": [{"sourceVolume": _volume(path), "containerPath": path, "readOnly": False}
                            for path in config.writable_paths],
            "dependsOn": [{"containerName": "otel-collector", "condition": "START"}],
            "logConfiguration": self._logging(config.name),
        }
        collector = {
            "name": "otel-collector",
            "image": OTEL_COLLECTOR_IMAGE,
            # Losing traces must not take the app down.
            "essential": False,
            "readonlyRootFilesystem": True,
            "linuxParameters": {"capabilities": {"drop": ["ALL"]}},
            "environment": [{"name": "AOT_CONFIG_CONTENT", "value": OTEL_CONFIG}],
            "healthCheck": {"command": ["CMD", "/healthcheck"], **CONTAINER_HEALTH},
            "logConfiguration": self._logging("otel-collector"),
        }
        return [app, collector]

    def _placeholder_container(self) -> dict:
        """Serves until the first release (decision 0021): 200 on the health paths, 503 elsewhere (CloudFront
        shows its maintenance page); no secrets, which have no values before the data bootstrap."""
        config = self.config
        server = (
            "require('http').createServer((q,s)=>{"
            f"const ok=q.url.startsWith('{config.health_check_path}');"
            "s.writeHead(ok?200:503,{'content-type':'text/plain','cache-control':'no-store'});"
            "s.end(ok?'placeholder: no release deployed yet':'no release deployed yet')"
            "}).listen(process.env.PORT)"
        )
        return {
            **self._serving(),
            "image": PLACEHOLDER_IMAGE,
            "command": ["node", "-e", server],
            "environment": [{"name": "PORT", "value": str(config.port)}],
            "logConfiguration": self._logging("placeholder"),
        }

    def _deployment_alarms(self) -> list[str]:
        """Alarms that roll a blue/green deployment back: 5xx from the tasks, or unhealthy targets, on either colour."""
        config = self.config
        route = config.route

        def metric(id: str, name: str, stat: str, target_group: str) -> CloudwatchMetricAlarmMetricQuery:
            return CloudwatchMetricAlarmMetricQuery(
                id=id,
                metric=CloudwatchMetricAlarmMetricQueryMetric(
                    namespace="AWS/ApplicationELB", metric_name=name, stat=stat, period=60,
                    dimensions={"LoadBalancer": config.load_balancer_arn_suffix, "TargetGroup": target_group},
                ),
            )

        alarms = []
        for id, metric_name, stat, threshold, description in (
            ("target_5xx", "HTTPCode_Target_5XX_Count", "Sum", 10, "5xx answers from the tasks"),
            ("unhealthy_targets", "UnHealthyHostCount", "Maximum", 0, "targets failing the health check"),
        ):
            alarm = CloudwatchMetricAlarm(
                self,
                id,
                alarm_name=self._context.names(config.name, id.replace("_", "-")),
                alarm_description=f"{config.name}: {description} (rolls back a blue/green deployment)",
                comparison_operator="GreaterThanThreshold",
                threshold=threshold,
                evaluation_periods=2,
                datapoints_to_alarm=2,
                treat_missing_data="notBreaching",
                # A deployment rolled back by an alarm pages the operators.
                alarm_actions=[self._context.alerts_topic_arn],
                metric_query=[
                    metric("blue", metric_name, stat, route.blue_arn_suffix),
                    metric("green", metric_name, stat, route.green_arn_suffix),
                    # The idle colour reports nothing: FILL keeps the sum defined.
                    CloudwatchMetricAlarmMetricQuery(id="total", expression="FILL(blue, 0) + FILL(green, 0)",
                                                     return_data=True, label=description),
                ],
            )
            alarms.append(alarm.alarm_name)
        return alarms

    def _autoscaling(self, service: EcsService) -> None:
        config, names = self.config, self._context.names
        target = AppautoscalingTarget(
            self,
            "scaling_target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{config.cluster.name}/{service.name}",
            min_capacity=config.sizing.min_tasks,
            max_capacity=config.sizing.max_tasks,
        )
        for id, metric, value in (("cpu", "ECSServiceAverageCPUUtilization", CPU_TARGET),
                                  ("memory", "ECSServiceAverageMemoryUtilization", MEMORY_TARGET)):
            track(self, f"track_{id}", names(config.name, "track", id), target, metric, value,
                  scale_in_cooldown=SCALE_IN_COOLDOWN, scale_out_cooldown=SCALE_OUT_COOLDOWN)
        spike = AppautoscalingPolicy(
            self,
            "spike",
            name=names(config.name, "spike"),
            policy_type="StepScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            step_scaling_policy_configuration=AppautoscalingPolicyStepScalingPolicyConfiguration(
                adjustment_type="PercentChangeInCapacity",
                min_adjustment_magnitude=SPIKE_MIN_TASKS_ADDED,
                cooldown=SCALE_OUT_COOLDOWN,
                metric_aggregation_type="Average",
                step_adjustment=[
                    AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment(
                        metric_interval_lower_bound=str(lower),
                        metric_interval_upper_bound=str(upper) if upper is not None else None,
                        scaling_adjustment=percent,
                    )
                    for lower, upper, percent in SPIKE_STEPS
                ],
            ),
        )
        CloudwatchMetricAlarm(
            self,
            "spike_alarm",
            alarm_name=names(config.name, "cpu-spike"),
            alarm_description=f"{config.name}: one minute of CPU above {SPIKE_CPU_THRESHOLD}% adds tasks in steps",
            namespace="AWS/ECS",
            metric_name="CPUUtilization",
            dimensions={"ClusterName": config.cluster.name, "ServiceName": service.name},
            statistic="Average",
            period=SPIKE_PERIOD_SECONDS,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=SPIKE_CPU_THRESHOLD,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[spike.arn],
        )


def _volume(path: str) -> str:
    return "scratch" + path.replace("/", "-").replace(".", "")
