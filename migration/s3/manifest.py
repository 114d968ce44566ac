"""The copy manifest: one JSON line per object version copied, fsynced, so a copy resumes where it stopped and
never copies an object twice."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path


class Manifest:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
            with open(path, "a") as manifest:  # end a line cut short by a crash, so the next entry starts clean
                manifest.write("\n")

    def entries(self) -> dict[tuple[str, str | None], dict]:
        """{(key, source version): entry}; a line cut short by a crash is ignored (its object is copied again)."""
        found = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                found[(entry["key"], entry["source_version"])] = entry
        return found

    def record(self, entry: dict) -> None:
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self._lock, open(self.path, "a") as manifest:
            manifest.write(line)
            manifest.flush()
            os.fsync(manifest.fileno())
