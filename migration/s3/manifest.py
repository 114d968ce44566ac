"""The copy manifest: a header line naming the copy, then one JSON line per object version copied.

It is the provenance record (which source version each target version holds, its SHA-256, how it was copied):
the objects themselves carry exactly the source's metadata and nothing of ours. Entries are written in
batches (group commit: one write and one fsync per batch, not per object); a crash loses at most the last
unflushed batch, and the copy's resume finds those versions on the target instead of writing them twice
(`migration.s3.copy.reconcile`)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from migration.errors import MigrationError

FLUSH_ENTRIES = 512  # entries per write + fsync
FLUSH_SECONDS = 1.0  # or sooner, so a slow copy still records its progress


class Manifest:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._flushed_at = time.monotonic()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
            with open(path, "a") as manifest:  # end a line cut short by a crash, so the next entry starts clean
                manifest.write("\n")

    def start(self, header: dict) -> None:
        """Write the header of a new copy, or check that this manifest belongs to the same copy."""
        found = self.header()
        if found is None:
            self._append([json.dumps({"manifest": header}, sort_keys=True) + "\n"])
        elif found != header:
            raise MigrationError(f"manifest {self.path} belongs to another copy ({found}); use another name")

    def header(self) -> dict | None:
        for line in self._lines():
            return line.get("manifest")
        return None

    def entries(self) -> dict[tuple[str, str | None], dict]:
        """{(key, source version): entry}; a line cut short by a crash is ignored (its version is found again)."""
        return {(line["key"], line["source_version"]): line for line in self._lines() if "key" in line}

    def record(self, entry: dict) -> None:
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self._lock:
            self._pending.append(line)
            if len(self._pending) >= FLUSH_ENTRIES or time.monotonic() - self._flushed_at >= FLUSH_SECONDS:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._pending:
            self._append(self._pending)
            self._pending = []
        self._flushed_at = time.monotonic()

    def _append(self, lines: list[str]) -> None:
        with open(self.path, "a") as manifest:
            manifest.write("".join(lines))
            manifest.flush()
            os.fsync(manifest.fileno())

    def _lines(self) -> list[dict]:
        if not self.path.exists():
            return []
        found = []
        for text in self.path.read_text().splitlines():
            try:
                found.append(json.loads(text))
            except json.JSONDecodeError:
                continue
        return found
