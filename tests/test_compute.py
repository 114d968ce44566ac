"""Compute and load balancing, read from the synthesized JSON (R1, R10.1, R12.2, R12.5)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from modules.ecs_service import PLACEHOLDER_IMAGE, UNRELEASED
from tests.stack_json import StackJson, ref

SERVICES = {"web": (3000, "/api/health"), "websocket": (3001, "/health")}
# Assumptions docs/autoscaling.md states and the arithmetic rests on (re-measured after the first deploy).
TASK_START_SECONDS = 30
METRIC_DELIVERY_SECONDS = 15
USERS_PER_WEB_VCPU = 250
CONNECTIONS_PER_WEBSOCKET_TASK = 2000
# The platform's configuration names whose values are secrets (its environment reference, carried over here).
SECRET_NAMES = {
    "DATABASE_URL", "REDIS_URL", "REDIS_PASSWORD", "NEXTAUTH_SECRET", "JWT_SECRET", "ENCRYPTION_KEY",
    "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "SENDGRID_API_KEY", "SENTRY_DSN", "NEXT_PUBLIC_SENTRY_DSN",
    "OPENAI_API_KEY",
}


def _task(stack: StackJson, service: str) -> dict:
    return stack.resource("aws_ecs_task_definition", f"{service}_task")


def _containers(stack: StackJson, service: str) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(_task(stack, service)["container_definitions"])}


def _service(stack: StackJson, service: str) -> dict:
    return stack.resource("aws_ecs_service", f"{service}_service")


def _statements(document: str) -> list[dict]:
    return json.loads(document)["Statement"]


def _environment(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("environment", [])}


def _release(service: str) -> str:
    """The release (image tag) the release pipeline records for a service; Terraform reads it."""
    return ref("aws_ssm_parameter", f"{service}_release", "insecure_value")


def _placeholder(stack: StackJson, service: str) -> dict:
    [container] = json.loads(stack.resource("aws_ecs_task_definition", f"{service}_placeholder")["container_definitions"])
    return container


@pytest.mark.requirement("R1.1", "R1.2")
def test_web_and_websocket_run_as_separate_fargate_services(env: StackJson, configs) -> None:
    config = configs[env.name]
    for service, (port, _) in SERVICES.items():
        task = _task(env, service)
        assert task["requires_compatibilities"] == ["FARGATE"] and task["network_mode"] == "awsvpc"
        sizing = getattr(config.compute, service)
        assert (task["cpu"], task["memory"]) == (str(sizing.cpu), str(sizing.memory_mib))
        app = _containers(env, service)[service]
        assert app["image"] == f"{ref('aws_ecr_repository', f'registry_{service}', 'repository_url')}:{_release(service)}"
        assert app["portMappings"] == [{"containerPort": port, "protocol": "tcp", "name": service}]
        assert _environment(app)["PORT"] == str(port)
        body = _service(env, service)
        assert body["cluster"] == ref("aws_ecs_cluster", "ecs_cluster", "name")
        assert f"aws_ecs_task_definition.{service}_task.arn" in body["task_definition"]  # once released
        assert {s["capacity_provider"] for s in body["capacity_provider_strategy"]} == {"FARGATE", "FARGATE_SPOT"}
        assert "aws_ecs_cluster_capacity_providers.ecs_capacity_providers" in body["depends_on"]
        network = body["network_configuration"]
        assert network["assign_public_ip"] is False
        assert network["security_groups"] == [ref("aws_security_group", f"security_groups_{service}", "id")]
        assert all("network_app_subnet" in subnet for subnet in network["subnets"])
    # Separate services: own task definition, roles and log group each.
    web, websocket = (_task(env, s) for s in SERVICES)
    for attribute in ("family", "task_role_arn", "execution_role_arn"):
        assert web[attribute] != websocket[attribute]
    assert _service(env, "web")["name"] != _service(env, "websocket")["name"]


def test_each_service_logs_to_a_log_group_created_here(env: StackJson) -> None:
    for service in SERVICES:
        group = env.resource("aws_cloudwatch_log_group", f"{service}_logs")
        assert group["retention_in_days"] == 30 and group["kms_key_id"] == ref("aws_kms_key", "keys_logs_key", "arn")
        for container in _containers(env, service).values():
            options = container["logConfiguration"]["options"]
            assert container["logConfiguration"]["logDriver"] == "awslogs"
            assert options["awslogs-group"] == ref("aws_cloudwatch_log_group", f"{service}_logs", "name")
            assert "awslogs-create-group" not in options


@pytest.mark.requirement("R6.3", "R6.4")
def test_no_task_carries_a_secret_in_plaintext_environment(env: StackJson) -> None:
    for _, logical_id, task in env.all_resources():
        if not logical_id.endswith("_task") or "container_definitions" not in task:
            continue
        for container in json.loads(task["container_definitions"]):
            names = set(_environment(container))
            assert not names & (SECRET_NAMES | {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}), (logical_id, names)
            for value in _environment(container).values():
                assert "secretsmanager" not in value and "PRIVATE KEY" not in value
    # The web app gets its secrets from Secrets Manager, each by the ARN of a secret holding the bare value.
    secrets = {s["name"]: s["valueFrom"] for s in _containers(env, "web")["web"]["secrets"]}
    for name in ("NEXTAUTH_SECRET", "JWT_SECRET", "ENCRYPTION_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
                 "SENDGRID_API_KEY", "OPENAI_API_KEY", "SENTRY_DSN"):
        assert secrets[name] == ref("aws_secretsmanager_secret", f"app_secrets_{name.lower()}", "arn")
    # Both services reach PostgreSQL and Redis through URL secrets holding bare URLs (not whole JSON secrets).
    for service in SERVICES:
        secrets = {s["name"]: s["valueFrom"] for s in _containers(env, service)[service]["secrets"]}
        assert secrets["DATABASE_URL"] == ref("aws_secretsmanager_secret", "database_database_url", "arn")
        assert secrets["REDIS_URL"] == ref("aws_secretsmanager_secret", "cache_redis_url", "arn")


@pytest.mark.requirement("R6.3")
def test_roles_are_per_service_and_least_privilege(env: StackJson, configs) -> None:
    config = configs[env.name]
    for service in SERVICES:
        for role in ("execution_role", "task_role"):
            [trust] = _statements(env.resource("aws_iam_role", f"{service}_{role}")["assume_role_policy"])
            assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
            assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": config.account_id}
        execution = {s["Sid"]: s for s in _statements(env.resource("aws_iam_role_policy",
                                                                   f"{service}_execution_policy")["policy"])}
        assert execution["PullImage"]["Resource"] == ref("aws_ecr_repository", f"registry_{service}", "arn")
        assert execution["WriteLogs"]["Resource"] == ref("aws_cloudwatch_log_group", f"{service}_logs", "arn") + ":*"
        container_secrets = {s["valueFrom"] for s in _containers(env, service)[service]["secrets"]}
        # Exactly the secrets this service's task definition names, nothing else.
        assert set(execution["ReadOwnSecrets"]["Resource"]) == container_secrets
        assert execution["DecryptSecrets"]["Resource"] == ref("aws_kms_key", "keys_secrets_key", "arn")
    websocket_secrets = {s["name"] for s in _containers(env, "websocket")["websocket"]["secrets"]}
    assert "STRIPE_SECRET_KEY" not in websocket_secrets and "OPENAI_API_KEY" not in websocket_secrets


def test_tasks_run_non_root_read_only_without_capabilities_and_health_checked(env: StackJson) -> None:
    for service, (port, path) in SERVICES.items():
        containers = _containers(env, service)
        app = containers[service]
        assert app["user"] == "1001" and app["readonlyRootFilesystem"] is True
        assert app["linuxParameters"]["capabilities"] == {"drop": ["ALL"]}
        command = app["healthCheck"]["command"]
        assert command[:3] == ["CMD", "node", "-e"] and f"127.0.0.1:{port}{path}" in command[3]
        volumes = {volume["name"] for volume in _task(env, service)["volume"]}
        assert {mount["sourceVolume"] for mount in app["mountPoints"]} == volumes
        collector = containers["otel-collector"]
        assert collector["readonlyRootFilesystem"] is True and collector["healthCheck"]["command"] == ["CMD", "/healthcheck"]


@pytest.mark.requirement("R7.2")
def test_each_task_sends_traces_to_xray_through_an_adot_collector(env: StackJson) -> None:
    for service in SERVICES:
        containers = _containers(env, service)
        collector = containers["otel-collector"]
        image, tag = collector["image"].rsplit(":", 1)
        assert image == "public.ecr.aws/aws-observability/aws-otel-collector" and re.fullmatch(r"v\d+\.\d+\.\d+", tag)
        assert collector["essential"] is False  # losing traces never stops the app
        config = _environment(collector)["AOT_CONFIG_CONTENT"]
        assert "awsxray" in config and "127.0.0.1:4318" in config
        app_environment = _environment(containers[service])
        assert app_environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
        assert app_environment["OTEL_SERVICE_NAME"] == f"directfanz-{env.name}-{service}"
        policy = _statements(env.resource("aws_iam_role_policy", f"{service}_task_policy")["policy"])
        xray = next(s for s in policy if s.get("Sid") == "XRayFromCollector")
        assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules"} <= set(xray["Action"])


@pytest.mark.requirement("R7.7")
def test_sentry_reports_environment_and_release_from_both_services(env: StackJson) -> None:
    for service in SERVICES:
        app = _containers(env, service)[service]
        environment = _environment(app)
        assert environment["SENTRY_ENVIRONMENT"] == env.name
        assert environment["SENTRY_RELEASE"] == _release(service)  # the image's tag: the release deployed
        assert "SENTRY_DSN" in {s["name"] for s in app["secrets"]}


@pytest.mark.requirement("R1.3", "R12.2")
def test_services_scale_on_cpu_and_memory_between_bounds_sized_for_thousands(env: StackJson, configs) -> None:
    config = configs[env.name]
    for service in SERVICES:
        sizing = getattr(config.compute, service)
        target = env.resource("aws_appautoscaling_target", f"{service}_scaling_target")
        assert (target["min_capacity"], target["max_capacity"]) == (sizing.min_tasks, sizing.max_tasks)
        assert target["resource_id"] == (f"service/{ref('aws_ecs_cluster', 'ecs_cluster', 'name')}/"
                                         f"{ref('aws_ecs_service', f'{service}_service', 'name')}")
        tracked = {}
        for kind in ("cpu", "memory"):
            policy = env.resource("aws_appautoscaling_policy", f"{service}_track_{kind}")
            assert policy["policy_type"] == "TargetTrackingScaling"
            settings = policy["target_tracking_scaling_policy_configuration"]
            tracked[settings["predefined_metric_specification"]["predefined_metric_type"]] = settings["target_value"]
            assert settings["scale_out_cooldown"] <= 60
        assert set(tracked) == {"ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization"}
        assert all(value <= 75 for value in tracked.values())  # headroom for a spike
        assert _service(env, service)["lifecycle"]["ignore_changes"][0] == "desired_count"  # autoscaling owns it
    if env.name == "prod":
        web = config.compute.web
        assert web.max_tasks * web.cpu / 1024 * USERS_PER_WEB_VCPU >= 5000
        assert config.compute.websocket.max_tasks * CONNECTIONS_PER_WEBSOCKET_TASK >= 5000


@pytest.mark.requirement("R12.5")
def test_a_spike_is_absorbed_within_two_minutes(env: StackJson) -> None:
    """docs/autoscaling.md: detection (one 60 s period + delivery) + task start + healthy at the load balancer."""
    health = env.resource("aws_lb_target_group", "load_balancer_web_blue")["health_check"]
    becomes_healthy = health["interval"] * health["healthy_threshold"]
    for service in SERVICES:
        alarm = env.resource("aws_cloudwatch_metric_alarm", f"{service}_spike_alarm")
        assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/ECS", "CPUUtilization")
        assert alarm["dimensions"]["ServiceName"] == ref("aws_ecs_service", f"{service}_service", "name")
        assert alarm["evaluation_periods"] == alarm["datapoints_to_alarm"] == 1
        assert alarm["alarm_actions"] == [ref("aws_appautoscaling_policy", f"{service}_spike", "arn")]
        policy = env.resource("aws_appautoscaling_policy", f"{service}_spike")
        steps = policy["step_scaling_policy_configuration"]
        assert policy["policy_type"] == "StepScaling" and steps["adjustment_type"] == "PercentChangeInCapacity"
        assert steps["cooldown"] <= 60 and steps["min_adjustment_magnitude"] >= 2
        adjustments = steps["step_adjustment"]
        assert adjustments[0]["metric_interval_lower_bound"] == "0" and "metric_interval_upper_bound" not in adjustments[-1]
        assert all(step["scaling_adjustment"] >= 50 for step in adjustments)
        absorbed = alarm["period"] + METRIC_DELIVERY_SECONDS + TASK_START_SECONDS + becomes_healthy
        assert absorbed <= 120, absorbed


@pytest.mark.requirement("R1.4")
def test_at_least_two_tasks_spread_over_zones(env: StackJson, configs) -> None:
    config = configs[env.name]
    for service in SERVICES:
        body = _service(env, service)
        subnets = body["network_configuration"]["subnets"]
        assert len(set(subnets)) == config.availability_zones >= 2
        assert body["availability_zone_rebalancing"] == "ENABLED"
        if env.name != "dev":
            assert body["desired_count"] >= 2
            assert env.resource("aws_appautoscaling_target", f"{service}_scaling_target")["min_capacity"] >= 2


@pytest.mark.requirement("R1.5")
def test_a_failed_task_is_replaced_within_60_seconds(env: StackJson) -> None:
    for service, (port, path) in SERVICES.items():
        for colour in ("blue", "green"):
            group = env.resource("aws_lb_target_group", f"load_balancer_{service}_{colour}")
            check = group["health_check"]
            assert check["path"] == path and check["matcher"] == "200" and group["port"] == port
            assert "health/db" not in path and "redis" not in path  # shallow: a dependency outage kills no task
            detected = check["interval"] * check["unhealthy_threshold"] + check["timeout"]
            healthy = check["interval"] * check["healthy_threshold"]
            assert detected + TASK_START_SECONDS + healthy <= 60
        app = _containers(env, service)[service]
        container = app["healthCheck"]
        assert container["interval"] * container["retries"] + container["timeout"] + TASK_START_SECONDS + healthy <= 60
        body = _service(env, service)
        assert body["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
        assert body["deployment_minimum_healthy_percent"] == 100  # start the replacement before stopping
        assert 0 < body["health_check_grace_period_seconds"] <= TASK_START_SECONDS


@pytest.mark.requirement("R1.6")
def test_the_load_balancer_serves_https_and_routes_by_host(env: StackJson, configs) -> None:
    config = configs[env.name]
    lb = env.resource("aws_lb", "load_balancer_alb")
    assert lb["load_balancer_type"] == "application" and lb["internal"] is False
    assert lb["security_groups"] == [ref("aws_security_group", "security_groups_load_balancer", "id")]
    assert all("network_public_subnet" in subnet for subnet in lb["subnets"])
    assert lb["drop_invalid_header_fields"] is True and lb["desync_mitigation_mode"] == "strictest"
    assert lb["idle_timeout"] > 45  # Socket.IO ping interval + timeout
    assert lb["access_logs"] == {"bucket": ref("aws_s3_bucket", "storage_logs_bucket", "bucket"), "prefix": "alb",
                                 "enabled": True}
    assert lb["enable_deletion_protection"] is (env.name == "prod")
    https = env.resource("aws_lb_listener", "load_balancer_https")
    assert (https["port"], https["protocol"]) == (443, "HTTPS")
    assert https["ssl_policy"].startswith("ELBSecurityPolicy-TLS13-")
    assert https["certificate_arn"] == ref("aws_acm_certificate_validation", "certificates_load_balancer_issued",
                                           "certificate_arn")
    assert https["default_action"][0]["fixed_response"]["status_code"] == "404"
    http = env.resource("aws_lb_listener", "load_balancer_http")
    assert http["default_action"][0]["redirect"] == {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}
    web_hosts = env.resource("aws_lb_listener_rule", "load_balancer_web_production")["condition"][0]["host_header"]
    assert web_hosts["values"] == [config.domain, *(f"{h}.{config.domain}" for h in ("www", "app", "api"))]
    ws_rule = env.resource("aws_lb_listener_rule", "load_balancer_websocket_production")
    assert ws_rule["condition"][0]["host_header"]["values"] == [f"ws.{config.domain}"]
    forward = ws_rule["action"][0]["forward"]["target_group"]
    assert forward[0] == {"arn": ref("aws_lb_target_group", "load_balancer_websocket_blue", "arn"), "weight": 100}
    for colour in ("blue", "green"):
        sticky = env.resource("aws_lb_target_group", f"load_balancer_websocket_{colour}")["stickiness"]
        assert sticky["enabled"] is True and sticky["type"] == "lb_cookie"  # Socket.IO long-polling
    association = env.resource("aws_wafv2_web_acl_association", "load_balancer_waf")
    assert association["resource_arn"] == ref("aws_lb", "load_balancer_alb", "arn")


@pytest.mark.requirement("R1.7")
def test_deployments_are_native_ecs_blue_green_with_bake_time_and_alarm_rollback(env: StackJson, configs) -> None:
    config = configs[env.name]
    for service in SERVICES:
        body = _service(env, service)
        assert body["deployment_controller"] == {"type": "ECS"}
        assert body["deployment_configuration"] == {"strategy": "BLUE_GREEN",
                                                    "bake_time_in_minutes": str(config.compute.bake_time_minutes)}
        [balancer] = body["load_balancer"]
        assert balancer["target_group_arn"] == ref("aws_lb_target_group", f"load_balancer_{service}_blue", "arn")
        assert balancer["advanced_configuration"] == {
            "alternate_target_group_arn": ref("aws_lb_target_group", f"load_balancer_{service}_green", "arn"),
            "production_listener_rule": ref("aws_lb_listener_rule", f"load_balancer_{service}_production", "arn"),
            "test_listener_rule": ref("aws_lb_listener_rule", f"load_balancer_{service}_test", "arn"),
            "role_arn": ref("aws_iam_role", "ecs_infrastructure_role", "arn"),
        }
        assert body["alarms"]["enable"] is True and body["alarms"]["rollback"] is True
        for alarm_name in body["alarms"]["alarm_names"]:
            logical_id = alarm_name.split(".")[1]
            alarm = env.resource("aws_cloudwatch_metric_alarm", logical_id)
            assert alarm["alarm_actions"] == [ref("aws_sns_topic", "alerts_topic", "arn")]  # a rollback pages
            groups = {q["metric"]["dimensions"]["TargetGroup"] for q in alarm["metric_query"] if "metric" in q}
            assert groups == {ref("aws_lb_target_group", f"load_balancer_{service}_{c}", "arn_suffix")
                              for c in ("blue", "green")}
        test_rule = env.resource("aws_lb_listener_rule", f"load_balancer_{service}_test")
        assert test_rule["priority"] < env.resource("aws_lb_listener_rule", f"load_balancer_{service}_production")["priority"]
        assert {"http_header_name": "X-Deployment-Test", "values": ["green"]} in [
            c["http_header"] for c in test_rule["condition"] if "http_header" in c]
        # ECS moves the weights during a deployment; Terraform must not move them back.
        for kind in ("production", "test"):
            assert env.resource("aws_lb_listener_rule", f"load_balancer_{service}_{kind}")["lifecycle"] == {
                "ignore_changes": ["action"]}
    [trust] = _statements(env.resource("aws_iam_role", "ecs_infrastructure_role")["assume_role_policy"])
    assert trust["Principal"] == {"Service": "ecs.amazonaws.com"}
    attachment = env.resource("aws_iam_role_policy_attachment", "ecs_infrastructure_policy")
    assert attachment["policy_arn"].endswith(":policy/AmazonECSInfrastructureRolePolicyForLoadBalancers")


@pytest.mark.requirement("R1.7", "R8.6")
def test_terraform_owns_the_revision_each_service_runs(env: StackJson) -> None:
    """A setting Terraform changes reaches the running tasks; a release is never reverted (decision 0020).

    CodePipeline's ECS deploy action "creates its own revision of the task definition based on the revision
    used by the Amazon ECS service" and ignores revisions registered without updating the service
    (https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-ECS.html): with the service
    ignoring Terraform's task_definition, no secret, variable, size or collector change ever ran. Now:
    - the service follows Terraform's task_definition (ECS's blue/green deployment rolls it out);
    - the image tag comes from the release parameter, which the pipeline writes and Terraform ignores, so an
      apply never reverts a release (and SENTRY_RELEASE names the same release, R7.7);
    - the release task definition tracks its family's latest ACTIVE revision, which DescribeTaskDefinition
      returns for a bare family name
      (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html): the revision
      the pipeline registers with Terraform's settings and the new tag is the one Terraform then holds;
    - replaced revisions stay registered: "you can't update an existing service to reference an INACTIVE task
      definition" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeregisterTaskDefinition.html),
      and a rollback or an apply may need the previous one.
    """
    for service in SERVICES:
        body = _service(env, service)
        assert body["lifecycle"]["ignore_changes"] == ["desired_count", "load_balancer"]
        parameter = env.resource("aws_ssm_parameter", f"{service}_release")
        assert parameter["name"] == f"/directfanz/{env.name}/release/{service}" and parameter["type"] == "String"
        assert parameter["insecure_value"] == UNRELEASED
        assert parameter["lifecycle"] == {"ignore_changes": ["insecure_value"]}
        released = _release(service)[2:-1]
        assert body["task_definition"] == (
            f'${{({released} != "{UNRELEASED}") ? aws_ecs_task_definition.{service}_task.arn'
            f" : aws_ecs_task_definition.{service}_placeholder.arn}}")
        task = _task(env, service)
        assert task["track_latest"] is True and task["skip_destroy"] is True
        assert task["family"] == body["name"]  # the release pipeline finds the family by the service's name
        app = _containers(env, service)[service]
        assert app["image"].endswith(f":{_release(service)}")
        assert _environment(app)["SENTRY_RELEASE"] == _release(service)
        assert env.resource("aws_ecs_task_definition", f"{service}_placeholder")["skip_destroy"] is True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _running(command: list[str], environment: dict[str, str], port: int) -> Iterator[None]:
    server = subprocess.Popen(command, env={**os.environ, **environment}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.requirement("R1.5", "R9.3")
def test_services_start_on_a_placeholder_that_passes_their_health_checks(env: StackJson) -> None:
    """Until the first release, each service runs a placeholder that is healthy (decision 0021, issue 13 fault 2).

    The services used to start from `<repository>:bootstrap`, which nobody pushed: Fargate stops a task whose
    image or secrets cannot be fetched (https://repost.aws/knowledge-center/ecs-unable-to-pull-secrets), the
    circuit breaker had no healthy revision to roll back to, and the alarms paged. The placeholder is a public
    Node LTS image (nothing is built or pushed first) running a few lines of Node: 200 on the service's health
    path, which the target group's health check asks for
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html), and
    503 elsewhere, so CloudFront shows the maintenance page. It references no secret (they have no value before
    the data bootstrap) and passes the same container health check as the app. Run here with this machine's node.
    """
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on this machine")
    for service, (port, path) in SERVICES.items():
        placeholder = _placeholder(env, service)
        app = _containers(env, service)[service]
        major = re.fullmatch(r"public\.ecr\.aws/docker/library/node:(\d+)-alpine", placeholder["image"])
        assert placeholder["image"] == PLACEHOLDER_IMAGE and major and int(major.group(1)) >= 24
        for key in ("name", "portMappings", "user", "readonlyRootFilesystem", "linuxParameters", "healthCheck"):
            assert placeholder[key] == app[key], key
        assert "secrets" not in placeholder and _environment(placeholder) == {"PORT": str(port)}
        task = env.resource("aws_ecs_task_definition", f"{service}_placeholder")
        assert task["execution_role_arn"] == _task(env, service)["execution_role_arn"] and "task_role_arn" not in task
        local = _free_port()
        command = [node, *placeholder["command"][1:]]
        with _running(command, {"PORT": str(local)}, local):
            base = f"http://127.0.0.1:{local}"
            assert _status(f"{base}{path}") == 200
            assert _status(f"{base}{path}/db") == 200  # the deep checks (canaries) see a healthy placeholder
            assert _status(f"{base}/") == 503 and _status(f"{base}/login") == 503
            probe = placeholder["healthCheck"]["command"]
            assert probe[:3] == ["CMD", "node", "-e"]
            checked = subprocess.run([node, "-e", probe[3].replace(f"127.0.0.1:{port}", f"127.0.0.1:{local}")],
                                     timeout=10, check=False)
            assert checked.returncode == 0


@pytest.mark.requirement("R10.1")
def test_spot_capacity_with_the_minimum_on_demand(env: StackJson, configs) -> None:
    config = configs[env.name]
    cluster = env.resource("aws_ecs_cluster_capacity_providers", "ecs_capacity_providers")
    assert sorted(cluster["capacity_providers"]) == ["FARGATE", "FARGATE_SPOT"]
    for service in SERVICES:
        strategy = {s["capacity_provider"]: s for s in _service(env, service)["capacity_provider_strategy"]}
        assert strategy["FARGATE"]["base"] == config.compute.on_demand_base
        assert strategy["FARGATE_SPOT"]["weight"] == config.compute.spot_weight > 0
        if env.name == "prod":
            assert strategy["FARGATE"]["base"] >= getattr(config.compute, service).min_tasks


@pytest.mark.requirement("R8.5")
def test_images_live_in_immutable_scanned_encrypted_repositories(env: StackJson) -> None:
    for service in SERVICES:
        repository = env.resource("aws_ecr_repository", f"registry_{service}")
        assert repository["image_tag_mutability"] == "IMMUTABLE"
        assert repository["image_scanning_configuration"] == {"scan_on_push": True}
        assert repository["encryption_configuration"] == [
            {"encryption_type": "KMS", "kms_key": ref("aws_kms_key", "keys_pipeline_key", "arn")}]
        rules = json.loads(env.resource("aws_ecr_lifecycle_policy", f"registry_{service}_lifecycle")["policy"])["rules"]
        assert {rule["selection"]["tagStatus"] for rule in rules} == {"untagged", "any"}


@pytest.mark.requirement("R9.4")
def test_dns_names_point_at_what_serves_them_by_reference(env: StackJson, configs) -> None:
    domain = configs[env.name].domain
    # The serving records, not the maintenance fallback of a failover pair (tests/test_dns.py).
    records = {(r["name"], r["type"]): r for r in env.resources("aws_route53_record").values()
               if "alias" in r and r.get("set_identifier") != "maintenance"}
    for host in ("", "www.", "app.", "api."):
        for record_type in ("A", "AAAA"):
            alias = records[(f"{host}{domain}", record_type)]["alias"]
            assert alias["name"] == ref("aws_cloudfront_distribution", "app_cdn_distribution", "domain_name")
            assert alias["zone_id"] == ref("aws_cloudfront_distribution", "app_cdn_distribution", "hosted_zone_id")
    assert records[(f"media.{domain}", "A")]["alias"]["name"] == ref(
        "aws_cloudfront_distribution", "media_cdn_distribution", "domain_name")
    ws = records[(f"ws.{domain}", "A")]["alias"]
    assert (ws["name"], ws["zone_id"]) == (ref("aws_lb", "load_balancer_alb", "dns_name"),
                                           ref("aws_lb", "load_balancer_alb", "zone_id"))

