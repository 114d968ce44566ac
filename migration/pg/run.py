"""A named PostgreSQL migration run: phases schema → data → verify → cutover → post-checks, resumable and
reversible before cutover (R11.1, R11.5, R11.6, R11.7, R2.2)."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from migration import report
from migration.errors import MigrationError
from migration.events import EventLog, progress_bar
from migration.pg import catalog, schema, state
from migration.pg.catalog import STATE_SCHEMA
from migration.pg.chunks import Chunk, plan
from migration.pg.connect import connect, describe, scalar
from migration.pg.copy import copy_all
from migration.pg.verify import TableResult, verify


class PgRun:
    def __init__(self, name: str, source_dsn: str, target_dsn: str, workdir: Path, workers: int = 4, chunk_rows: int = 50_000):
        self.name, self.source_dsn, self.target_dsn = name, source_dsn, target_dsn
        self.workers, self.chunk_rows = workers, chunk_rows
        self.directory = workdir / name
        self.events = EventLog(self.directory / "events.jsonl")
        self.app = f"migration:{name}"

    # -- entry points -------------------------------------------------------------------------------------------

    def run(self, until: str = "verify") -> dict:
        """Run (or resume) every phase not yet done, up to and including `until`."""
        phases = state.PHASES[: state.PHASES.index(until) + 1]
        with self._target() as target, self._source() as source:
            self._stop_previous_attempt(target)
            state.ensure(target)
            if not state.exists(target, self.name):
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
            return {"phases": state.phase_status(target, self.name), "tables": state.chunk_progress(target, self.name)}

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
            self._stop_previous_attempt(target)
            with target.transaction():
                for (name,) in target.execute(
                    f"SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', '{STATE_SCHEMA}')"
                    " AND nspname NOT LIKE 'pg\\_%'"
                ).fetchall():
                    target.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
                target.execute("CREATE SCHEMA public")
                target.execute(f"DELETE FROM {STATE_SCHEMA}.runs WHERE run = %s", (self.name,))
                if not target.execute(f"SELECT 1 FROM {STATE_SCHEMA}.runs LIMIT 1").fetchone():
                    target.execute(f"DROP SCHEMA {STATE_SCHEMA} CASCADE")
            self.events.emit("rolled-back", run=self.name)

    # -- phases ---------------------------------------------------------------------------------------------------

    def _begin(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        existing = [t.qualified for t in catalog.user_tables(target)]
        if existing:
            raise MigrationError(
                f"target {describe(self.target_dsn)} is not empty ({len(existing)} tables, e.g. {existing[0]}); migrate into an empty database"
            )
        collations = [scalar(c, "SELECT datcollate FROM pg_database WHERE datname = current_database()") for c in (source, target)]
        if collations[0] != collations[1]:
            raise MigrationError(f"collation differs: source {collations[0]}, target {collations[1]}; key order (chunks) would differ")
        archive = schema.dump_schema(self.source_dsn)
        with target.transaction():
            state.create_run(target, self.name, describe(self.source_dsn), archive)
        self.events.emit("run-created", run=self.name, source=describe(self.source_dsn), target=describe(self.target_dsn))

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
        self.events.emit("data-plan", run=self.name, chunks=len(chunks), pending=len(pending))
        source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with source.transaction(), progress_bar(f"{self.name}: copy", total=len(chunks), unit="chunks") as advance:
            # held open while copying: every stream reads this one snapshot of the source
            snapshot = scalar(source, "SELECT pg_export_snapshot()")
            advance(len(chunks) - len(pending))

            def copied(chunk: Chunk, rows: int) -> None:
                self.events.emit("chunk-copied", run=self.name, table=chunk.table.qualified, chunk=chunk.number, rows=rows)
                advance(1)

            copy_all(self.source_dsn, self.target_dsn, self.name, pending, self.workers, snapshot, copied)
        source.isolation_level = None
        self._sync_sequences(source, target)
        script = schema.section_sql(state.schema_archive(target, self.name), "post-data")
        with target.transaction():  # constraints and indexes after the data, atomically with the phase marker
            schema.apply(target, script)
            progress = state.chunk_progress(target, self.name)
            state.mark(target, self.name, "data", "done", {"rows": sum(r for _, _, r in progress.values()), "chunks": len(chunks)})
        self.events.emit("post-data-applied", run=self.name)

    def _verify(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        self._milestone("verify", source, target)

    def _cutover(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        """Writes are frozen on the source by the operator (runbook); bring sequences over and prove equality once more."""
        self._sync_sequences(source, target)
        self._milestone("cutover", source, target)

    def _post_checks(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        target.execute("ANALYZE")
        behind = [
            name for name, (value, _) in catalog.sequences(source).items() if catalog.sequences(target).get(name, (0, False))[0] < value
        ]
        self._milestone("post-checks", source, target, extra={"sequences_behind": behind})

    # -- helpers --------------------------------------------------------------------------------------------------

    def _milestone(self, phase: str, source: psycopg.Connection, target: psycopg.Connection, extra: dict | None = None) -> None:
        """Integrity test run at every milestone (R11.7): schema identical, every chunk identical."""
        differences = catalog.schema_differences(catalog.schema_description(source), catalog.schema_description(target))
        results = verify(self.source_dsn, self.target_dsn, self._chunks(source, target), self.workers, app=self.app)
        failed = [r for r in results if not r.ok]
        problems = differences + [f"{r.table}: {_summary(r)}" for r in failed] + [f"sequence {s} behind the source" for s in (extra or {}).get("sequences_behind", [])]
        detail = {"schema_differences": differences, "tables": [asdict(r) | {"ok": r.ok} for r in results], **(extra or {})}
        with target.transaction():
            state.mark(target, self.name, phase, "failed" if problems else "done", detail)
        self.events.emit("verified", run=self.name, phase=phase, tables=len(results), failed=len(failed), schema_differences=len(differences))
        if problems:
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

    def _sync_sequences(self, source: psycopg.Connection, target: psycopg.Connection) -> None:
        values = catalog.sequences(source)
        with target.transaction():
            for name, (value, called) in values.items():
                target.execute("SELECT setval(%s::regclass, %s, %s)", (name, value, called))

    def _stop_previous_attempt(self, target: psycopg.Connection) -> None:
        """A killed attempt's server sessions may still be finishing; end them so nothing races this attempt."""
        target.execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()",
            (self.app,),
        )

    # Autocommit, so that every `with conn.transaction()` below is a real transaction, never a savepoint.
    def _source(self) -> psycopg.Connection:
        return connect(self.source_dsn, role="source", read_only=True, app=self.app, autocommit=True)

    def _target(self) -> psycopg.Connection:
        return connect(self.target_dsn, role="target", app=self.app, autocommit=True)

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
