"""Progress for the operator: rich progress bars on a terminal and a JSON-lines event log (R11.6)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

console = Console(stderr=True)


class EventLog:
    """Appends one JSON object per line; every line is flushed so a crash loses nothing already logged."""

    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)

    def emit(self, event: str, **fields: Any) -> None:
        if not self.path:
            return
        line = json.dumps({"ts": round(time.time(), 3), "event": event, "pid": os.getpid(), **fields}, default=str)
        with self._lock, open(self.path, "a") as log:
            log.write(line + "\n")

    def read(self) -> list[dict]:
        if not self.path or not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]


@contextmanager
def progress_bar(description: str, total: int, unit: str = "rows") -> Iterator[Callable[[int], None]]:
    """A progress bar with rate and time remaining; silent when stderr is not a terminal."""
    speed = TransferSpeedColumn() if unit == "bytes" else TextColumn("{task.fields[rate]}")
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn() if unit != "bytes" else TaskProgressColumn(), speed, TimeRemainingColumn()]
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task(description, total=total, rate="")
        started = time.monotonic()

        def advance(amount: int) -> None:
            progress.advance(task, amount)
            done = progress.tasks[0].completed
            progress.update(task, rate=f"{done / max(time.monotonic() - started, 1e-6):,.0f} {unit}/s")

        yield advance
