"""A named PostgreSQL migration run: phases schema → data → verify → cutover → post-checks, resumable and
reversible before cutover (R11.1, R11.5, R11.6, R11.7, R2.2)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import NoReturn

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from migration import report
from migration.errors import MigrationError
from migration.events import EventLog, progress_bar
from migration.pg import capture, catalog, schema, state
from migration.pg.catalog import STATE_SCHEMA, Table
from migration.pg.chunks import Chunk, plan
from migration.pg.connect import connect, describe, scalar
from migration.pg.copy import copy_all
from migration.pg.verify import TableResult, compare_rows, observe_rows, verify


class PgRun:
    def __init__(self, name: str, source_dsn: str, target_dsn: str, workdir: Path, workers: int = 4, chunk_rows: int = 50_000,
                 capture_changes: bool = False, replica_identity_full: bool = False, freeze: bool = False):
        self.name, self.source_dsn, self.target_dsn = name, source_dsn, target_dsn
        self.workers, self.chunk_rows = workers, chunk_rows
        # change capture (decided when the run is created); REPLICA IDENTITY FULL on keyless tables; the tool
        # freezes the source's writes at cutover (else the operator has, per the runbook)
        self.capture_changes, self.replica_identity_full, self.freeze = capture_changes, replica_identity_full, freeze
        self.directory = workdir / name
        self.events = EventLog(self.directory / "events.jsonl")
        self.app = f"migration:{name}"

    # -- entry points -------------------------------------------------------------------------------------------

    def run(self, until: str = "verify") -> dict:
        """Run (or resume) every phase not yet done, up to and including `until`."""
        phases = state.PHASES[: state.PHASES.index(until) + 1]
        with self._target() as target, self._source() as source:
            resuming = state.exists(target, self.name)
            self._refuse_same_database(source, target)
            if not resuming:
                self._refuse_unusable_target(source, target)  # every refusal comes before the first write
            self._stop_previous_attempt(target, source)
            if not resuming:
                self._begin(source, target)
            done = {p for p, s in state.phase_status(target, self.name).items() if s["status"] == "done"}
            for phase in phases:
                if phase in done:
                    continue
                if phase == "cutover" and "verify" not in done:
                    raise MigrationError(f"run {self.name}: cutover needs a passing verify phase first")
                self.events.emit("phase-start", run=self.name, phase=phase)
                started = time.monotonic()
                getattr(self, "_" + phase.replace("-", "_"))(source, target)
                done.add(phase)
                self.events.emit("phase-done", run=self.name, phase=phase, seconds=round(time.monotonic() - started, 3))
            self.write_report(target)
            return state.phase_status(target, self.name)

    def status(self) -> dict:
        with self._target() as target:
            if not state.exists(target, self.name):
                raise MigrationError(f"no run named {self.name} on target {describe(self.target_dsn)}")
            status = {"phases": state.phase_status(target, self.name), "tables": state.chunk_progress(target, self.name)}
            captured = state.capture(target, self.name)
            if captured:  # lag: source WAL position at the follower's last poll minus what the target has applied
                status["capture"] = captured
            return status

    def rollback(self) -> None:
        """Before cutover: empty the target again (the source was never written). After: refuse, naming the reverse path."""
        with self._target() as target:
            if not state.exists(target, self.name):
                raise MigrationError(f"no run named {self.name} on target {describe(self.target_dsn)}")
            if state.phase_status(target, self.name).get("cutover", {}).get("status") == "done":
                raise MigrationError(
                    f"run {self.name} is past cutover; roll back with the reverse run in docs/runbooks/rollback.md"
                    " (new primary as --source, an empty database on the old side as --target)"
                )
            captured = state.capture(target, self.name)
            if captured and not self.source_dsn:
                raise MigrationError(
                    f"run {self.name} captures changes: pass --source so that its slot {captured['slot']} and publication are removed"
                )
            self._stop_previous_attempt(target)
            if captured:
                with capture.source_admin(self.source_dsn, self.app) as admin:
                    capture.drop(admin, captured["slot"], captured["publication"], captured["identity_full"])
            with target.transaction():
                for (name,) in target.execute(
                    f"SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', '{STATE_SCHEMA}')"
                    " AND nspname NOT LIKE 'pg\\_%'"
                ).fetchall():
                    target.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
                for before in state.target_schemas(target, self.name):
                    _recreate_schema(target, before)
                target.execute(f"DELETE FROM {STATE_SCHEMA}.runs WHERE run = %s", (self.name,))
                if not target.execute(f"SELECT 1 FROM {STATE_SCHEMA}.runs LIMIT 1").fetchone():
                    target.execute(f"DROP SCHEMA {STATE_SCHEMA} CASCADE")
            self.events.emit("rolled-back", run=self.name)

    # -- phases ---------------------------------------------------------------------------------------------------

    def _refuse_same_database(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        identity = "SELECT pg_postmaster_start_time(), inet_server_port(), (SELECT oid FROM pg_database WHERE datname = current_database())"
        if source.execute(identity).fetchone() == target.execute(identity).fetchone():
            raise MigrationError(f"source and target are the same database ({describe(self.target_dsn)}); migrate into another, empty database")

    def _refuse_unusable_target(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        """Read-only checks of a new run: nothing is written anywhere until they all pass."""
        existing = [t.qualified for t in catalog.user_tables(target)]
        if existing:
            raise MigrationError(
                f"target {describe(self.target_dsn)} is not empty ({len(existing)} tables, e.g. {existing[0]}); migrate into an empty database"
            )
        collations = [scalar(c, "SELECT datcollate FROM pg_database WHERE datname = current_database()") for c in (source, target)]
        if collations[0] != collations[1]:
            raise MigrationError(f"collation differs: source {collations[0]}, target {collations[1]}; key order (chunks) would differ")
        if self.capture_changes:
            if scalar(source, "SHOW wal_level") != "logical":
                raise MigrationError("change capture needs wal_level = logical on the source (RDS/Aurora: rds.logical_replication = 1)")
            without_key = capture.keyless(catalog.user_tables(source))
            if without_key and not self.replica_identity_full:
                raise MigrationError(
                    f"tables without a primary key cannot be followed: {', '.join(without_key)}; pass --replica-identity-full to set"
                    " REPLICA IDENTITY FULL on them (a change to the source's catalog, undone at cleanup), or run without --capture-changes"
                )

    def _begin(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        archive = schema.dump_schema(self.source_dsn)
        before = _schemas(target)  # owner, ACL and comment, for rollback
        state.ensure(target)
        with target.transaction():
            state.create_run(target, self.name, describe(self.source_dsn), archive, before)
            if self.capture_changes:
                slot, publication = capture.names(self.name)
                target.execute(
                    f"INSERT INTO {STATE_SCHEMA}.capture (run, slot, publication, identity_full) VALUES (%s, %s, %s, %s)",
                    (self.name, slot, publication, Jsonb(capture.keyless(catalog.user_tables(source)))),
                )
        self.events.emit("run-created", run=self.name, source=describe(self.source_dsn), target=describe(self.target_dsn),
                         capture_changes=self.capture_changes)

    def _schema(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        script = schema.section_sql(state.schema_archive(target, self.name), "pre-data")
        with target.transaction():
            schema.apply(target, script)
            state.mark(target, self.name, "schema", "done", {"tables_created": len(catalog.user_tables(target))})

    def _data(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        with target.transaction():
            state.mark(target, self.name, "data", "running")
        chunks = self._chunks(source, target)
        pending = [c for c in chunks if c.number not in self._copied(target).get(c.table.qualified, set())]
        captured = state.capture(target, self.name)
        if captured and pending and len(pending) < len(chunks):
            # The interrupted copy read a snapshot that died with its process: the rows already copied and the
            # slot's start would no longer match, so the copy starts over from a new slot and snapshot.
            self._restart_copy(target, chunks)
            pending = chunks
        self.events.emit("data-plan", run=self.name, chunks=len(chunks), pending=len(pending))
        with self._copy_snapshot(source, target, captured if pending else None) as snapshot, \
                progress_bar(f"{self.name}: copy", total=len(chunks), unit="chunks") as advance:
            advance(len(chunks) - len(pending))

            def copied(chunk: Chunk, rows: int) -> None:
                self.events.emit("chunk-copied", run=self.name, table=chunk.table.qualified, chunk=chunk.number, rows=rows)
                advance(1)

            copy_all(self.source_dsn, self.target_dsn, self.name, pending, self.workers, snapshot, copied)
        catalog.set_sequences(source, target)
        self._post_data(target)
        with target.transaction():
            progress = state.chunk_progress(target, self.name)
            state.mark(target, self.name, "data", "done", {"rows": sum(r for _, _, r in progress.values()), "chunks": len(chunks)})

    def _post_data(self, target: psycopg.Connection) -> None:
        """Keys, indexes and foreign keys after the data, in stages: indexes and keys in parallel, foreign keys added
        without validation, then validated in parallel, then anything else (triggers, ...) in order."""
        preamble, steps = schema.post_data_steps(schema.section_sql(state.schema_archive(target, self.name), "post-data"))
        done = {step for (step,) in target.execute(f"SELECT step FROM {STATE_SCHEMA}.post_data WHERE run = %s", (self.name,))}
        for stage in (1, 2, 3, 4):
            todo = [s for s in steps if s.stage == stage and s.key not in done]
            schema.apply_steps(self.target_dsn, self.name, preamble, todo, self.workers if stage in (1, 3) else 1, self.app)
        self.events.emit("post-data-applied", run=self.name, steps=len(steps))

    @contextmanager
    def _copy_snapshot(self, source: psycopg.Connection, target: psycopg.Connection, captured: dict | None) -> Iterator[str | None]:
        """The one source snapshot every copy stream reads, held open while copying. With change capture it is the
        snapshot of the slot, created (after the publication) at that very moment: the slot then holds every
        change the copy does not."""
        if not captured:
            source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with source.transaction():
                yield scalar(source, "SELECT pg_export_snapshot()")
            source.isolation_level = None
            return
        with capture.source_admin(self.source_dsn, self.app) as admin:
            capture.drop(admin, captured["slot"], captured["publication"], [])  # a slot left by an interrupted copy
            capture.create_publication(admin, captured["publication"], catalog.user_tables(source), captured["identity_full"])
        with capture.exported_snapshot(self.source_dsn, captured["slot"], False, self.app) as (lsn, snapshot):
            with target.transaction():
                target.execute(f"UPDATE {STATE_SCHEMA}.capture SET consistent_lsn = %s, applied_lsn = %s WHERE run = %s",
                               (lsn, lsn, self.name))
            self.events.emit("slot-created", run=self.name, slot=captured["slot"], consistent_lsn=lsn)
            yield snapshot

    def _restart_copy(self, target: psycopg.Connection, chunks: list[Chunk]) -> None:
        with target.transaction():
            for table in {c.table.qualified: c.table for c in chunks}.values():
                target.execute(sql.SQL("TRUNCATE {}").format(table.ident))
            target.execute(f"UPDATE {STATE_SCHEMA}.chunks SET copied_at = NULL, rows = NULL WHERE run = %s", (self.name,))
        self.events.emit("copy-restarted", run=self.name, reason="the snapshot of the interrupted copy is gone")

    def _verify(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        captured = state.capture(target, self.name)
        if not captured:
            self._milestone("verify", source, target)
            return
        # The source keeps changing: take a new consistent point (a temporary slot's snapshot), apply the captured
        # changes up to exactly that point, and compare the target with the source as of that snapshot.
        with self._follower(source, target, captured) as follower, \
                capture.exported_snapshot(self.source_dsn, f"{captured['slot']}_v{os.getpid():x}", True, self.app) as (lsn, snapshot):
            applied = follower.drain(capture.lsn_int(lsn))
            self.events.emit("caught-up", run=self.name, phase="verify", lsn=lsn, changes=applied)
            self._milestone("verify", source, target, snapshot=snapshot)
            with target.transaction():  # every row is verified as of this point: start the list of changed rows anew
                target.execute(f"DELETE FROM {STATE_SCHEMA}.touched WHERE run = %s", (self.name,))
        # Before the freeze, not during it: statistics and the visibility map, so the cutover's counts and key
        # look-ups are quick (autovacuum would get there too, later).
        target.execute("VACUUM (ANALYZE)")

    def follow(self, stop_when_caught_up: bool = False, poll_seconds: float = 0.2) -> int:
        """Apply the source's changes until asked to stop (cutover, Ctrl-C) or, optionally, once caught up.
        Its sessions have their own name: a resumed `pg run` ends a killed attempt's sessions, not a follower's."""
        with self._target(self.app + ":follow") as target, self._source(self.app + ":follow") as source:
            captured = state.capture(target, self.name)
            done = {p for p, s in state.phase_status(target, self.name).items() if s["status"] == "done"}
            if not captured or "data" not in done:
                raise MigrationError(f"run {self.name} has no change capture to follow (run it with --capture-changes, through the data phase)")
            if "cutover" in done:
                raise MigrationError(f"run {self.name} is past cutover: nothing to follow")
            if not scalar(target, "SELECT pg_try_advisory_lock(hashtext(%s))", (self._follow_key,)):
                raise MigrationError(f"run {self.name} is already being followed (or cut over) by another process")
            follower = capture.Follower(source, target, self.name, captured["slot"], captured["publication"])
            total = 0
            self.events.emit("follow-start", run=self.name)
            try:
                while not scalar(target, f"SELECT stop_requested FROM {STATE_SCHEMA}.capture WHERE run = %s", (self.name,)):
                    applied, caught_up = follower.step()
                    total += applied
                    if applied:
                        self.events.emit("changes-applied", run=self.name, changes=applied)
                    if caught_up:
                        if stop_when_caught_up:
                            break
                        time.sleep(poll_seconds)
            except KeyboardInterrupt:
                pass
            self.events.emit("follow-stop", run=self.name, changes=total)
            return total

    @contextmanager
    def _follower(self, source: psycopg.Connection, target: psycopg.Connection, captured: dict) -> Iterator[capture.Follower]:
        """Exclusive use of the slot: a running `pg follow` is asked to stop, and waited for."""
        with target.transaction():
            target.execute(f"UPDATE {STATE_SCHEMA}.capture SET stop_requested = true WHERE run = %s", (self.name,))
        target.execute("SELECT pg_advisory_lock(hashtext(%s))", (self._follow_key,))
        try:
            with target.transaction():
                target.execute(f"UPDATE {STATE_SCHEMA}.capture SET stop_requested = false WHERE run = %s", (self.name,))
            yield capture.Follower(source, target, self.name, captured["slot"], captured["publication"])
        finally:
            target.execute("SELECT pg_advisory_unlock(hashtext(%s))", (self._follow_key,))

    @property
    def _follow_key(self) -> str:
        return f"migration follow {self.name}"

    def _cutover(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        captured = state.capture(target, self.name)
        if not captured:
            # Writes are frozen on the source by the operator (runbook); bring sequences over, prove equality once more.
            catalog.set_sequences(source, target)
            self._milestone("cutover", source, target)
            return
        with self._follower(source, target, captured) as follower, capture.source_admin(self.source_dsn, self.app) as admin:
            backlog = follower.drain(scalar_lsn(source, "pg_current_wal_lsn()"))  # catch up while writes still flow
            timings: dict[str, float] = {"changes_before_freeze": backlog}
            started = time.monotonic()
            tables = catalog.user_tables(source)
            if self.freeze:  # writers wait on the lock (they do not fail) until the source is made read-only below
                admin.execute("BEGIN")
                admin.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.SQL(", ").join(t.ident for t in tables)))
            timings["lock_seconds"] = round(time.monotonic() - started, 3)
            # Every write acknowledged before the freeze is in the WAL before this position. Decoding reads only
            # flushed WAL: with synchronous_commit = off the WAL writer flushes it within wal_writer_delay.
            end = capture.wal_insert_end(admin)
            while scalar_lsn(admin, "pg_current_wal_flush_lsn()") < end:
                time.sleep(0.005)
            timings["changes_drained"] = follower.drain(end)
            timings["drain_seconds"] = round(time.monotonic() - started - timings["lock_seconds"], 3)
            catalog.set_sequences(source, target)
            checked = time.monotonic()
            problems, detail = self._check_changed(source, target, tables)
            if not self.freeze and follower.step()[0]:
                problems.append("the source was written during the cutover: freeze writes first (runbook), then run cutover again")
            timings["check_seconds"] = round(time.monotonic() - checked, 3)
            if problems:
                if self.freeze:
                    admin.execute("ROLLBACK")  # lift the freeze: the source stays the primary
                self._record_failure("cutover", target, detail | timings, problems)
            if self.freeze:
                self._make_source_read_only(admin, source)
            timings["freeze_seconds"] = round(time.monotonic() - started, 3)
            # Nothing should reach the source now; should anything have, it is carried over and counted here.
            timings["changes_after_freeze"] = follower.drain(capture.wal_insert_end(admin))
            capture.drop(admin, captured["slot"], captured["publication"], captured["identity_full"])
        with target.transaction():
            state.mark(target, self.name, "cutover", "done", detail | timings)
        self.events.emit("cutover", run=self.name, **timings)

    def _check_changed(self, source: psycopg.Connection, target: psycopg.Connection, tables: list[Table]) -> tuple[list[str], dict]:
        """What can have changed since the full verification: rows the applied changes touched, every table's row
        count, sequences and the schema."""
        touched: dict[str, list[list[str]] | None] = {}
        for table, key in target.execute(f"SELECT tbl, key FROM {STATE_SCHEMA}.touched WHERE run = %s", (self.name,)):
            if key is None or touched.get(table, []) is None:
                touched[table] = None
            else:
                touched.setdefault(table, []).append(key)  # type: ignore[union-attr]  # not None: checked above
        def observe(conn: psycopg.Connection) -> tuple[dict, dict, tuple[dict, dict]]:
            return catalog.schema_description(conn), catalog.sequences(conn), observe_rows(conn, tables, touched)

        with ThreadPoolExecutor(2) as pool:  # both sides at once
            mine, theirs = pool.map(observe, (source, target))
        results = compare_rows(tables, mine[2], theirs[2], source, target)
        differences = catalog.schema_differences(mine[0], theirs[0]) + catalog.sequence_differences(mine[1], theirs[1])
        failed = [r for r in results if not r.ok]
        detail = {"schema_differences": differences, "tables": [asdict(r) | {"ok": r.ok} for r in results],
                  "rows_checked": sum(len(k) if k is not None else 0 for k in touched.values()),
                  "tables_checked_whole": sorted(t for t, k in touched.items() if k is None)}
        return differences + [f"{r.table}: {_summary(r)}" for r in failed], detail

    def _make_source_read_only(self, admin: psycopg.Connection, source: psycopg.Connection) -> None:
        """End the freeze for good: the database is made read-only for new sessions (committed at once, from a second
        session, while the lock still holds); every session that started before that (the writers waiting on the
        lock among them) is ended, sweeping until none is left; then the lock is released."""
        database = sql.Identifier(scalar(admin, "SELECT current_database()"))
        with capture.source_admin(self.source_dsn, self.app) as other:
            other.execute(sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(database))
            read_only_since = scalar(other, "SELECT clock_timestamp()")
            ours = [admin.info.backend_pid, source.info.backend_pid, other.info.backend_pid]
            while scalar(other, "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE datname = current_database()"
                         " AND backend_type = 'client backend' AND backend_start < %s AND pid <> ALL(%s)", (read_only_since, ours)):
                pass
        admin.execute("COMMIT")

    def _post_checks(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        target.execute("ANALYZE")
        self._milestone("post-checks", source, target)

    # -- helpers --------------------------------------------------------------------------------------------------

    def _milestone(self, phase: str, source: psycopg.Connection, target: psycopg.Connection, snapshot: str | None = None) -> None:
        """Integrity test run at every milestone (R11.7): schema identical, every chunk identical, sequences equal
        (except against a live source's snapshot: sequences are not transactional, they are set at cutover)."""
        differences = catalog.schema_differences(catalog.schema_description(source), catalog.schema_description(target))
        if not snapshot:
            differences += catalog.sequence_differences(catalog.sequences(source), catalog.sequences(target))
        results = verify(self.source_dsn, self.target_dsn, self._chunks(source, target), self.workers, app=self.app, snapshot=snapshot)
        detail = {"schema_differences": differences, "tables": [asdict(r) | {"ok": r.ok} for r in results]}
        problems = differences + [f"{r.table}: {_summary(r)}" for r in results if not r.ok]
        if problems:
            self._record_failure(phase, target, detail, problems)
        with target.transaction():
            state.mark(target, self.name, phase, "done", detail)
        self.events.emit("verified", run=self.name, phase=phase, tables=len(results), failed=0, schema_differences=0)

    def _record_failure(self, phase: str, target: psycopg.Connection, detail: dict, problems: list[str]) -> NoReturn:
        with target.transaction():
            state.mark(target, self.name, phase, "failed", detail)
        self.events.emit("verified", run=self.name, phase=phase, failed=len(problems), first=problems[0])
        self.write_report(target)
        more = f" (and {len(problems) - 1} more; see {self.directory / 'report.md'})" if len(problems) > 1 else ""
        raise MigrationError(f"{phase} verification failed: {problems[0]}{more}")

    def _chunks(self, source: psycopg.Connection, target: psycopg.Connection) -> list[Chunk]:
        tables = {t.qualified: t for t in catalog.user_tables(source)}
        rows = target.execute(f"SELECT tbl, chunk_no, lower, upper FROM {STATE_SCHEMA}.chunks WHERE run = %s", (self.name,)).fetchall()
        if not rows:  # plan once; the plan is stored so a resumed run uses the same chunks
            planned = [c for t in tables.values() for c in plan(source, t, self.chunk_rows)]
            with target.transaction(), target.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {STATE_SCHEMA}.chunks (run, tbl, chunk_no, lower, upper) VALUES (%s, %s, %s, %s, %s)",
                    [(self.name, c.table.qualified, c.number, Jsonb(c.lower), Jsonb(c.upper)) for c in planned],
                )
            return planned
        return [Chunk(tables[t], n, lo, hi) for t, n, lo, hi in rows]

    def _copied(self, target: psycopg.Connection) -> dict[str, set[int]]:
        copied: dict[str, set[int]] = {}
        for table, number in target.execute(
            f"SELECT tbl, chunk_no FROM {STATE_SCHEMA}.chunks WHERE run = %s AND copied_at IS NOT NULL", (self.name,)
        ):
            copied.setdefault(table, set()).add(number)
        return copied

    def _stop_previous_attempt(self, target: psycopg.Connection, source: psycopg.Connection | None = None) -> None:
        """A killed attempt's target sessions may still be finishing; end them so nothing races this attempt. Only
        in the target database, and never this attempt's own sessions (the source may be on the same server)."""
        own = [target.info.backend_pid] + ([source.info.backend_pid] if source else [])
        target.execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database() AND pid <> ALL(%s)",
            (self.app, own),
        )

    # Autocommit, so that every `with conn.transaction()` below is a real transaction, never a savepoint.
    def _source(self, app: str = "") -> psycopg.Connection:
        return connect(self.source_dsn, role="source", read_only=True, app=app or self.app, autocommit=True)

    def _target(self, app: str = "") -> psycopg.Connection:
        return connect(self.target_dsn, role="target", app=app or self.app, autocommit=True)

    def write_report(self, target: psycopg.Connection) -> tuple[Path, Path]:
        phases = state.phase_status(target, self.name)
        tables = state.chunk_progress(target, self.name)
        verifications = {p: s["detail"] for p, s in phases.items() if "schema_differences" in s["detail"]}
        return report.write(
            self.directory,
            f"PostgreSQL migration {self.name}",
            {
                "run": self.name,
                "source": describe(self.source_dsn),
                "target": describe(self.target_dsn),
                "phases": {
                    p: {"status": s["status"], "started_at": s["started_at"], "finished_at": s["finished_at"],
                        "seconds": (s["finished_at"] - s["started_at"]).total_seconds() if s["finished_at"] and s["started_at"] else None}
                    for p, s in sorted(phases.items(), key=lambda item: state.PHASES.index(item[0]))
                },
                "tables moved": {t: {"chunks": n, "chunks_copied": d, "rows": r} for t, (n, d, r) in tables.items()},
                "verification": [
                    {"milestone": p, "table": t["table"], "ok": t["ok"], "source_rows": t["source_rows"], "target_rows": t["target_rows"],
                     "missing": t["missing"], "extra": t["extra"], "altered": t["altered"]}
                    for p, detail in verifications.items() for t in detail["tables"]
                ],
                "schema differences": [d for detail in verifications.values() for d in detail["schema_differences"]],
            },
        )


