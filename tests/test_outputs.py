"""Stack outputs: every endpoint and id operators and runbooks need, read with `terraform output`.

Each output refers to a resource of its own stack (Terraform resolves it at apply; the offline plan,
tests/test_terraform_plan.py, validates the attribute names), says what it is, and holds no secret:
the URL secrets are output by ARN, their values never enter Terraform (docs/decisions/0012).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from environments.config import ENVIRONMENT_NAMES
from tests.stack_json import StackJson

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"\$\{(\w+)\.(\w+)\.(\w+)")
# Attributes or resources that carry a secret value: never an output.
SECRET_BEARING = re.compile(r"secret_string|password|auth_token|private_key|aws_secretsmanager_secret_version|"
                            r"random_password|aws_iam_access_key")

ENVIRONMENT_OUTPUTS = {
    "database_proxy_endpoint", "database_proxy_read_only_endpoint", "database_cluster_endpoint",
    "database_cluster_identifier", "database_url_secret_arn", "database_app_credentials_secret_arn",
    "cache_configuration_endpoint", "cache_replication_group_id", "redis_url_secret_arn",
    "ecs_cluster_name", "web_service_name", "websocket_service_name", "web_repository_url", "websocket_repository_url",
    "app_subnet_ids", "web_security_group_id", "load_balancer_dns_name",
    "media_distribution_id", "media_distribution_domain_name", "app_distribution_id", "app_distribution_domain_name",
    "streaming_distribution_id", "streaming_distribution_domain_name",
    "content_bucket_name", "static_bucket_name", "recordings_bucket_name", "vod_bucket_name", "logs_bucket_name",
    "live_channel_ids", "alerts_topic_arn", "dns_zone_id", "dns_name_servers",
}
STACK_OUTPUTS = {
    **{name: ENVIRONMENT_OUTPUTS for name in ENVIRONMENT_NAMES},
    "state": {"state_bucket", "state_kms_key_arn", "access_logs_bucket_name"},
    "delivery": {"github_connection_arn", "release_pipeline_name", "pull_requests_pipeline_name", "approvals_topic_arn",
                 "artifact_bucket_name", "sentry_auth_token_secret_arn"},
}


def _references(value: object) -> list[tuple[str, str, str]]:
    if isinstance(value, list):
        return [reference for element in value for reference in _references(element)]
    return REFERENCE.findall(str(value))


@pytest.mark.parametrize("stack", sorted(STACK_OUTPUTS))
def test_each_stack_outputs_what_operators_need_with_a_description(stack: str, stacks: dict[str, StackJson]) -> None:
    outputs = stacks[stack].outputs
    assert set(outputs) == STACK_OUTPUTS[stack]
    assert len(outputs) >= (8 if stack in ENVIRONMENT_NAMES else 3)
    assert [name for name, body in outputs.items() if len(body.get("description", "")) < 10] == []


@pytest.mark.parametrize("stack", sorted(STACK_OUTPUTS))
def test_each_output_refers_to_a_resource_of_its_stack_and_holds_no_secret(stack: str,
                                                                         stacks: dict[str, StackJson]) -> None:
    document = stacks[stack].document
    for name, body in stacks[stack].outputs.items():
        references = _references(body["value"])
        assert references, f"{stack}: output {name} is a literal, not read from a resource"
        for resource_type, logical_id, attribute in references:
            assert logical_id in document["resource"].get(resource_type, {}), f"{stack}: {name}: no {resource_type}.{logical_id}"
            assert not SECRET_BEARING.search(f"{resource_type}.{attribute}"), f"{stack}: {name} would hold a secret"
        assert "sensitive" not in body  # nothing secret is output, so nothing is hidden


def test_environment_outputs_name_the_resources_runbooks_mean(stacks: dict[str, StackJson]) -> None:
    outputs = stacks["prod"].outputs
    assert outputs["database_proxy_endpoint"]["value"] == "${aws_db_proxy.database_proxy.endpoint}"
    assert outputs["database_cluster_endpoint"]["value"] == "${aws_rds_cluster.database_cluster.endpoint}"
    assert outputs["database_url_secret_arn"]["value"] == "${aws_secretsmanager_secret.database_database_url.arn}"
    assert outputs["redis_url_secret_arn"]["value"] == "${aws_secretsmanager_secret.cache_redis_url.arn}"
    assert outputs["web_security_group_id"]["value"] == "${aws_security_group.security_groups_web.id}"
    assert len(outputs["app_subnet_ids"]["value"]) == 3
    # the secrets the tasks read are these, by ARN
    web_secrets = stacks["prod"].resource("aws_ecs_task_definition", "web_task")["container_definitions"]
    assert outputs["database_url_secret_arn"]["value"] in web_secrets
    assert outputs["redis_url_secret_arn"]["value"] in web_secrets


def test_every_output_the_docs_read_exists(stacks: dict[str, StackJson]) -> None:
    """Runbooks and README read endpoints with `terraform output -raw|-json <name>`: each name is a real output."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs" / "runbooks").glob("*.md"))]
    read = {(path.name, name) for path in documents
            for name in re.findall(r"terraform output (?:-raw |-json )?([a-z_]+)", path.read_text())}
    known = {name for stack in stacks.values() for name in stack.outputs}
    assert [(document, name) for document, name in sorted(read) if name not in known] == []
    runbook = (ROOT / "docs" / "runbooks" / "data-bootstrap.md").read_text()
    assert {"database_proxy_endpoint", "cache_configuration_endpoint", "database_url_secret_arn",
            "redis_url_secret_arn", "ecs_cluster_name"} <= {name for _, name in read if _ == "data-bootstrap.md"}
    assert "describe-db-proxies" not in runbook and "describe-replication-groups" not in runbook
