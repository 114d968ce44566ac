"""`migration cache rebuild …` and `migration cache check …`."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from migration.cli_types import Subcommands
from migration.events import EventLog, console


def register(commands: Subcommands) -> None:
    rebuild = commands.add_parser("rebuild", help="warm the cache from PostgreSQL per the key-pattern description")
    rebuild.add_argument("--pg", required=True, help="PostgreSQL URL (only read)")
    rebuild.add_argument("--patterns", type=Path, help="key-pattern description (default: the platform's, patterns.toml)")
    check = commands.add_parser("check", help="run the platform's operation mix; flag what breaks in cluster mode")
    check.add_argument("--json", action="store_true")
    for command, handler in ((rebuild, _rebuild), (check, _check)):
        command.add_argument("--redis", required=True, help="redis:// or rediss:// URL of any node")
        command.add_argument("--cluster", action="store_true", help="cluster mode (ElastiCache cluster mode enabled)")
        command.add_argument("--workdir", type=Path, default=Path("migration-runs"))
        command.set_defaults(handler=handler)


def _rebuild(args: argparse.Namespace) -> int:
    from migration.cache import patterns
    from migration.cache.clients import connect
    from migration.cache.rebuild import rebuild

    events = EventLog(args.workdir / "cache" / "events.jsonl")
    written = rebuild(args.pg, connect(args.redis, args.cluster), patterns.load(args.patterns or patterns.DEFAULT),
                      on_batch=lambda name, n: events.emit("cache-batch", pattern=name, keys=n))
    events.emit("cache-rebuilt", **written)
    console.print(", ".join(f"{name}: {n} keys" for name, n in written.items()))
    return 0


def _check(args: argparse.Namespace) -> int:
    from migration.cache.check import check
    from migration.cache.clients import connect

    findings = check(connect(args.redis, args.cluster))
    EventLog(args.workdir / "cache" / "events.jsonl").emit("cache-checked", findings=[asdict(f) for f in findings])
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        for f in findings:
            verdict = "ok" if f.ok else ("FAILS" if f.kind == "platform operation" else "BREAKS in cluster mode")
            print(f"{f.kind:18} {f.operation:32} {verdict:24} {f.detail}")
    return 0 if all(f.ok for f in findings if f.kind == "platform operation") else 1
