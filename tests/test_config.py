"""Invalid environment configs stop synthesis with one line naming environment, field and reason."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest

from environments.config import (
    ENVIRONMENT_NAMES,
    ConfigError,
    check_together,
    load_environments,
    parse_environment,
    read_raw,
)

ROOT = Path(__file__).resolve().parent.parent


def _raw(name: str) -> dict:
    return copy.deepcopy(read_raw(name))


def _set(raw: dict, dotted: str, value: object) -> dict:
    *parents, leaf = dotted.split(".")
    node = raw
    for part in parents:
        node = node[part]
    node[leaf] = value
    return raw


def rejection(name: str, field: str, value: object) -> str:
    """The error environment `name` is refused with when `field` is `value`: one line, naming the environment."""
    with pytest.raises(ConfigError) as raised:
        parse_environment(name, _set(_raw(name), field, value))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"environment {name!r}: ")
    return message


# (environment, field to change, bad value, text the one-line message must contain)
BAD_CONFIGS = [
    ("prod", "vpc_cidr", "10.40.0.0/33", "vpc_cidr"),
    ("prod", "vpc_cidr", "10.40.0.1/16", "vpc_cidr"),
    ("prod", "vpc_cidr", "8.8.0.0/16", "not a private range"),
    ("dev", "vpc_cidr", "10.20.0.0/24", "between /16 and /20"),
    ("prod", "region", "us-middle-1", "unknown AWS region 'us-middle-1'"),
    ("staging", "replica_region", "eu-atlantis-1", "unknown AWS region"),
    ("prod", "replica_region", "us-east-1", "replica_region: must differ from region"),
    ("prod", "compute.web.min_tasks", 1, "compute.web.min_tasks: prod needs at least 2 tasks"),
    ("staging", "compute.websocket.min_tasks", 1, "compute.websocket.min_tasks: staging needs at least 2 tasks"),
    ("prod", "monthly_budget_usd", 0, "monthly_budget_usd"),
    ("prod", "account_id", "12345", "account_id"),
    ("dev", "alert_emails", ["not-an-address"], "not an e-mail address"),
    ("dev", "alert_emails", [], "alert_emails"),
    ("prod", "database.backup_retention_days", 7, "database.backup_retention_days: prod keeps backups at least 30 days"),
    ("prod", "cache.replicas_per_shard", 0, "cache: prod needs at least 2 shards with 1 replica each"),
    ("dev", "compute.web.memory_mib", 16384, "outside Fargate"),
    ("dev", "compute.web.max_tasks", 0, "compute.web.max_tasks"),
    ("prod", "domain", "DirectFanz.IO", "not a lower-case DNS name"),
    ("prod", "availability_zones", 2, "availability_zones: prod spans 3 zones"),
    ("dev", "database.instance_class", "r7g.large", "database.instance_class"),
    ("prod", "streaming.channel_pool_size", 0, "streaming.channel_pool_size"),
    ("dev", "streaming.ingest_cidrs", ["203.0.113.7/24"], "streaming.ingest_cidrs: '203.0.113.7/24' is not an IPv4 network"),
    ("staging", "streaming.ingest_cidrs", [f"198.51.100.{i}/32" for i in range(11)], "streaming.ingest_cidrs"),
    ("dev", "colour", "blue", "colour"),  # a typo'd key is refused, not ignored
    ("prod", "security.secret_recovery_window_days", 3, "neither 0 (delete at once) nor Secrets Manager's 7-30 days"),
    ("dev", "security.waf_rate_limit_per_ip", 10, "security.waf_rate_limit_per_ip"),
    ("prod", "dns.delegations", {"staging.example.com": ["ns-1.awsdns-01.org", "ns-2.awsdns-02.net",
                                                          "ns-3.awsdns-03.com", "ns-4.awsdns-04.co.uk"]},
     "dns.delegations: staging.example.com is not a subdomain of directfanz.io"),
    ("prod", "dns.delegations", {"staging.directfanz.io": ["ns-1.awsdns-01.org"]}, "dns.delegations"),
]


@pytest.mark.parametrize(("name", "field", "value", "expected"), BAD_CONFIGS, ids=lambda v: str(v)[:24])
def test_bad_config_is_rejected_with_one_line(name: str, field: str, value: object, expected: str) -> None:
    assert expected in rejection(name, field, value)


def test_overlapping_cidrs_between_environments_are_rejected() -> None:
    configs = {name: _raw(name) for name in ENVIRONMENT_NAMES}
    configs["staging"]["vpc_cidr"] = "10.40.128.0/20"  # inside prod's 10.40.0.0/16
    with pytest.raises(ConfigError, match=r"environment 'prod': vpc_cidr: 10.40.0.0/16 overlaps staging's"):
        load_environments(configs)


def test_duplicate_domains_are_rejected() -> None:
    parsed = [parse_environment(name, _raw(name)) for name in ENVIRONMENT_NAMES]
    clash = parsed[1].model_copy(update={"domain": parsed[0].domain})
    with pytest.raises(ConfigError, match=r"domain: dev\.directfanz\.io is already dev's"):
        check_together([parsed[0], clash])


def test_committed_environments_are_valid() -> None:
    assert [config.name for config in load_environments()] == list(ENVIRONMENT_NAMES)


def test_main_stops_before_synthesis_with_one_line(tmp_path: Path) -> None:
    for name in ENVIRONMENT_NAMES:
        raw_text = (ROOT / "environments" / f"{name}.toml").read_text()
        if name == "prod":
            raw_text = raw_text.replace('vpc_cidr = "10.40.0.0/16"', 'vpc_cidr = "10.40.0.0/99"')
        (tmp_path / f"{name}.toml").write_text(raw_text)
    completed = subprocess.run(
        [sys.executable, "main.py"],
        cwd=ROOT,
        env={**os.environ, "DIRECTFANZ_ENVIRONMENTS_DIR": str(tmp_path), "CDKTF_OUTDIR": str(tmp_path / "out")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0, completed.stderr
    assert completed.stderr.startswith("config error: environment 'prod': vpc_cidr:")
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "out").exists()
