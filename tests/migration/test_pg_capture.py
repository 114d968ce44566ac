"""Change capture against a live source: a writer runs through the whole migration, the follower is SIGKILLed and
resumes, and the cutover freezes writes for a moment, drains and checks what changed."""

from __future__ import annotations

import json
import os
import signal
import time

import psycopg
import pytest
from migration_helpers import Writer, cli, fingerprint, start_cli

from migration.errors import MigrationError
from migration.events import EventLog
from migration.pg import capture
from migration.pg.compare import compare
from migration.pg.run import PgRun

RATE = 200  # writes per second, the rate the issue measures the freeze at


def _source_objects(dsn: str) -> tuple:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            """SELECT (SELECT count(*) FROM pg_publication), (SELECT count(*) FROM pg_replication_slots),
                      (SELECT relreplident FROM pg_class WHERE oid = 'verificationtokens'::regclass)"""
        ).fetchone()


@pytest.mark.requirement("R11.1", "R11.5", "R11.6", "R11.7")
def test_live_writer_loses_nothing_through_a_killed_follower_and_a_frozen_cutover(scratch_source, empty_target, tmp_path):
    writer = Writer(scratch_source, rate=RATE)
    writer.start()
    common = ("--source", scratch_source, "--target", empty_target, "--workdir", str(tmp_path))
    try:
        time.sleep(0.5)
        copied = cli("pg", "run", "live", *common, "--capture-changes", "--replica-identity-full", "--workers", "2", "--chunk-rows", "40")
        assert copied.returncode == 0, copied.stderr

        follower = start_cli("pg", "follow", "live", *common)
        time.sleep(2)
        os.killpg(follower.pid, signal.SIGKILL)  # mid-follow: whatever it had not committed on the target is redone
        follower.wait()
        status = json.loads(cli("pg", "status", "live", "--target", empty_target, "--workdir", str(tmp_path)).stdout)
        assert status["capture"]["changes_applied"] > 0 and status["capture"]["lag_bytes"] >= 0

        follower = start_cli("pg", "follow", "live", *common)
        time.sleep(1.5)
        cut = cli("pg", "run", "live", *common, "--until", "cutover", "--freeze")
        assert cut.returncode == 0, cut.stderr
        assert follower.wait(timeout=30) == 0  # the cutover asked it to stop
        time.sleep(0.3)
    finally:
        writer.stop()

    written = len(writer.acknowledged)
    assert written > 5 * RATE * 0.5 and writer.refused > 0, (written, writer.refused)  # writes ran throughout, then were refused
    assert writer.missing_on(empty_target) == []  # every acknowledged write is on the target
    result = compare(scratch_source, empty_target, workers=2, chunk_rows=40)
    assert result.ok, (result.schema_differences, result.sequence_differences, [t for t in result.tables if not t.ok])

    report = json.loads((tmp_path / "live" / "report.json").read_text())
    assert report["phases"]["cutover"]["status"] == "done"
    cutover = next(e for e in EventLog(tmp_path / "live" / "events.jsonl").read() if e["event"] == "cutover")
    assert 0 < cutover["freeze_seconds"] < 30 and cutover["changes_after_freeze"] == 0
    print(f"cutover {cutover} with a writer at {RATE}/s; {written} writes acknowledged, {writer.refused} refused")
    assert _source_objects(scratch_source) == (0, 0, "d")  # publication, slot and REPLICA IDENTITY FULL undone
    with psycopg.connect(scratch_source) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("DELETE FROM comments")  # the old primary takes no more writes


@pytest.mark.requirement("R11.1", "R11.5")
def test_a_crash_between_target_commit_and_slot_advance_applies_nothing_twice(scratch_source, empty_target, tmp_path, monkeypatch):
    run = PgRun("crash", scratch_source, empty_target, tmp_path, workers=2, chunk_rows=40, capture_changes=True,
                replica_identity_full=True, freeze=True)
    run.run(until="verify")
    writer = Writer(scratch_source, rate=RATE)
    writer.start()
    time.sleep(1)
    writer.stop()

    def killed(self: capture.Follower, position: int) -> None:
        raise SystemExit("killed after the target committed, before the slot advanced")

    monkeypatch.setattr(capture.Follower, "advance", killed)
    with pytest.raises(SystemExit):
        run.follow(stop_when_caught_up=True)
    monkeypatch.undo()
    with psycopg.connect(scratch_source) as conn:  # the slot still holds what the target already has
        confirmed = capture.lsn_int(conn.execute("SELECT confirmed_flush_lsn::text FROM pg_replication_slots").fetchone()[0])
        assert confirmed < capture.lsn_int(run.status()["capture"]["applied_lsn"])
    assert run.follow(stop_when_caught_up=True) == 0  # every transaction skipped: a second insert would have failed

    # The cutover checks the rows the changes touched: a touched row altered on the target is named, nothing is cut over.
    key = next(key for table, key, _ in writer.acknowledged if table == "messages")
    with psycopg.connect(empty_target, autocommit=True) as conn:
        conn.execute("UPDATE messages SET content = 'tampered' WHERE id = %s", (key,))
    with pytest.raises(MigrationError, match=rf"cutover verification failed: public.messages: .*altered {key}"):
        run.run(until="cutover")
    with psycopg.connect(empty_target, autocommit=True) as conn, psycopg.connect(scratch_source, autocommit=True) as source:
        source.execute("UPDATE users SET bio = bio WHERE false")  # the failed cutover lifted its freeze: the source takes writes
        conn.execute("UPDATE messages SET content = %s WHERE id = %s", (source.execute("SELECT content FROM messages WHERE id = %s", (key,)).fetchone()[0], key))
    run.run(until="cutover")
    assert writer.missing_on(empty_target) == []
    assert compare(scratch_source, empty_target, workers=2, chunk_rows=40).ok


