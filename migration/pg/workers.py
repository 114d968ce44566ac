"""Parallel work on database sessions: threads that each open their own session and take items until none are
left or one of them fails."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeVar

Item = TypeVar("Item")


def drain(
    pending: list[Item], workers: int, name: str, session: Callable[[], AbstractContextManager[Callable[[Item], None]]],
) -> None:
    """Take items from the end of `pending` on `workers` threads. Each thread opens one `session` (its
    connections) and hands it item after item; the first failure stops every thread from taking more and is
    raised here, once all have stopped."""
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with session() as handle:
                while not failures:
                    with lock:
                        if not pending:
                            return
                        item = pending.pop()
                    handle(item)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, name=f"{name}-{i}") for i in range(max(1, workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
