"""Independent checks for the tests: they do not reuse the tool's chunking or checksums."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]


def fingerprint(dsn: str) -> dict[str, tuple[int, str]]:
    """{table: (rows, md5 of all row texts sorted)} for every user table: equal fingerprints = equal contents."""
    with psycopg.connect(dsn, options="-c TimeZone=UTC -c extra_float_digits=3") as conn:
        tables = conn.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        return {
            t: tuple(conn.execute(f"SELECT count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) FROM {t} r").fetchone())
            for (t,) in tables
        }


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m migration …` as the operator would."""
    return subprocess.run([sys.executable, "-m", "migration", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def start_cli(*args: str) -> subprocess.Popen:
    """Start `python -m migration …` in its own process group, so a SIGKILL reaches it and its children."""
    return subprocess.Popen([sys.executable, "-m", "migration", *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, "PYTHONPATH": str(REPO)})
