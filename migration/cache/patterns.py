"""The declarative key description (patterns.toml): the platform's Redis keys, and what the rebuild writes."""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DEFAULT = Path(__file__).with_name("patterns.toml")
Value = Literal["row", "rows", "count"]


@dataclass(frozen=True)
class KeyPattern:
    name: str
    key: str  # a str.format template over the query's columns, e.g. "user:{id}"
    query: str
    ttl_seconds: int
    value: Value

    @property
    def fields(self) -> set[str]:
        return {field for _, field, _, _ in string.Formatter().parse(self.key) if field}


@dataclass(frozen=True)
class PlatformKey:
    shape: str  # as the platform writes it, e.g. "subscriptions:<userId>"
    holds: str
    rebuilt: str  # the name of the pattern that rebuilds it, or why it is not rebuilt ("no: ...")

    def matches(self, key: str) -> bool:
        placeholder = re.sub(r"<[^>]+>", "\0", self.shape)
        return re.fullmatch(".+".join(re.escape(part) for part in placeholder.split("\0")), key) is not None


def load(path: Path = DEFAULT) -> list[KeyPattern]:
    return [KeyPattern(**entry) for entry in tomllib.loads(path.read_text())["pattern"]]


def platform_keys(path: Path = DEFAULT) -> list[PlatformKey]:
    return [PlatformKey(**entry) for entry in tomllib.loads(path.read_text())["key"]]
