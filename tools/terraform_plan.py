"""Let Terraform itself judge synthesized stacks, offline: init, validate, plan.

    python -m tools.terraform_plan [cdktf.out] [stack ...]

prints `plan: <stack>: N to add` for each stack (all of them by default) and
fails on the first stack Terraform rejects. No AWS account and no network:

- the provider comes from a local filesystem mirror (found on this machine,
  never downloaded), through a CLI configuration written for the run;
- each stack is planned from a temporary copy with a local backend, the
  mirror's provider version, mock credentials, and every AWS API call sent to
  a local moto server (data sources such as caller identity answer there);
- a stack that looks up another stack's network (the `migration` stack: a VPC
  by tag, subnets by tag, security groups by name) finds it in moto, which is
  given what those lookups ask for before the plan (`seed_lookups`);
- the synthesized JSON itself is never changed: it keeps the provider
  constraint and the backend operators use.

The bindings are for hashicorp/aws 6.x; the mirror may hold 5.x. Arguments
that only 6.x knows are listed once, in `SIX_X_ONLY_ARGUMENTS`.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROVIDER = "registry.terraform.io/hashicorp/aws"
ROOT = Path(__file__).resolve().parents[1]
STEP_TIMEOUT_SECONDS = 600
# Terraform's plugin cache is not safe for concurrent `init`s: one at a time in this process, and one
# cache per scratch folder so that runs in other processes (other worktrees) never share it. With an
# unpacked mirror the cache only holds links, so a fresh one costs nothing.
_INIT_LOCK = threading.Lock()


@dataclass(frozen=True)
class SixOnlyArgument:
    """An argument the stacks use that hashicorp/aws 5.x does not know."""

    block: str  # resource type, or "data.<type>" for a data source
    path: str  # dot-separated path inside the block's JSON body; lists on the way are walked element by element
    reason: str  # what the argument does, and why losing it in the offline plan hides nothing that plan checks


SIX_X_ONLY_ARGUMENTS: tuple[SixOnlyArgument, ...] = (
    SixOnlyArgument("aws_ecs_service", "deployment_configuration",
                    "ECS native blue/green (strategy BLUE_GREEN, bake time): a block 6.x added; 5.100 has no "
                    "deployment_configuration block (tests/test_compute.py asserts it)"),
    SixOnlyArgument("aws_ecs_service", "load_balancer.advanced_configuration",
                    "the green target group, production/test listener rules and infrastructure role that native "
                    "blue/green swaps between: 6.x only; the resources it references are still planned"),
)
"""Arguments stripped from the temporary copy when the mirror's provider is older than 6.

The synthesized JSON keeps them (operators install 6.x) and the JSON tests keep
asserting them; only Terraform's offline plan, which runs the 5.x mirror, does
not see them. Add an entry when `terraform validate` (run by the plan test)
reports `No argument or block type is named "x"` for an argument that the 6.x
provider documents: the block Terraform names, the path below it, the reason.
Never list a whole resource type or an argument 5.x knows: the plan would stop
checking it. tests/test_terraform_plan.py fails on entries no stack uses.
"""


class ToolchainMissing(Exception):
    """Terraform, the provider mirror or moto is not on this machine (tests skip with this reason)."""


class TerraformFailed(Exception):
    """A terraform step rejected a stack; the message carries Terraform's output."""


@dataclass(frozen=True)
class Toolchain:
    terraform: Path
    mirror: Path  # the folder holding registry.terraform.io/
    provider_version: str

    @property
    def provider_major(self) -> int:
        return int(self.provider_version.split(".")[0])


@dataclass
class PlanResult:
    stack: str
    to_add: list[str] = field(default_factory=list)  # addresses of the resource instances the plan creates
    seconds: dict[str, float] = field(default_factory=dict)  # per terraform step

    @property
    def resources(self) -> set[str]:
        """<type>.<logical id> of each resource planned, whatever its count/for_each instances."""
        return {re.sub(r"\[[^]]*\]$", "", address) for address in self.to_add}

    @property
    def line(self) -> str:
        line = f"plan: {self.stack}: {len(self.to_add)} to add"
        if len(self.resources) != len(self.to_add):
            line += f" ({len(self.resources)} resources; count/for_each instances included)"
        return line


# -- finding terraform and the provider mirror --

