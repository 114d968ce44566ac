"""Operator views: change review, reference, cost estimate, architecture picture; and the house lint.

The views read the session's synthesized JSON (`synth_dir`, `stacks`); a
changed synth is made by editing a copy of it, never by synthesizing again.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tools.views import architecture, cost, diff, reference
from tools.views.synth import ROOT, read_stacks


def _edited_copy(synth_dir: Path, tmp_path: Path, stack: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the session synth with one stack's JSON edited."""
    copy = tmp_path / "after"
    shutil.copytree(synth_dir / "stacks", copy / "stacks")
    path = copy / "stacks" / stack / "cdk.tf.json"
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document, indent=2))
    return copy


def _first(document: dict[str, Any], *resource_types: str) -> tuple[str, str, dict[str, Any]]:
    for resource_type in resource_types:
        for logical_id, body in sorted(document["resource"].get(resource_type, {}).items()):
            return resource_type, logical_id, body
    raise AssertionError(f"no resource of {resource_types} in the stack")


# -- change review --

def test_diff_of_identical_synths_is_empty_and_safe(synth_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert diff.main([str(synth_dir), str(synth_dir)]) == 0
    assert "No changes." in capsys.readouterr().out


def _diff_cli(before: Path, after: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.views.diff", str(before), str(after)],
                          cwd=ROOT, capture_output=True, text=True, check=False)


def test_diff_database_instance_class_change_is_stateful_with_exit_code(synth_dir: Path, tmp_path: Path) -> None:
    changed: list[str] = []

    def resize(document: dict[str, Any]) -> None:
        resource_type, logical_id, body = _first(document, "aws_rds_cluster_instance", "aws_db_instance")
        changed.append(f"{resource_type}.{logical_id}")
        body["instance_class"] = "db.r7g.2xlarge" if body["instance_class"] != "db.r7g.2xlarge" else "db.r7g.4xlarge"

    completed = _diff_cli(synth_dir, _edited_copy(synth_dir, tmp_path, "prod", resize))
    assert completed.returncode == diff.Verdict.STATEFUL_CHANGE == 2, completed.stdout + completed.stderr
    assert f"~ {changed[0]}  [STATEFUL]" in completed.stdout
    assert "instance_class: 'db." in completed.stdout
    summary = completed.stdout.split("## Summary")[1]
    assert f"prod/{changed[0]}: changed" in summary
    assert "Stateful resources change in place" in summary


def test_diff_tag_only_change_is_not_stateful(synth_dir: Path, tmp_path: Path) -> None:
    def tag(document: dict[str, Any]) -> None:
        _, _, body = _first(document, "aws_rds_cluster_instance", "aws_db_instance")
        body.setdefault("tags", {})["Reviewed"] = "yes"
        for key in document["resource"]["aws_kms_key"].values():
            key.setdefault("tags", {})["Reviewed"] = "yes"
        for provider in document["provider"]["aws"]:  # the cost-allocation tags every resource inherits
            provider["default_tags"][0]["tags"]["Owner"] = "payments-team"

    completed = _diff_cli(synth_dir, _edited_copy(synth_dir, tmp_path, "prod", tag))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "tags.Reviewed: (absent) -> 'yes'" in completed.stdout
    assert "~ provider.aws" in completed.stdout and "tags.Owner: 'platform-team' -> 'payments-team'" in completed.stdout
    assert "[STATEFUL" not in completed.stdout
    assert "No stateful resource is touched." in completed.stdout


def test_diff_flags_argument_that_replaces_a_stateful_resource(synth_dir: Path, tmp_path: Path) -> None:
    def rename(document: dict[str, Any]) -> None:
        body = document["resource"]["aws_s3_bucket"]["bucket_bucket"]
        body["bucket"] = body["bucket"] + "-v2"

    changes = diff.compare(read_stacks(synth_dir), read_stacks(_edited_copy(synth_dir, tmp_path, "state", rename)))
    assert [(change.stack, change.address, change.replacing) for change in changes] == [
        ("state", "aws_s3_bucket.bucket_bucket", ["bucket"])
    ]
    assert diff.verdict(changes) == diff.Verdict.STATEFUL_REPLACEMENT
    assert "REPLACED (forced by bucket)" in diff.render(changes)


def test_diff_reports_removed_stateful_resource_as_destroyed(synth_dir: Path, tmp_path: Path) -> None:
    after = _edited_copy(synth_dir, tmp_path, "prod",
                         lambda document: document["resource"]["aws_kms_key"].pop("keys_database_key"))
    changes = diff.compare(read_stacks(synth_dir), read_stacks(after))
    removed = [change for change in changes if change.action == "remove"]
    assert [change.address for change in removed] == ["aws_kms_key.keys_database_key"]
    assert removed[0].stateful and diff.verdict(changes) == diff.Verdict.STATEFUL_REPLACEMENT


def test_diff_of_stateless_change_is_safe(synth_dir: Path, tmp_path: Path) -> None:
    def widen(document: dict[str, Any]) -> None:
        document["resource"]["aws_vpc"]["network_vpc"]["enable_dns_hostnames"] = False

    changes = diff.compare(read_stacks(synth_dir), read_stacks(_edited_copy(synth_dir, tmp_path, "dev", widen)))
    assert [(change.address, list(change.attributes)) for change in changes] == [
        ("aws_vpc.network_vpc", ["enable_dns_hostnames"])
    ]
    assert diff.verdict(changes) == diff.Verdict.SAFE


# -- reference --

def test_reference_is_current(synth_dir: Path) -> None:
    expected = reference.render(read_stacks(synth_dir))
    committed = reference.OUTPUT.read_text() if reference.OUTPUT.exists() else ""
    assert committed == expected, "docs/reference.md is stale: regenerate it with `python -m tools.views.reference`"


def test_reference_lists_module_inputs_environment_settings_and_stack_outputs(synth_dir: Path) -> None:
    text = reference.render(read_stacks(synth_dir))
    network = text.split("### `modules/network.py`")[1].split("\n### ")[0]
    assert "| `nat_per_zone` | one NAT gateway per zone (prod) or one for all (cheaper, dev) | `bool` | n/a | yes |" in network
    assert "#### Outputs: `Network`" in network
    assert "| `on_demand_base` | Tasks above this many per service may run on FARGATE_SPOT (R10.1). (ge=0) |" in text
    assert "| `database.instance_class` | `db.t4g.medium` |" in text
    assert "| `state_bucket` | `${aws_s3_bucket.bucket_bucket.bucket}` |" in text


# -- cost estimate --

@pytest.fixture(scope="module")
def estimates(synth_dir: Path) -> dict[str, cost.Estimate]:
    price = cost.PriceTable()
    return {name: cost.estimate(stack, price) for name, stack in read_stacks(synth_dir).items()}


def test_cost_totals_equal_the_sum_of_their_lines(estimates: dict[str, cost.Estimate]) -> None:
    for estimate in estimates.values():
        assert estimate.lines, estimate.stack
        assert estimate.total == pytest.approx(sum(line.usd for line in estimate.lines), abs=0.005)
        assert [line.usd for line in estimate.lines] == sorted((line.usd for line in estimate.lines), reverse=True)


def test_cost_estimate_for_prod_lists_the_main_lines_with_the_price_date(
    estimates: dict[str, cost.Estimate], synth_dir: Path
) -> None:
    prod = estimates["prod"]
    categories = {line.category for line in prod.lines}
    main_lines = {"Compute", "Database", "Cache", "NAT", "Load balancer", "CloudFront", "Streaming", "Storage"}
    assert main_lines <= categories, main_lines - categories
    assert all(line.usd > 0 for line in prod.lines if line.category in main_lines)
    fargate = [line for line in prod.lines if line.category == "Compute"]
    assert {line.item for line in fargate} == {"Fargate: directfanz-prod-web", "Fargate: directfanz-prod-websocket"}
    text = cost.render(read_stacks(synth_dir), cost.PriceTable())
    section = text.split("## prod: ")[1].split("\n## ")[0]
    assert f"| **Total** | | | **${prod.total:,.2f}** |" in section
    assert "| Fargate Spot |" in section and "| S3 Intelligent-Tiering |" in section and "| Sizing |" in section
    assert "An estimate, not a quote" in text and f"compiled {cost.PriceTable().compiled}" in text


def test_price_table_dates_and_sources_every_price() -> None:
    table = cost.PriceTable().table
    for name, entry in {**table["price"], **table["instance"]}.items():
        assert str(entry.get("source", "")).startswith("https://aws.amazon.com/"), name
        assert re.fullmatch(r"\d{4}-\d{2}", str(entry.get("as_of", ""))), name


# -- architecture picture --

REGENERATE = "regenerate with `python -m tools.views.architecture` (needs Graphviz: scripts/install-services)"


@pytest.fixture(scope="module")
def pictures(synth_dir: Path) -> dict[str, str]:
    return architecture.dot_files(read_stacks(synth_dir))


def test_architecture_pictures_are_current(pictures: dict[str, str]) -> None:
    for name, text in pictures.items():
        committed = architecture.OUTPUT / f"{name}.dot"
        assert committed.exists() and committed.read_text() == text, f"docs/architecture/{name}.dot is stale: {REGENERATE}"
        # The renders come from that .dot: the SVG must draw exactly its nodes, and the PNG must exist.
        svg = (architecture.OUTPUT / f"{name}.svg").read_text()
        drawn = set(re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]+)</title>', svg))
        declared = set(re.findall(r'^\s+"?([A-Za-z0-9_]+)"? \[label=', text, re.M))
        assert drawn == declared, f"docs/architecture/{name}.svg is older than its .dot: {REGENERATE}"
        assert (architecture.OUTPUT / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _edge(text: str, source_prefix: str, target_prefix: str) -> bool:
    return re.search(rf'^  "?{source_prefix}[^ ]*"? -> "?{target_prefix}', text, re.M) is not None


def test_prod_picture_follows_the_request_path_from_the_json(pictures: dict[str, str]) -> None:
    prod = pictures["prod"]
    for tier in ("dns", "edge", "balancing", "services", "streaming", "data", "storage", "pipeline", "observability"):
        assert f"subgraph cluster_{tier} {{" in prod, tier
    assert _edge(prod, "users", "aws_route53_zone__")
    assert _edge(prod, "aws_route53_zone__", "aws_cloudfront_distribution__")
    assert re.search(r'"aws_cloudfront_distribution__\w+" -> "aws_wafv2_web_acl__\w+" \[dir=none\]', prod)
    assert _edge(prod, "aws_cloudfront_distribution__", "aws_lb__")
    assert _edge(prod, "aws_cloudfront_distribution__", "aws_s3_bucket__")
    assert re.search(r'"aws_lb__\w+" -> "aws_ecs_service__web_service" \[label="TCP 3000"\]', prod)
    assert re.search(r'"aws_lb__\w+" -> "aws_ecs_service__websocket_service" \[label="TCP 3001"\]', prod)
    for service in ("web_service", "websocket_service"):
        assert re.search(rf'"aws_ecs_service__{service}" -> "aws_db_proxy__\w+" \[label="TCP 5432"\]', prod)
        assert re.search(rf'"aws_ecs_service__{service}" -> "aws_elasticache_replication_group__\w+" \[label="TCP 6379"\]', prod)
        assert re.search(rf'"delivery__aws_codebuild_project" -> "aws_ecs_service__{service}" \[label="deploys"', prod)
    assert re.search(r'"aws_db_proxy__\w+" -> "aws_rds_cluster__\w+" \[label="TCP 5432"\]', prod)
    assert re.search(r'^  users -> "aws_medialive_input" \[label="RTMP"', prod, re.M)
    assert _edge(prod, "aws_medialive_input", "aws_medialive_channel")
    assert _edge(prod, "aws_medialive_channel", "aws_s3_bucket__")
    assert re.search(r'CloudWatch alarms\\nx \d+\\nwatching: [^"]*services', prod)
    assert _edge(prod, "aws_cloudwatch_metric_alarm", "aws_sns_topic__")
    assert "2 x db.r7g.xlarge" in prod and "cache.r7g.large" in prod


# -- house habits: the lint and type check the test command runs --

CODE_PATHS = ("main.py", "modules", "environments", "stacks", "tools", "migration")


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean() -> None:
    completed = _run("ruff", "check", "--no-cache", ".")
    assert completed.returncode == 0, f"ruff check (fix with `ruff check --fix .`):\n{completed.stdout}{completed.stderr}"


def test_mypy_is_clean() -> None:
    paths = [path for path in CODE_PATHS if (ROOT / path).exists()]
    completed = _run("mypy", *paths)
    assert completed.returncode == 0, f"mypy {' '.join(paths)}:\n{completed.stdout}{completed.stderr}"
