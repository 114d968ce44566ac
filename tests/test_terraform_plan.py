"""Terraform itself accepts every stack: init, validate and plan offline, one test per stack.

The stacks are the session's synthesized JSON (never re-synthesized here);
tools/terraform_plan.py makes the temporary copy Terraform runs on. All stacks
are planned in parallel threads from the first test on; each test waits for its own.
A resource with count/for_each is one resource of the JSON and several instances
in the plan: the plan must create every resource of the JSON, and nothing else.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import STACK_NAMES
from tests.stack_json import StackJson
from tools.terraform_plan import (
    SIX_X_ONLY_ARGUMENTS,
    PlanResult,
    SixOnlyArgument,
    TerraformFailed,
    Toolchain,
    ToolchainMissing,
    moto_server,
    plan_stack,
    strip_six_only,
)

KNOWN_DEFECTS: dict[str, str] = {
}
"""Defects this plan found in the stacks, awaiting their owners' fix: {block Terraform names: what, whose}.

A stack's test is xfail only while every error Terraform reports is in one of these
blocks; any other error fails it. Remove an entry with its fix.
"""


def _xfail_if_only_known_defects(failure: TerraformFailed) -> None:
    errors = re.split(r"^Error: ", str(failure), flags=re.MULTILINE)[1:]
    blocks = [re.search(r"^\s+on \S+ line \d+, in ([^:]+):", error, re.MULTILINE) for error in errors]
    if errors and all(block and block[1] in KNOWN_DEFECTS for block in blocks):
        pytest.xfail("; ".join(KNOWN_DEFECTS[name] for name in sorted({block[1] for block in blocks})))


@pytest.fixture(scope="session")
def aws_endpoint(toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
            yield endpoint
    except ToolchainMissing as missing:
        pytest.skip(f"offline terraform plan: {missing}")


@pytest.fixture(scope="session")
def plans(synth_dir: Path, toolchain: Toolchain, aws_endpoint: str,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[PlanResult]]]:
    workdir = tmp_path_factory.mktemp("terraform-plan")
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        yield {stack: pool.submit(plan_stack, synth_dir, stack, toolchain, aws_endpoint, workdir) for stack in STACK_NAMES}


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_terraform_validates_and_plans_every_resource(stack: str, plans: dict[str, Future[PlanResult]],
                                                      stacks: dict[str, StackJson], plan_summary: list[str]) -> None:
    try:
        result = plans[stack].result()
    except TerraformFailed as failure:  # Terraform's diagnostics
        _xfail_if_only_known_defects(failure)
        raise
    plan_summary.append(result.line)
    synthesized = {f"{resource_type}.{logical_id}" for resource_type, logical_id, _ in stacks[stack].all_resources()}
    assert len(result.resources) == stacks[stack].resource_count, (
        f"{stack}: not planned {sorted(synthesized - result.resources)}; "
        f"planned but not synthesized {sorted(result.resources - synthesized)}"
    )
    assert result.resources == synthesized


def test_every_six_only_argument_is_still_used(stacks: dict[str, StackJson]) -> None:
    """An entry no stack uses would hide a future use of that argument from the plan: remove it."""
    removed = {argument: 0 for argument in SIX_X_ONLY_ARGUMENTS}
    for stack in stacks.values():
        for argument, count in strip_six_only(copy.deepcopy(stack.document)).items():
            removed[argument] += count
    assert [argument for argument, count in removed.items() if count == 0] == []


def test_six_only_arguments_are_stripped_exactly_where_listed() -> None:
    argument = SixOnlyArgument("aws_ecs_service", "deployment_configuration.strategy", "example")
    document = {"resource": {
        "aws_ecs_service": {"api": {"deployment_configuration": [{"strategy": "BLUE_GREEN", "bake_time_in_minutes": 5}]},
                            "web": {"name": "web"}},
        "aws_ecs_task_definition": {"api": {"deployment_configuration": {"strategy": "kept"}}},
    }}
    assert strip_six_only(document, (argument,)) == {argument: 1}
    assert document["resource"]["aws_ecs_service"] == {
        "api": {"deployment_configuration": [{"bake_time_in_minutes": 5}]}, "web": {"name": "web"}}
    assert document["resource"]["aws_ecs_task_definition"]["api"]["deployment_configuration"] == {"strategy": "kept"}