def _platform() -> str:
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{platform.system().lower()}_{machine}"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def _mirror_candidates() -> list[Path]:
    # Terraform's own implied mirror folders first, then any registry.terraform.io near the root.
    implied = [Path.home() / ".terraform.d" / "plugins", Path.home() / ".local" / "share" / "terraform" / "plugins",
               Path("/usr/local/share/terraform/plugins"), Path("/usr/share/terraform/plugins")]
    if shutil.which("find") is None:
        return implied
    found = subprocess.run(["find", "/", "-maxdepth", "4", "-type", "d", "-name", "registry.terraform.io"],
                           capture_output=True, text=True, check=False).stdout.split()
    return implied + [Path(path).parent for path in found]


def _provider_versions(mirror: Path) -> list[str]:
    versions = mirror / PROVIDER
    if not versions.is_dir():
        return []
    # A symlinked platform folder is a plugin cache pointing at a mirror: use the mirror itself.
    return [entry.name for entry in versions.iterdir()
            if not (entry / _platform()).is_symlink() and any((entry / _platform()).glob("terraform-provider-aws*"))]


def find_toolchain() -> Toolchain:
    terraform = shutil.which("terraform")
    if terraform is None:
        raise ToolchainMissing("terraform is not on the PATH")
    mirrors = [(version, mirror) for mirror in _mirror_candidates() for version in _provider_versions(mirror)]
    if not mirrors:
        raise ToolchainMissing(f"no filesystem mirror of {PROVIDER} for {_platform()} "
                               "(looked in Terraform's implied mirror folders and `find / -maxdepth 4`)")
    version, mirror = max(mirrors, key=lambda found: _version_key(found[0]))
    return Toolchain(Path(terraform), mirror, version)


# -- a local AWS for data sources --

def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def moto_server(log: Path, settings: Mapping[str, str] | None = None) -> Iterator[str]:
    """A moto server on a loopback port for the duration; yields its URL. `settings`: MOTO_* variables."""
    if importlib.util.find_spec("moto") is None:
        raise ToolchainMissing("moto is not installed (pip install -r requirements.txt)")
    port = _free_loopback_port()
    with log.open("w") as log_file:
        # moto.server, corrected where it is wrong about AWS (tools/moto_server.py)
        process = subprocess.Popen([sys.executable, "-m", "tools.moto_server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT,
                                   env={**os.environ, **(settings or {})})
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # busy answering a request Terraform gave up on
            process.kill()
            process.wait()


# -- the temporary copy --

def _strip(node: Any, path: list[str]) -> int:
    """Remove the argument at `path` below `node`; lists are walked element by element. Returns how many went."""
    if isinstance(node, list):
        return sum(_strip(element, path) for element in node)
    if not isinstance(node, dict) or path[0] not in node:
        return 0
    if len(path) == 1:
        del node[path[0]]
        return 1
    return _strip(node[path[0]], path[1:])


def _blocks(document: dict[str, Any], block: str) -> list[Any]:
    kind, _, block_type = block.rpartition(".")
    section = document.get("data" if kind == "data" else "resource", {})
    return list(section.get(block_type, {}).values())


def strip_six_only(document: dict[str, Any],
                   arguments: tuple[SixOnlyArgument, ...] = SIX_X_ONLY_ARGUMENTS) -> dict[SixOnlyArgument, int]:
    """Remove the listed arguments from `document` in place; {entry: how many were removed}."""
    return {argument: sum(_strip(body, argument.path.split(".")) for body in _blocks(document, argument.block))
            for argument in arguments}


def plan_copy(document: dict[str, Any], toolchain: Toolchain, state_path: Path) -> dict[str, Any]:
    """The stack as the offline plan needs it; `document` itself is left as synthesized."""
    planned = copy.deepcopy(document)
    terraform = planned["terraform"]
    terraform["backend"] = {"local": {"path": str(state_path)}}
    terraform["required_providers"]["aws"]["version"] = toolchain.provider_version
    for provider in planned["provider"]["aws"]:
        # With skip_requesting_account_id the provider knows no account, so it would refuse every allowed id.
        provider.pop("allowed_account_ids", None)
        provider.update(
            access_key="mock-access-key",
            secret_key="mock-secret-key",
            skip_credentials_validation=True,
            skip_requesting_account_id=True,
            skip_metadata_api_check=True,
            skip_region_validation=True,
            s3_use_path_style=True,  # moto serves buckets by path, not by virtual host
        )
    if toolchain.provider_major < 6:
        strip_six_only(planned)
    return planned


# -- other stacks' resources a stack looks up --

def seed_lookups(document: dict[str, Any], aws_endpoint: str) -> list[str]:
    """Create in moto what the stack's lookups of other stacks' resources find, so that the plan reads them
    as it would after those stacks' apply: VPCs by tags, subnets by VPC and tags (two zones), security
    groups by VPC and name. A lookup that already finds something (an earlier plan against the same server)
    creates nothing. Returns the ids created."""
    data = document.get("data", {})
    if not any(kind in data for kind in ("aws_vpc", "aws_subnets", "aws_security_group")):
        return []
    import boto3  # only stacks with lookups need it

    region = next(provider["region"] for provider in document["provider"]["aws"] if "alias" not in provider)
    ec2 = boto3.client("ec2", endpoint_url=aws_endpoint, region_name=region, aws_access_key_id="mock-access-key",
                       aws_secret_access_key="mock-secret-key")
    created: list[str] = []
    vpcs: dict[str, str] = {}  # "${data.aws_vpc.<id>.id}" -> vpc id

    def tags(pairs: dict[str, str]) -> list[dict[str, str]]:
        return [{"Key": key, "Value": value} for key, value in sorted(pairs.items())]

    for logical_id, body in sorted(data.get("aws_vpc", {}).items()):
        wanted = body.get("tags", {})
        found = ec2.describe_vpcs(Filters=[{"Name": f"tag:{k}", "Values": [v]} for k, v in wanted.items()])["Vpcs"]
        vpc_id = found[0]["VpcId"] if found else ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
            {"ResourceType": "vpc", "Tags": tags(wanted)}])["Vpc"]["VpcId"]
        created += [] if found else [vpc_id]
        vpcs[f"${{data.aws_vpc.{logical_id}.id}}"] = vpc_id
    for body in data.get("aws_subnets", {}).values():
        filters = {entry["name"]: entry["values"] for entry in body.get("filter", [])}
        vpc_id = vpcs[filters["vpc-id"][0]]
        wanted = {name.removeprefix("tag:"): values[0] for name, values in filters.items() if name.startswith("tag:")}
        lookup = [{"Name": "vpc-id", "Values": [vpc_id]}] + [{"Name": f"tag:{k}", "Values": [v]} for k, v in wanted.items()]
        if not ec2.describe_subnets(Filters=lookup)["Subnets"]:
            taken = len(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"])
            for number, zone in enumerate("ab", taken):
                created.append(ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{number}.0/24", AvailabilityZone=f"{region}{zone}",
                                                 TagSpecifications=[{"ResourceType": "subnet", "Tags": tags(wanted)}])["Subnet"]["SubnetId"])
    for body in data.get("aws_security_group", {}).values():
        vpc_id = vpcs[body["vpc_id"]]
        lookup = [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [body["name"]]}]
        if not ec2.describe_security_groups(Filters=lookup)["SecurityGroups"]:
            created.append(ec2.create_security_group(GroupName=body["name"], Description="another stack's group",
                                                     VpcId=vpc_id)["GroupId"])
    return created


