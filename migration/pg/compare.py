"""Compare two databases without a run: schema first (drift is one clear error), then every chunk's checksum."""

from __future__ import annotations

from dataclasses import dataclass

from migration.pg import catalog
from migration.pg.chunks import plan
from migration.pg.connect import connect
from migration.pg.verify import TableResult, verify


@dataclass
class Comparison:
    schema_differences: list[str]
    sequence_differences: list[str]
    tables: list[TableResult]

    @property
    def ok(self) -> bool:
        return not self.schema_differences and not self.sequence_differences and all(t.ok for t in self.tables)


def compare(source_dsn: str, target_dsn: str, workers: int = 4, chunk_rows: int = 50_000) -> Comparison:
    with connect(source_dsn, role="source", read_only=True, autocommit=True) as source, connect(target_dsn, role="target", autocommit=True) as target:
        mine, theirs = catalog.schema_description(source), catalog.schema_description(target)
        catalog.require_same_tables(mine, theirs)
        chunks = [c for t in catalog.user_tables(source) for c in plan(source, t, chunk_rows)]
        sequences = catalog.sequence_differences(catalog.sequences(source), catalog.sequences(target))
    return Comparison(catalog.schema_differences(mine, theirs), sequences, verify(source_dsn, target_dsn, chunks, workers))
