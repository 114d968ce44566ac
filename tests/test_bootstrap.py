"""The first deploy, rehearsed end to end on a fresh emulator (issue 13 C; tools/bootstrap.py).

One moto server stands in for a new AWS account: the bootstrap applies `state`
(on local state, then moved into the bucket it created), dev and `delivery`
with the real Terraform binary, each stack's S3 backend in that emulator, then
reads what is pending from it. The platform must come up on its placeholders,
and a release and a changed setting must both reach the running service.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.rehearsal import ENVIRONMENT, Account
from tools.bootstrap import (
    DELIVERY_STACK,
    LOCAL_STATE,
    STATE_STACK,
    apply_state,
    outputs,
    state_bucket,
    what_is_pending,
)


def test_the_bootstrap_applies_state_then_the_environment_then_delivery(bootstrapped: Account,
                                                                       synth_dir: Path) -> None:
    account = bootstrapped
    assert account.failure is None, str(account.failure)
    assert account.lines == ["state: applied on local state, then moved into its bucket", f"{ENVIRONMENT}: applied",
                     f"{DELIVERY_STACK}: applied"]
    bucket = state_bucket(synth_dir, ENVIRONMENT)
    keys = {entry["Key"] for entry in account.client("s3").list_objects_v2(Bucket=bucket)["Contents"]}
    # Every stack's state in the bucket, no lock file left behind, no local state left to lose.
    assert keys == {f"{stack}/terraform.tfstate" for stack in (STATE_STACK, ENVIRONMENT, DELIVERY_STACK)}
    assert not (account.terraform.directory(STATE_STACK) / LOCAL_STATE).exists()
    # Run again, the state stack is a plain apply on its remote state.
    assert apply_state(account.terraform, bucket_exists=True) == "state: applied"


def _running_task_definition(account: Account, service: str) -> dict[str, Any]:
    names = outputs(account.terraform, ENVIRONMENT)
    ecs = account.client("ecs")
    (described,) = ecs.describe_services(cluster=names["ecs_cluster_name"],
                                         services=[names[f"{service}_service_name"]])["services"]
    return dict(ecs.describe_task_definition(taskDefinition=described["taskDefinition"])["taskDefinition"])


@pytest.mark.parametrize("service", ["web", "websocket"])
def test_the_services_come_up_on_their_placeholders(bootstrapped: Account, service: str) -> None:
    """Before any release each service runs its placeholder (decision 0021): no image to pull from an empty
    repository, and the health checks pass."""
    account = bootstrapped
    task = _running_task_definition(account, service)
    assert task["family"].endswith(f"{service}-placeholder")
    (container,) = task["containerDefinitions"]
    assert container["image"].startswith("public.ecr.aws/")


def test_what_is_pending_is_read_from_the_account(bootstrapped: Account, synth_dir: Path) -> None:
    account = bootstrapped
    pending = {item.what: item for item in what_is_pending(account.terraform, synth_dir, ENVIRONMENT, account.client)}
    assert list(pending) == ["DNS delegation", "alert e-mails", "approval e-mails", "GitHub connection",
                             "secret values", "first release"]
    assert not pending["DNS delegation"].done and "ns-" in pending["DNS delegation"].detail
    assert not pending["GitHub connection"].done
    assert not pending["secret values"].done
    for secret in ("database/url", "cache/url", "app/JWT_SECRET"):
        assert secret in pending["secret values"].detail
    assert not pending["first release"].done
    assert "web" in pending["first release"].detail and "websocket" in pending["first release"].detail


def _apply_service(account: Account, service: str, edit: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Apply the service and what it depends on, after `edit` changed the stack's JSON as a changed setting would."""
    directory = account.terraform.directory(ENVIRONMENT)
    if edit:
        document = json.loads((directory / "cdk.tf.json").read_text())
        edit(document)
        (directory / "cdk.tf.json").write_text(json.dumps(document, indent=1))
    account.terraform(ENVIRONMENT, "apply", "-auto-approve", "-input=false", f"-target=aws_ecs_service.{service}_service")


def test_a_release_and_then_a_changed_setting_reach_the_running_service(
        bootstrapped: Account) -> None:
    """Terraform owns the revision a service runs (decision 0020): the release recorded in the parameter, and
    then a setting changed in the stack, are both what the service runs after an apply."""
    account = bootstrapped
    parameter = f"/directfanz/{ENVIRONMENT}/release/web"
    account.client("ssm").put_parameter(Name=parameter, Value="0123abc", Overwrite=True)
    _apply_service(account, "web")
    task = _running_task_definition(account, "web")
    (app,) = [c for c in task["containerDefinitions"] if c["name"] == "web"]
    assert task["family"].endswith("web") and app["image"].endswith(":0123abc")

    def add_setting(document: dict[str, Any]) -> None:
        body = document["resource"]["aws_ecs_task_definition"]["web_task"]
        containers = json.loads(body["container_definitions"])
        for container in containers:
            if container["name"] == "web":
                container["environment"].append({"name": "FEATURE_FLAG", "value": "on"})
        body["container_definitions"] = json.dumps(containers)

    _apply_service(account, "web", add_setting)
    task = _running_task_definition(account, "web")
    (app,) = [c for c in task["containerDefinitions"] if c["name"] == "web"]
    assert {"name": "FEATURE_FLAG", "value": "on"} in app["environment"]
    assert app["image"].endswith(":0123abc"), "the release survives Terraform's apply"
