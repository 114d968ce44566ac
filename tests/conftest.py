"""Session-wide fixtures: every stack synthesized once, scanned once; tests read the JSON."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import modules  # noqa: F401  (registers the provider stub before anything imports the bindings)
from environments import EnvironmentConfig, load_environments
from environments.config import ENVIRONMENT_NAMES, parse_environment, read_raw
from tests.rehearsal import Account, bootstrap_rehearsal
from tests.stack_json import StackJson
from tools.checkov_gate import GateResult, gate
from tools.terraform_plan import Toolchain, ToolchainMissing, find_toolchain

STACK_NAMES = ("state", *ENVIRONMENT_NAMES, "delivery", "migration")
# prod's settings with these top-level keys replaced: prod with its primary region outside us-east-1.
EU_WEST_1_OVERRIDES = Path(__file__).parent / "fixtures" / "prod-eu-west-1.toml"


def synthesize(outdir: Path) -> Path:
    from main import build_app

    build_app(load_environments(), outdir=str(outdir)).synth()
    return outdir


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize(tmp_path_factory.mktemp("cdktf.out"))


@pytest.fixture(scope="session")
def stacks(synth_dir: Path) -> dict[str, StackJson]:
    return {name: StackJson.read(synth_dir, name) for name in STACK_NAMES}


@pytest.fixture(params=ENVIRONMENT_NAMES)
def env(request: pytest.FixtureRequest, stacks: dict[str, StackJson]) -> StackJson:
    """Each environment stack in turn."""
    return stacks[request.param]


@pytest.fixture
def prod(stacks: dict[str, StackJson]) -> StackJson:
    return stacks["prod"]


@pytest.fixture(scope="session")
def checkov_result(synth_dir: Path) -> GateResult:
    return gate(synth_dir)


@pytest.fixture(scope="session")
def configs() -> dict[str, EnvironmentConfig]:
    return {config.name: config for config in load_environments()}


@pytest.fixture(scope="session")
def eu_west_1_config() -> EnvironmentConfig:
    return parse_environment("prod", {**read_raw("prod"), **tomllib.loads(EU_WEST_1_OVERRIDES.read_text())})


@pytest.fixture(scope="session")
def eu_west_1_dir(tmp_path_factory: pytest.TempPathFactory, eu_west_1_config: EnvironmentConfig) -> Path:
    """The state stack and prod, synthesized in eu-west-1: one more synthesis, only when a test asks for it."""
    from cdktf import App

    from stacks.environment import EnvironmentStack
    from stacks.state import StateStack

    outdir = tmp_path_factory.mktemp("cdktf.eu-west-1")
    app = App(outdir=str(outdir))
    EnvironmentStack(app, eu_west_1_config, StateStack(app, eu_west_1_config).store)
    app.synth()
    return outdir


@pytest.fixture(scope="session")
def eu_west_1(eu_west_1_dir: Path) -> StackJson:
    return StackJson.read(eu_west_1_dir, "prod")


@pytest.fixture(scope="session")
def eu_west_1_checkov(eu_west_1_dir: Path) -> GateResult:
    return gate(eu_west_1_dir)


@pytest.fixture(scope="session")
def toolchain() -> Toolchain:
    """Terraform and the provider mirror for the offline plan and apply rehearsal (tests skip without them)."""
    try:
        return find_toolchain()
    except ToolchainMissing as missing:
        pytest.skip(f"offline terraform: {missing}")


@pytest.fixture(scope="session")
def bootstrapped(synth_dir: Path, toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    """dev bootstrapped on a fresh emulator (tests/rehearsal.py), once per session."""
    yield from bootstrap_rehearsal(synth_dir, toolchain, tmp_path_factory.mktemp("bootstrap"))


_SUMMARY_LINES = pytest.StashKey[dict[str, list[str]]]()


def _summary(request: pytest.FixtureRequest, title: str) -> list[str]:
    return request.config.stash.setdefault(_SUMMARY_LINES, {}).setdefault(title, [])


@pytest.fixture(scope="session")
def plan_summary(request: pytest.FixtureRequest) -> list[str]:
    """Lines for the end of the run (`plan: <stack>: N to add`), so that CI output shows every plan."""
    return _summary(request, "terraform plan")


@pytest.fixture(scope="session")
def apply_summary(request: pytest.FixtureRequest) -> list[str]:
    """Lines for the end of the run (`apply: <stack>: N of M applied, K stood in`): every apply rehearsal."""
    return _summary(request, "terraform apply")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    for title, lines in config.stash.get(_SUMMARY_LINES, {}).items():
        if lines:
            terminalreporter.write_sep("-", title)
            for line in sorted(lines):
                terminalreporter.write_line(line)