def _kill_when(process, events_path, event: str, phase: str | None = None, timeout: float = 60) -> bool:
    """SIGKILL the run as soon as its event log shows `event` (for `phase`); False if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any(e["event"] == event and e.get("phase", phase) == phase for e in EventLog(events_path).read()):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.005)
    return False


@pytest.mark.requirement("R11.1", "R11.5")
def test_capture_runs_killed_in_the_copy_and_in_the_verification_resume(scratch_source, empty_target, tmp_path):
    """A copy killed midway starts over from a new slot and snapshot (the old snapshot died with it); a
    verification killed midway takes a new consistent point; nothing is lost either way."""
    writer = Writer(scratch_source, rate=RATE)
    writer.start()
    common = ("--source", scratch_source, "--target", empty_target, "--workdir", str(tmp_path), "--workers", "2", "--chunk-rows", "40")
    events = tmp_path / "killed" / "events.jsonl"
    try:
        copy = start_cli("pg", "run", "killed", *common, "--capture-changes", "--replica-identity-full")
        assert _kill_when(copy, events, "chunk-copied")
        verify = start_cli("pg", "run", "killed", *common)
        assert _kill_when(verify, events, "phase-start", phase="verify")
        assert cli("pg", "run", "killed", *common).returncode == 0
        cut = cli("pg", "run", "killed", *common, "--until", "cutover", "--freeze")
        assert cut.returncode == 0, cut.stderr
    finally:
        writer.stop()
    assert [e["event"] for e in EventLog(events).read()].count("copy-restarted") == 1
    assert writer.missing_on(empty_target) == []
    assert compare(scratch_source, empty_target, workers=2, chunk_rows=40).ok
    assert _source_objects(scratch_source) == (0, 0, "d")


@pytest.mark.requirement("R11.5")
def test_rollback_of_a_capture_run_removes_what_it_made_on_the_source(scratch_source, empty_target, tmp_path):
    PgRun("undo", scratch_source, empty_target, tmp_path, workers=2, chunk_rows=40, capture_changes=True,
          replica_identity_full=True).run(until="verify")
    assert _source_objects(scratch_source) == (1, 1, "f")
    without_source = cli("pg", "rollback", "undo", "--target", empty_target, "--workdir", str(tmp_path))
    assert without_source.returncode == 2 and "pass --source so that its slot migration_undo_" in without_source.stderr
    rolled = cli("pg", "rollback", "undo", "--target", empty_target, "--source", scratch_source, "--workdir", str(tmp_path))
    assert rolled.returncode == 0, rolled.stderr
    assert _source_objects(scratch_source) == (0, 0, "d") and fingerprint(empty_target) == {}


def test_the_wal_end_never_waits_for_an_empty_page_header():
    """pg_current_wal_insert_lsn() points past the header of a page nothing is written on yet; that position is
    flushed only when another record comes, so the cutover (source frozen) would wait for ever."""

    class At:
        def __init__(self, lsn: str):
            self.row = (lsn, 8192, 16 * 1024 * 1024)

        def execute(self, query: str) -> At:
            return self

        def fetchone(self) -> tuple:
            return self.row

    assert capture.wal_insert_end(At("0/1A2000")) == 0x1A2000  # a record ended exactly on the page boundary
    assert capture.wal_insert_end(At("0/1A2018")) == 0x1A2000  # + a short page header (24 bytes)
    assert capture.wal_insert_end(At("0/3000028")) == 0x3000000  # + a segment's long header (40 bytes)
    assert capture.wal_insert_end(At("0/1A2020")) == 0x1A2020  # a record's continuation ends on this page