# -- running terraform --

def _cli_config(mirror: Path) -> str:
    # Only the mirror: `direct` is excluded, so nothing is ever downloaded.
    return (
        "provider_installation {\n"
        f"  filesystem_mirror {{\n    path    = {json.dumps(str(mirror))}\n    include = [{json.dumps(PROVIDER)}]\n  }}\n"
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n'
        "}\n"
    )


def _environment(toolchain: Toolchain, workdir: Path, aws_endpoint: str) -> dict[str, str]:
    """The environment of every terraform command run in `workdir`; writes its CLI configuration once."""
    cli_config, plugin_cache = workdir / "terraformrc", workdir / "plugin-cache"
    with _INIT_LOCK:
        if not cli_config.exists():
            plugin_cache.mkdir(parents=True, exist_ok=True)
            cli_config.write_text(_cli_config(toolchain.mirror))
    # Inherited AWS_* and TF_* settings (profiles, TF_CLI_ARGS, ...) could reach real AWS or change the run.
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "TF_"))}
    environment.update(
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_PLUGIN_CACHE_DIR=str(plugin_cache),
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
        # The SDK's global endpoint: every service the provider calls goes to moto, whatever data sources land.
        AWS_ENDPOINT_URL=aws_endpoint,
    )
    return environment


@dataclass
class StackCopy:
    """A stack's temporary copy, `workdir`/<stack>, and the terraform commands run in it.

    Copies in the same `workdir` share its CLI configuration and plugin cache, and may run in threads.
    """

    stack: str
    directory: Path
    toolchain: Toolchain
    environment: dict[str, str]
    seconds: dict[str, float] = field(default_factory=dict)  # per terraform step (or the label given)

    @classmethod
    def write(cls, outdir: Path, stack: str, toolchain: Toolchain, aws_endpoint: str, workdir: Path,
              prepare: Callable[[dict[str, Any], Toolchain, Path], dict[str, Any]] = plan_copy) -> StackCopy:
        """`prepare(synthesized document, toolchain, state path)` makes the copy; the default is the plan's."""
        synthesized = outdir / "stacks" / stack
        document = json.loads((synthesized / "cdk.tf.json").read_text())
        directory = workdir / stack
        directory.mkdir(parents=True)
        for asset in synthesized.iterdir():  # assets (Lambda zips, ...) the JSON names by relative path
            if asset.name != "cdk.tf.json" and not asset.name.startswith("."):
                (directory / asset.name).symlink_to(asset.resolve())
        # Indented, so that Terraform's diagnostics quote a short line rather than the whole stack.
        (directory / "cdk.tf.json").write_text(json.dumps(prepare(document, toolchain, directory / "terraform.tfstate"),
                                                          indent=1))
        return cls(stack, directory, toolchain, _environment(toolchain, workdir, aws_endpoint))

    def terraform(self, step: str, *arguments: str, label: str = "",
                  exit_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        """Run `terraform <step> <arguments>`; raises TerraformFailed on an exit code not in `exit_codes`."""
        started = time.monotonic()
        completed = subprocess.run([str(self.toolchain.terraform), step, *arguments, "-no-color"], cwd=self.directory,
                                   env=self.environment, capture_output=True, text=True, timeout=STEP_TIMEOUT_SECONDS,
                                   check=False)
        self.seconds[label or step] = time.monotonic() - started
        # Kept beside the copy: a kept workdir shows what each step said.
        (self.directory / f"{(label or step).replace(' ', '-')}.log").write_text(completed.stdout + completed.stderr)
        if completed.returncode not in exit_codes:
            raise TerraformFailed(f"{self.stack}: terraform {step} failed:\n" + diagnostics(completed))
        return completed

    def init(self, *arguments: str) -> None:
        with _INIT_LOCK:
            self.terraform("init", "-input=false", *arguments)


def diagnostics(completed: subprocess.CompletedProcess[str]) -> str:
    """Terraform's diagnostics, cut to a readable size."""
    # Diagnostics go to stderr; stdout (a whole plan, say) only matters when stderr is empty.
    output = completed.stderr.strip() or completed.stdout
    # Diagnostics quote the offending source line, which can be a whole embedded script.
    lines = [line if len(line) <= 300 else line[:300] + " [...]" for line in output.splitlines()]
    return "\n".join(lines)[-8000:]


def plan_stack(outdir: Path, stack: str, toolchain: Toolchain, aws_endpoint: str, workdir: Path) -> PlanResult:
    """init, validate, plan and show one stack from a temporary copy in `workdir`/<stack>."""
    stack_copy = StackCopy.write(outdir, stack, toolchain, aws_endpoint, workdir)
    stack_copy.init()
    stack_copy.terraform("validate")
    seed_lookups(json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text()), aws_endpoint)
    stack_copy.terraform("plan", "-refresh=false", "-input=false", "-lock=false", "-out=plan.tfplan")
    plan = json.loads(stack_copy.terraform("show", "-json", "plan.tfplan").stdout)
    result = PlanResult(stack, seconds=stack_copy.seconds)
    result.to_add = [change["address"] for change in plan.get("resource_changes", [])
                     if change["mode"] == "managed" and "create" in change["change"]["actions"]]
    return result


def plan_stacks(outdir: Path, stacks: list[str]) -> Iterator[PlanResult]:
    """Plan each stack in turn with one moto server and one scratch folder; raises on the first failure."""
    toolchain = find_toolchain()
    with tempfile.TemporaryDirectory(prefix="terraform-plan-") as scratch:
        workdir = Path(scratch)
        with moto_server(workdir / "moto.log") as endpoint:
            for stack in stacks:
                yield plan_stack(outdir, stack, toolchain, endpoint, workdir)


def main(argv: list[str]) -> int:
    outdir = Path(argv[0] if argv else "cdktf.out")
    stacks = argv[1:] or sorted(path.parent.name for path in (outdir / "stacks").glob("*/cdk.tf.json"))
    if not stacks:
        print(f"no synthesized stacks in {outdir}/stacks: run `python main.py` first", file=sys.stderr)
        return 2
    try:
        for result in plan_stacks(outdir, stacks):
            print(result.line, flush=True)
    except ToolchainMissing as missing:
        print(f"cannot plan offline: {missing}", file=sys.stderr)
        return 2
    except TerraformFailed as failed:
        print(failed, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
