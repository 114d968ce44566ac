"""The platform's database as production holds it: its three Prisma migrations, verbatim (applied in this order
by `prisma migrate deploy`, from the platform repository at 7056936), and the `_prisma_migrations` table that
Prisma creates beside them. The fixture (migration/fixture.py) builds the real schema from these.

Each migration is kept as Prisma keeps it, `<timestamp>_<name>/migration.sql` byte for byte (trailing spaces
included), so this folder diffs cleanly against the platform's `prisma/migrations/`."""

from importlib import resources

PRISMA_MIGRATIONS_TABLE = """
CREATE TABLE "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
);
"""


def _migrations() -> tuple[tuple[str, str], ...]:
    """(name, script) per migration folder, in the order Prisma applies them: by folder name."""
    folders = sorted(
        (folder for folder in resources.files(__name__).iterdir() if folder.joinpath("migration.sql").is_file()),
        key=lambda folder: folder.name,
    )
    return tuple((folder.name, folder.joinpath("migration.sql").read_text(encoding="utf-8")) for folder in folders)


MIGRATIONS: tuple[tuple[str, str], ...] = _migrations()