def _summary(result: TableResult) -> str:
    parts = [f"{result.source_rows} rows on the source, {result.target_rows} on the target"]
    for label, keys in (("missing", result.missing), ("extra", result.extra), ("altered", result.altered)):
        if keys:
            parts.append(f"{label} {', '.join('/'.join(k) for k in keys[:5])}")
    return "; ".join(parts)


def scalar_lsn(conn: psycopg.Connection, function: str) -> int:
    return capture.lsn_int(scalar(conn, f"SELECT {function}::text"))


def _schemas(conn: psycopg.Connection) -> list[dict]:
    """The target's own schemas (public, usually) before the run: name, owner, each ACL entry, comment."""
    rows = conn.execute(
        f"""SELECT n.nspname, n.nspowner::regrole::text, n.nspacl IS NOT NULL,
                   coalesce((SELECT json_agg(json_build_array(
                        CASE WHEN a.grantee = 0 THEN NULL ELSE a.grantee::regrole::text END, a.grantor::regrole::text,
                        a.privilege_type, a.is_grantable) ORDER BY o.ord)
                     FROM unnest(n.nspacl) WITH ORDINALITY o(item, ord), aclexplode(ARRAY[o.item]) a), '[]'),
                   obj_description(n.oid, 'pg_namespace')
            FROM pg_namespace n
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '{STATE_SCHEMA}') AND n.nspname NOT LIKE 'pg\\_%'
            ORDER BY 1"""
    ).fetchall()
    return [{"name": n, "owner": o, "explicit_acl": e, "grants": g, "comment": c} for n, o, e, g, c in rows]


def _recreate_schema(conn: psycopg.Connection, before: dict) -> None:
    """A schema exactly as it was: owner, ACL entries in their order (with grantor and grant option), comment."""
    name = sql.Identifier(before["name"])
    conn.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(name, sql.Identifier(before["owner"])))
    if before["explicit_acl"]:
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(name, sql.Identifier(before["owner"])))
        for grantee, grantor, privilege, grantable in before["grants"]:
            # the owner's grants are recorded as the owner's even when a superuser makes them; others' need their role
            as_grantor = grantor != before["owner"]
            if as_grantor:
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(grantor)))
            conn.execute(sql.SQL("GRANT {} ON SCHEMA {} TO {}{}").format(
                sql.SQL(privilege), name, sql.Identifier(grantee) if grantee else sql.SQL("PUBLIC"),
                sql.SQL(" WITH GRANT OPTION" if grantable else "")))
            if as_grantor:
                conn.execute("RESET ROLE")
    if before["comment"] is not None:
        conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(name, sql.Literal(before["comment"])))
