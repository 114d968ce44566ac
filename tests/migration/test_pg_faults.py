"""Fault trials: the copy is SIGKILLed at random points and resumed; the result must verify identical every time."""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import create_database
from migration_helpers import fingerprint, start_cli

from migration.events import EventLog
from migration.pg.run import PgRun

TRIALS = 20


@pytest.mark.requirement("R11.1", "R11.5", "R11.7")
def test_killed_runs_resume_to_an_identical_copy(platform_db, pg_target_cluster, tmp_path):
    expected = fingerprint(platform_db)
    seed = int(os.environ.get("MIGRATION_FAULT_SEED", time.time()))
    chooser = random.Random(seed)

    # How long an uninterrupted run takes bounds the random kill points.
    started = time.monotonic()
    full = start_cli("pg", "run", "timing", "--source", platform_db, "--target", create_database(pg_target_cluster, "timing"),
                     "--workdir", str(tmp_path), "--workers", "2", "--chunk-rows", "40")
    assert full.wait(timeout=120) == 0
    duration = time.monotonic() - started

    def trial(number: int, delay: float) -> str:
        target = create_database(pg_target_cluster, "trial")
        name = f"trial{number}"
        process = start_cli("pg", "run", name, "--source", platform_db, "--target", target, "--workdir", str(tmp_path),
                            "--workers", "2", "--chunk-rows", "40")
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)  # the whole group: the tool and any pg_dump it started
        process.wait()
        killed_in = _phase_at_kill(EventLog(tmp_path / name / "events.jsonl").read())
        PgRun(name, platform_db, target, tmp_path, workers=2, chunk_rows=40).run(until="verify")  # resume
        assert fingerprint(target) == expected, f"trial {number} (seed {seed}, killed in {killed_in}) differs after resume"
        return killed_in

    # The servers mostly wait on round trips, so trials run side by side to keep the suite short.
    delays = [chooser.uniform(0.05, duration) for _ in range(TRIALS)]
    with ThreadPoolExecutor(4) as pool:
        killed_in = Counter(pool.map(trial, range(TRIALS), delays))
    print(f"seed {seed}: kills landed in {dict(killed_in)}")
    assert sum(killed_in.values()) == TRIALS


def _phase_at_kill(events: list[dict]) -> str:
    phase = "startup"
    for event in events:
        if event["event"] == "phase-start":
            phase = event["phase"]
        elif event["event"] == "phase-done" and event["phase"] == "verify":
            phase = "finished"
    return phase
