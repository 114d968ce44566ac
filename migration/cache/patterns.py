"""The declarative key-pattern description (patterns.toml): prefixes, values from PostgreSQL, TTLs."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT = Path(__file__).with_name("patterns.toml")


@dataclass(frozen=True)
class KeyPattern:
    name: str
    key: str  # a str.format template over the query's columns, e.g. "user:{id}"
    query: str
    ttl_seconds: int


def load(path: Path = DEFAULT) -> list[KeyPattern]:
    return [KeyPattern(**entry) for entry in tomllib.loads(path.read_text())["pattern"]]
